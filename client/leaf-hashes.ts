/**
 * The tree a client synced and verified, kept compactly: every leaf hash
 * (32 bytes each, in chunks) and every completed node from level 8 up (one
 * per 256 leaves). So the client computes its own root at any smaller size in
 * O(log n) lookups plus at most 255 hashes per level below 8, and a
 * checkpoint the log signs later for a smaller size with another root is
 * proven equivocation from what the client holds, without asking the
 * (possibly lying) server for anything.
 */
import { CompactRange, type NodeId, type NodeReader, nodeKey } from "./merkle-tree.js";

const CHUNK = 8192; // hashes per chunk: 256 KiB
/** Nodes at this level and above are kept; those below are folded from leaves (at most 256 each). */
const KEPT_LEVEL = 8;

export class LeafHashes {
  readonly #chunks: Uint8Array[] = [];
  #size = 0;
  readonly #nodes = new Map<string, Uint8Array>();

  get size(): bigint {
    return BigInt(this.#size);
  }

  /** Takes the nodes a LogBuilder (CompactRange) completes as entries are appended: leaves, and levels ≥ 8. */
  readonly onNode = (id: NodeId, hash: Uint8Array): void => {
    if (id.level === 0) this.#push(hash);
    else if (id.level >= KEPT_LEVEL) this.#nodes.set(nodeKey(id), hash);
  };

  #push(leafHash: Uint8Array): void {
    const at = this.#size % CHUNK;
    if (at === 0) this.#chunks.push(new Uint8Array(CHUNK * 32));
    this.#chunks[this.#chunks.length - 1]!.set(leafHash, at * 32);
    this.#size++;
  }

  get(index: bigint): Uint8Array {
    const i = Number(index);
    if (i < 0 || i >= this.#size) throw new RangeError(`leaf ${index} is not held (${this.#size} held)`);
    return this.#chunks[Math.floor(i / CHUNK)]!.subarray((i % CHUNK) * 32, (i % CHUNK) * 32 + 32);
  }

  /** Tree nodes over the held leaves: kept ones looked up, lower ones folded from their leaves. */
  reader(): NodeReader {
    return async (ids: NodeId[]) => {
      const out = new Map<string, Uint8Array>();
      for (const id of ids) {
        const kept = this.#nodes.get(nodeKey(id));
        if (kept) {
          out.set(nodeKey(id), kept);
          continue;
        }
        if (id.level >= KEPT_LEVEL) throw new RangeError(`tree node ${nodeKey(id)} is not held`);
        const start = id.index << BigInt(id.level);
        const range = new CompactRange(0n, []);
        for (let i = 0n; i < 1n << BigInt(id.level); i++) range.append(this.get(start + i));
        out.set(nodeKey(id), range.root());
      }
      return out;
    };
  }
}
