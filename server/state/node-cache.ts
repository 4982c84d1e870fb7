/**
 * Tree nodes for the read path, from memory. Nodes never change once
 * stored, so a full tile (256 nodes at level 8L, with the 7 levels above it
 * hashed up: 511 nodes, 16 KiB) is loaded once with one range query and kept
 * in a byte-bounded LRU. Nodes of the partial tiles at the tree's right edge
 * are read from the store once and kept singly in a bounded map. Proofs and
 * hash tiles are then served without a database query. Memory stays bounded
 * whatever the log's size.
 */
import { hashChildren } from "../../client/hash.js";
import { nodeKey, type NodeId } from "../../client/merkle-tree.js";
import { TILE_HEIGHT, TILE_WIDTH } from "../../client/tiles.js";
import type { Store, StoredCheckpoint } from "../store/store.js";

const ROW_START = Array.from({ length: TILE_HEIGHT }, (_, s) => 2 * TILE_WIDTH - ((2 * TILE_WIDTH) >> s)); // 0, 256, 384, …
const TILE_NODES = 2 * TILE_WIDTH - 1;
/** Right-edge nodes kept singly: a few per tree size, so this bounds ~1 MiB. */
const EDGE_NODES = 16_384;

export class NodeCache {
  readonly #store: Pick<Store, "readNodes" | "readNodeRange">;
  readonly #size: () => Promise<StoredCheckpoint | undefined>;
  readonly #maxBytes: number;
  readonly #tiles = new Map<string, Uint8Array>();
  readonly #loading = new Map<string, Promise<Uint8Array>>();
  /** Single nodes of partial tiles, oldest first. */
  readonly #edge = new Map<string, Uint8Array>();
  #bytes = 0;
  hits = 0;
  loads = 0;
  /**
   * Hashes of ranges that are not one perfect subtree (a proof's right edge, folded from several
   * nodes): the same for every proof at a tree size, and never changing. Bounded; cleared when full.
   */
  readonly ranges = new Map<string, Uint8Array>();

  /** `head` gives the latest committed checkpoint: only tiles it covers in full are cached. */
  constructor(store: Pick<Store, "readNodes" | "readNodeRange">, head: () => Promise<StoredCheckpoint | undefined>, maxBytes = 64 << 20) {
    this.#store = store;
    this.#size = head;
    this.#maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The 256 hashes of full tile (level, n) as tile bytes, or undefined when the tree does not cover it in full. */
  async fullTile(level: number, n: bigint): Promise<Uint8Array | undefined> {
    const size = (await this.#size())?.treeSize ?? 0n;
    if ((n + 1n) * BigInt(TILE_WIDTH) << BigInt(TILE_HEIGHT * level) > size) return undefined;
    return (await this.#tile(level, n)).subarray(0, TILE_WIDTH * 32);
  }

  /** Same contract as Store.readNodes: every id present or a MissingNodeError. */
  async readNodes(ids: NodeId[]): Promise<Map<string, Uint8Array>> {
    const size = (await this.#size())?.treeSize ?? 0n;
    const out = new Map<string, Uint8Array>();
    const rest: NodeId[] = [];
    let loads: Promise<unknown>[] | undefined;
    for (const id of ids) {
      const L = Math.floor(id.level / TILE_HEIGHT);
      const s = id.level % TILE_HEIGHT;
      const first = id.index << BigInt(s); // first covered node at level 8L
      const t = first / BigInt(TILE_WIDTH);
      if ((t + 1n) * BigInt(TILE_WIDTH) << BigInt(TILE_HEIGHT * L) > size) {
        rest.push(id); // in a partial tile: not cached as a tile
        continue;
      }
      const at = (ROW_START[s]! + Number(id.index - (t * BigInt(TILE_WIDTH) >> BigInt(s)))) * 32;
      // Cached tiles are answered without a promise (or a closure) per node: proofs touch ~20 nodes.
      const cached = this.#cached(`${L}/${t}`);
      if (cached) out.set(nodeKey(id), cached.subarray(at, at + 32));
      else (loads ??= []).push(this.#tile(L, t).then((tile) => out.set(nodeKey(id), tile.subarray(at, at + 32))));
    }
    if (loads) await Promise.all(loads);
    if (rest.length > 0) {
      // Nodes of partial tiles (the right edge every proof passes) are immutable too: keep them singly.
      const missing: NodeId[] = [];
      for (const id of rest) {
        const k = nodeKey(id);
        const v = this.#edge.get(k);
        if (v) out.set(k, v);
        else missing.push(id);
      }
      if (missing.length > 0) {
        for (const [k, v] of await this.#store.readNodes(missing)) {
          out.set(k, v);
          this.#edge.set(k, v);
          if (this.#edge.size > EDGE_NODES) this.#edge.delete(this.#edge.keys().next().value!);
        }
      }
    }
    return out;
  }

  /** The cached tile, marked most recently used, or undefined. */
  #cached(key: string): Uint8Array | undefined {
    const cached = this.#tiles.get(key);
    if (cached) {
      this.hits++;
      this.#tiles.delete(key); // most recently used last
      this.#tiles.set(key, cached);
    }
    return cached;
  }

  #tile(level: number, n: bigint): Promise<Uint8Array> {
    const key = `${level}/${n}`;
    const cached = this.#cached(key);
    if (cached) return Promise.resolve(cached);
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = this.#load(level, n, key).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  async #load(level: number, n: bigint, key: string): Promise<Uint8Array> {
    this.loads++;
    const base = await this.#store.readNodeRange(level * TILE_HEIGHT, n * BigInt(TILE_WIDTH), TILE_WIDTH);
    const tile = new Uint8Array(TILE_NODES * 32);
    base.forEach((h, i) => tile.set(h, i * 32));
    for (let s = 1; s < TILE_HEIGHT; s++) {
      const [from, to] = [ROW_START[s - 1]!, ROW_START[s]!];
      for (let i = 0; i < TILE_WIDTH >> s; i++) {
        const l = tile.subarray((from + 2 * i) * 32, (from + 2 * i + 1) * 32);
        const r = tile.subarray((from + 2 * i + 1) * 32, (from + 2 * i + 2) * 32);
        tile.set(hashChildren(l, r), (to + i) * 32);
      }
    }
    this.#tiles.set(key, tile);
    this.#bytes += tile.length;
    while (this.#bytes > this.#maxBytes && this.#tiles.size > 1) {
      const [oldKey, old] = this.#tiles.entries().next().value!;
      this.#tiles.delete(oldKey);
      this.#bytes -= old.length;
    }
    return tile;
  }
}
