/**
 * The server's view of namespace state: the client's pure state machine,
 * fed from the entries table per namespace and kept in a bounded LRU cache.
 *
 * Invariant: every cached state has applied every entry of its namespace
 * below `knownSize`, and nothing else. A batch applies its records to forks
 * of the cached states (NamespaceState.fork); commit() folds them in only
 * after the batch's transaction committed, so readers never see a change
 * that may still roll back. When the log has grown past knownSize by other
 * hands (another process sequencing on the same database), the next batch
 * applies those entries under the sequencer lock (begin()).
 */
import { parseEntry } from "../../client/entry.js";
import { RuleError } from "../../client/errors.js";
import { applyRecord, NamespaceState, type ReplayOptions } from "../../client/replay.js";
import type { StoreReader } from "../store/store.js";
import { ed25519VerifyNode } from "../crypto.js";
import type { LedgerRecord } from "../../schema/records.js";

/** Entries another process appended that begin() applies; beyond this it reloads instead. */
const MAX_CATCH_UP = 20_000n;

export class NamespaceCache {
  readonly opts: ReplayOptions;
  readonly #max: number;
  readonly #map = new Map<string, NamespaceState>();
  /**
   * One load per namespace at a time, so every user shares one state object;
   * a load started before the latest commit is not shared (it may lack that
   * commit's entries), so a batch never decides on it.
   */
  readonly #loading = new Map<string, { epoch: number; promise: Promise<NamespaceState> }>();
  #knownSize = -1n;
  /** Counts commits (ours, and others' found by begin()): a load that overlapped one may miss its rows and is not cached. */
  #epoch = 0;

  /**
   * Entries read back from our own store were verified when they were
   * sequenced (or, on a mirror, before they were stored): replaying them
   * applies the rules without verifying signatures again.
   */
  readonly #trusted: ReplayOptions;
  /** The options with node:crypto's Ed25519, for checks of records not yet logged (the approval service). */
  readonly verifying: ReplayOptions;

  constructor(opts: ReplayOptions, max = 10_000) {
    this.opts = opts;
    this.#trusted = { ...opts, verify: () => true };
    this.verifying = { ...opts, verify: ed25519VerifyNode };
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
    const loading = this.#loading.get(name);
    if (loading && loading.epoch === this.#epoch) return loading.promise;
    const started = { epoch: this.#epoch, promise: this.#load(name, reader) };
    started.promise = started.promise.finally(() => {
      if (this.#loading.get(name) === started) this.#loading.delete(name);
    });
    this.#loading.set(name, started);
    return started.promise;
  }

  async #load(name: string, reader: StoreReader): Promise<NamespaceState> {
    const epoch = this.#epoch;
    const ns = new NamespaceState(name);
    for (const r of await reader.namespaceEntries(name, -1n)) this.#applyStored(ns, parseEntry(r.entry).record, r.index);
    if (epoch !== this.#epoch) return ns; // a batch committed meanwhile: this state may lack it, so it is not kept
    this.#map.set(name, ns);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
    return ns;
  }

  /** Applies a record not yet logged to a copy of the state: throws RuleError if the log would refuse it; the state is unchanged. */
  wouldApply(ns: NamespaceState, record: LedgerRecord): void {
    applyRecord(ns.fork(), record, ns.lastIndex + 1n, this.verifying);
  }

  /** Applies a logged record as client replay does: one the rules refuse has no effect. */
  #applyStored(ns: NamespaceState, record: LedgerRecord, index: bigint): void {
    try {
      applyRecord(ns, record, index, this.#trusted);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      ns.lastIndex = index;
    }
  }

  /**
   * Called under the sequencer lock with the log's size. When another process
   * appended since, its entries are applied to the cached states (a few per
   * batch when processes take turns); after a long gap, or going backwards,
   * everything is forgotten and reloaded on use.
   */
  async begin(treeSize: bigint, reader: StoreReader): Promise<void> {
    if (treeSize === this.#knownSize) return;
    this.#epoch++; // entries committed by others: loads under way may lack them
    const gap = treeSize - this.#knownSize;
    if (this.#knownSize < 0n || gap < 0n || gap > MAX_CATCH_UP || this.#map.size === 0) {
      this.#map.clear();
      this.#knownSize = treeSize;
      return;
    }
    for (const r of await reader.entriesBetween(this.#knownSize, treeSize)) {
      let record;
      try {
        record = parseEntry(r.entry).record;
      } catch {
        continue; // not a record this state machine reads: no effect, as in replay
      }
      const ns = this.#map.get(record.namespace);
      if (!ns || r.index <= ns.lastIndex) continue; // not cached, or loaded with this entry already
      this.#applyStored(ns, record, r.index);
    }
    this.#knownSize = treeSize;
  }

  /**
   * Our batch committed with the log at `treeSize`: the forks it applied its
   * records to become the cached states. A fork whose root is no longer the
   * cached state (evicted, or replaced by a reload) is dropped instead, and
   * the namespace loads afresh from the store on next use.
   */
  commit(forks: Iterable<NamespaceState>, treeSize: bigint): void {
    this.#epoch++;
    for (const fork of forks) {
      const root = fork.root ?? fork;
      if (this.#map.get(fork.namespace) === root && root !== fork) root.absorb(fork);
      else this.#map.delete(fork.namespace);
    }
    this.#knownSize = treeSize;
  }

  /**
   * A batch failed: whether or not its COMMIT happened is unknown, so the
   * states it touched are forgotten and reload from what the store holds.
   */
  forget(names: Iterable<string>): void {
    this.#epoch++;
    for (const n of names) this.#map.delete(n);
  }

  /** Forgets every state (they may hold changes that were not stored). */
  clear(): void {
    this.#map.clear();
    this.#knownSize = -1n;
  }
}
