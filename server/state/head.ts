/**
 * The latest checkpoint, cached for the read path: refreshed from the store
 * at most every `maxAgeMs` (other processes may sequence), and moved forward
 * at once by this process's own commits. Never moves backwards.
 */
import type { Store, StoredCheckpoint } from "../store/store.js";

export class HeadCache {
  readonly #store: Store;
  readonly #maxAgeMs: number;
  #cp: StoredCheckpoint | undefined;
  #at = -Infinity;
  #pending: Promise<StoredCheckpoint | undefined> | undefined;

  constructor(store: Store, maxAgeMs = 100) {
    this.#store = store;
    this.#maxAgeMs = maxAgeMs;
  }

  async get(): Promise<StoredCheckpoint | undefined> {
    if (this.#cp && performance.now() - this.#at < this.#maxAgeMs) return this.#cp;
    this.#pending ??= this.#store
      .latestCheckpoint()
      .then((cp) => {
        if (cp) this.set(cp);
        return this.#cp;
      })
      .finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  set(cp: StoredCheckpoint): void {
    if (!this.#cp || cp.treeSize >= this.#cp.treeSize) this.#cp = cp;
    this.#at = performance.now();
  }
}
