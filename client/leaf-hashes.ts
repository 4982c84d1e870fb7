/**
 * The leaf hashes of every entry a client synced and verified (32 bytes
 * each, in chunks), so that it can compute its own tree at any smaller size:
 * a checkpoint the log signs later for a smaller size with another root is
 * then proven equivocation from what the client holds, without asking the
 * (possibly lying) server for anything.
 */
import { CompactRange, type NodeId, type NodeReader, nodeKey } from "./merkle-tree.js";

const CHUNK = 8192; // hashes per chunk: 256 KiB

export class LeafHashes {
  readonly #chunks: Uint8Array[] = [];
  #size = 0;

  get size(): bigint {
    return BigInt(this.#size);
  }

  push(leafHash: Uint8Array): void {
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

  /** Tree nodes over the held leaves (each folded from its leaves: for rare use, like evidence). */
  reader(): NodeReader {
    return async (ids: NodeId[]) => {
      const out = new Map<string, Uint8Array>();
      for (const id of ids) {
        const start = id.index << BigInt(id.level);
        const range = new CompactRange(0n, []);
        for (let i = 0n; i < 1n << BigInt(id.level); i++) range.append(this.get(start + i));
        out.set(nodeKey(id), range.root());
      }
      return out;
    };
  }
}
