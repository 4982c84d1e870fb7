/**
 * The server's view of namespace state: the client's pure state machine,
 * fed from the entries table per namespace and kept in a bounded LRU cache.
 * A cached state catches up with entries other processes committed before
 * it is used, so multi-process sequencing sees the same state.
 */
import { parseEntry } from "../../client/entry.js";
import { RuleError } from "../../client/errors.js";
import { applyRecord, NamespaceState, type ReplayOptions } from "../../client/replay.js";
import type { StoreReader } from "../store/store.js";

export class NamespaceCache {
  readonly opts: ReplayOptions;
  readonly #max: number;
  readonly #map = new Map<string, NamespaceState>();

  constructor(opts: ReplayOptions, max = 10_000) {
    this.opts = opts;
    this.#max = max;
  }

  /** The namespace's state with every entry `reader` can see applied. */
  async fresh(name: string, reader: StoreReader): Promise<NamespaceState> {
    let ns = this.#map.get(name);
    if (ns) this.#map.delete(name); // re-inserted below: most recently used last
    ns ??= new NamespaceState(name);
    this.#map.set(name, ns);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
    const rows = await reader.namespaceEntries(name, ns.lastIndex);
    for (const r of rows) {
      if (r.index <= ns.lastIndex) continue; // applied meanwhile by another caller
      try {
        applyRecord(ns, parseEntry(r.entry).record, r.index, this.opts);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        ns.lastIndex = r.index; // a logged record the rules refuse has no effect, as in client replay
      }
    }
    return ns;
  }

  /** Forgets states that may hold changes of a rolled-back batch. */
  evict(names: Iterable<string>): void {
    for (const n of names) this.#map.delete(n);
  }
}
