/**
 * A map that can fork: a fork reads through to its base and writes only to
 * its own layer, so a batch of records can be applied to a copy of a
 * namespace's state in O(changes), and the copy folded back into the base
 * once (and only if) the batch is durable. Values are never mutated in place:
 * a change is a new value set under the same key.
 */
export class LayeredMap<K, V> {
  readonly #own = new Map<K, V>();
  #base: LayeredMap<K, V> | undefined;
  /** Set once this layer was folded into another map: readers of a fork skip it. */
  #mergedInto: LayeredMap<K, V> | undefined;
  #size: number;

  constructor(base?: LayeredMap<K, V>) {
    this.#base = base;
    this.#size = base?.size ?? 0;
  }

  #resolveBase(): LayeredMap<K, V> | undefined {
    let b = this.#base;
    while (b !== undefined && b.#mergedInto !== undefined) b = b.#mergedInto;
    this.#base = b;
    return b;
  }

  get size(): number {
    return this.#size;
  }

  get(k: K): V | undefined {
    return this.#own.has(k) ? this.#own.get(k) : this.#resolveBase()?.get(k);
  }

  has(k: K): boolean {
    return this.#own.has(k) || (this.#resolveBase()?.has(k) ?? false);
  }

  set(k: K, v: V): void {
    if (!this.has(k)) this.#size++;
    this.#own.set(k, v);
  }

  /** Entries in first-insertion order, each with its newest value. */
  *entries(): IterableIterator<[K, V]> {
    const base = this.#resolveBase();
    if (base) for (const [k, v] of base.entries()) yield [k, this.#own.has(k) ? this.#own.get(k)! : v];
    for (const [k, v] of this.#own) if (!base?.has(k)) yield [k, v];
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  fork(): LayeredMap<K, V> {
    return new LayeredMap(this);
  }

  /**
   * Folds a fork's own layer into this map. Forks of this map must be folded
   * in the order they were made; a fork of the fork then reads through to
   * this map.
   */
  absorb(fork: LayeredMap<K, V>): void {
    for (const [k, v] of fork.#own) this.set(k, v);
    fork.#mergedInto = this;
  }
}
