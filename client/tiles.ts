/**
 * C2SP tlog-tiles: tile paths, widths, entry bundles, and proofs computed
 * from tiles (at most about log256(N)+1 tiles per proof).
 */
import { FormatError } from "./errors.js";
import { hashChildren } from "./hash.js";
import { nodeKey, type NodeId, type NodeReader } from "./merkle-tree.js";

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/** `N` as 3-digit groups, all but the last prefixed with x: 1234067 → x001/x234/067. */
export function formatTileIndex(n: bigint): string {
  const groups: string[] = [];
  do {
    groups.unshift((n % 1000n).toString().padStart(3, "0"));
    n /= 1000n;
  } while (n > 0n);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

/** untrusted: parses the N path of a tile, refusing non-canonical forms. */
export function parseTileIndex(path: string): bigint {
  const parts = path.split("/");
  if (parts.length === 0 || parts.length > 7) throw new FormatError("bad_number", "bad tile index");
  let n = 0n;
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    const m = (last ? /^(\d{3})$/ : /^x(\d{3})$/).exec(p);
    if (!m) throw new FormatError("bad_number", "bad tile index");
    n = n * 1000n + BigInt(m[1]!);
  });
  if (formatTileIndex(n) !== path) throw new FormatError("bad_number", "non-canonical tile index");
  return n;
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (W < 256 means partial). */
export function tilePath(level: number | "entries", n: bigint, width = TILE_WIDTH): string {
  return `tile/${level}/${formatTileIndex(n)}${width < TILE_WIDTH ? `.p/${width}` : ""}`;
}

/** The width of tile (level, n) in a tree of `treeSize`: 256 if full, 0 if it does not exist yet. */
export function tileWidth(level: number, n: bigint, treeSize: bigint): number {
  const nodesAtLevel = treeSize >> BigInt(TILE_HEIGHT * level);
  const start = n * BigInt(TILE_WIDTH);
  if (nodesAtLevel <= start) return 0;
  const w = nodesAtLevel - start;
  return w >= BigInt(TILE_WIDTH) ? TILE_WIDTH : Number(w);
}

export function encodeEntryBundle(entries: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new FormatError("bad_json", "entry too large for a bundle");
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** untrusted: splits an entry bundle into its entries. */
export function parseEntryBundle(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < b.length) {
    if (o + 2 > b.length) throw new FormatError("bad_json", "truncated entry bundle");
    const len = (b[o]! << 8) | b[o + 1]!;
    if (o + 2 + len > b.length) throw new FormatError("bad_json", "truncated entry bundle");
    out.push(b.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return out;
}

export function parseHashTile(b: Uint8Array, width: number): Uint8Array[] {
  if (b.length !== width * 32) throw new FormatError("bad_json", `tile of ${b.length} bytes, want ${width * 32}`);
  return Array.from({ length: width }, (_, i) => b.subarray(i * 32, i * 32 + 32));
}

export type TileFetcher = (path: string) => Promise<Uint8Array>;

/**
 * A NodeReader over the tiles of a tree of `treeSize` (as in a verified
 * checkpoint): node (ℓ, k) is hashed up from the tile at level ⌊ℓ/8⌋.
 * Tiles are not authenticated one by one: a proof built from a tampered
 * tile fails against the signed root.
 */
export function tileNodeReader(treeSize: bigint, fetchTile: TileFetcher): NodeReader & { tilesFetched: () => number } {
  const cache = new Map<string, Promise<Uint8Array[]>>();
  let fetched = 0;
  const tile = (level: number, n: bigint): Promise<Uint8Array[]> => {
    const w = tileWidth(level, n, treeSize);
    const path = tilePath(level, n, w);
    let p = cache.get(path);
    if (!p) {
      fetched++;
      p = fetchTile(path).then((b) => parseHashTile(b, w));
      cache.set(path, p);
    }
    return p;
  };
  const read: NodeReader = async (ids: NodeId[]) => {
    const out = new Map<string, Uint8Array>();
    await Promise.all(
      ids.map(async (id) => {
        const L = Math.floor(id.level / TILE_HEIGHT);
        const s = id.level % TILE_HEIGHT;
        const first = id.index << BigInt(s); // index of the first covered node at level 8L
        const t = first >> 8n;
        const o = Number(first & 255n);
        const hashes = await tile(L, t);
        let row = hashes.slice(o, o + (1 << s));
        if (row.length !== 1 << s) throw new FormatError("bad_json", `tile ${tilePath(L, t)} lacks node ${nodeKey(id)}`);
        while (row.length > 1) row = Array.from({ length: row.length / 2 }, (_, i) => hashChildren(row[2 * i]!, row[2 * i + 1]!));
        out.set(nodeKey(id), row[0]!);
      }),
    );
    return out;
  };
  return Object.assign(read, { tilesFetched: () => fetched });
}
