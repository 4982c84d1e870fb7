/**
 * The one core that grows a log, shared by the sequencer (new entries), the
 * mirror and the client (entries read from a log): each entry takes the next
 * index, links to the previous leaf hash, and is appended to the compact
 * range whose root must equal the signed root. Every path that stores or
 * verifies entries goes through here, so they cannot drift apart.
 */
import { bytesEqual } from "./bytes.js";
import { entryLeafHash, formatEntry, parseEntry, ZERO_HASH, type Entry } from "./entry.js";
import { PolicyError } from "./errors.js";
import { CompactRange, type NodeId } from "./merkle-tree.js";
import type { LedgerRecord } from "../schema/records.js";

export type OnNode = (id: NodeId, hash: Uint8Array) => void;

export class LogBuilder {
  readonly range: CompactRange;
  #prev: Uint8Array;

  /** A log of `range.size` entries whose last leaf hash is `prev` (ZERO_HASH when empty). */
  constructor(range: CompactRange = new CompactRange(0n, []), prev: Uint8Array = ZERO_HASH) {
    this.range = range;
    this.#prev = prev;
  }

  get size(): bigint {
    return this.range.size;
  }

  /** The leaf hash of the last entry (ZERO_HASH for an empty log). */
  get prev(): Uint8Array {
    return this.#prev;
  }

  root(): Uint8Array {
    return this.range.root();
  }

  /** Makes the next entry for `record`; `onNode` receives every tree node it completes. */
  appendRecord(record: LedgerRecord, time: string, onNode?: OnNode): { index: bigint; entry: Uint8Array; leafHash: Uint8Array } {
    const index = this.range.size;
    const entry = formatEntry({ index, prev: this.#prev, time, record });
    const leafHash = this.#append(entry, onNode);
    return { index, entry, leafHash };
  }

  /**
   * untrusted: an entry read from a log. It must be canonical, say the next
   * index and link to the previous leaf; otherwise PolicyError ("entry" or
   * "hash_chain") and nothing is appended.
   */
  appendBytes(bytes: Uint8Array, onNode?: OnNode): { entry: Entry; leafHash: Uint8Array } {
    const entry = parseEntry(bytes);
    if (entry.index !== this.range.size) throw new PolicyError("entry", `entry at position ${this.range.size} says index ${entry.index}`);
    if (!bytesEqual(entry.prev, this.#prev)) throw new PolicyError("hash_chain", `entry ${entry.index} does not link to entry ${entry.index - 1n}`);
    return { entry, leafHash: this.#append(bytes, onNode) };
  }

  #append(bytes: Uint8Array, onNode?: OnNode): Uint8Array {
    const leafHash = entryLeafHash(bytes);
    this.range.append(leafHash, onNode);
    this.#prev = leafHash;
    return leafHash;
  }
}
