/**
 * The server's view of namespace state: the client's pure state machine,
 * fed from the entries table per namespace and kept in a bounded LRU cache.
 *
 * Invariant: every cached state has applied every entry of its namespace
 * below `knownSize`. Our own sequencer keeps it so by applying each batch
 * and calling committed(); when the log has grown past knownSize by other
 * hands (another process sequencing on the same database), the next batch
 * sees it under the sequencer lock and the cache starts over.
 */
import { parseEntry } from "../../client/entry.js";
import { RuleError } from "../../client/errors.js";
import { applyRecord, NamespaceState, type ReplayOptions } from "../../client/replay.js";
import type { StoreReader } from "../store/store.js";

export class NamespaceCache {
  readonly opts: ReplayOptions;
  readonly #max: number;
  readonly #map = new Map<string, NamespaceState>();
  /** One load per namespace at a time, so every user shares one state object. */
  readonly #loading = new Map<string, Promise<NamespaceState>>();
  #knownSize = -1n;

  constructor(opts: ReplayOptions, max = 10_000) {
    this.opts = opts;
    this.#max = max;
  }

  /** The namespace's state: cached, or loaded from every entry `reader` can see. */
  async get(name: string, reader: StoreReader): Promise<NamespaceState> {
    const cached = this.#map.get(name);
    if (cached) {
      this.#map.delete(name); // re-inserted: most recently used last
      this.#map.set(name, cached);
      return cached;
    }
    let loading = this.#loading.get(name);
    if (!loading) {
      loading = this.#load(name, reader).finally(() => this.#loading.delete(name));
      this.#loading.set(name, loading);
    }
    return loading;
  }

  async #load(name: string, reader: StoreReader): Promise<NamespaceState> {
    const ns = new NamespaceState(name);
    for (const r of await reader.namespaceEntries(name, -1n)) {
      try {
        applyRecord(ns, parseEntry(r.entry).record, r.index, this.opts);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        ns.lastIndex = r.index; // a logged record the rules refuse has no effect, as in client replay
      }
    }
    this.#map.set(name, ns);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
    return ns;
  }

  /** Called under the sequencer lock with the log's size: forgets everything if others appended. */
  begin(treeSize: bigint): void {
    if (treeSize !== this.#knownSize) {
      this.#map.clear();
      this.#knownSize = treeSize;
    }
  }

  /** Our batch committed: cached states are complete up to `treeSize`. */
  committed(treeSize: bigint): void {
    this.#knownSize = treeSize;
  }

  /** Forgets every state (they may hold changes that were not stored). */
  clear(): void {
    this.#map.clear();
    this.#knownSize = -1n;
  }

  /** Forgets states that may hold changes of a rolled-back batch. */
  evict(names: Iterable<string>): void {
    for (const n of names) this.#map.delete(n);
  }
}
