/** The namespace cache never hands a batch a state that lacks a committed entry, nor caches one. */
import { describe, expect, it } from "vitest";
import { ZERO_HASH, entryLeafHash, formatEntry } from "../../client/entry.js";
import { registerKey, testKey } from "../../test/helpers/records.js";
import type { StoreReader, StoredEntry } from "../store/store.js";
import { NamespaceCache } from "./namespaces.js";

const NS = "npm:@cache";
const rows: StoredEntry[] = [0, 1].map((i) => {
  const entry = formatEntry({ index: BigInt(i), prev: ZERO_HASH, time: "2026-12-03T00:00:00.000Z", record: i === 0 ? registerKey(NS, testKey(400), "admin") : registerKey(NS, testKey(401), "admin", testKey(400)) });
  return { index: BigInt(i), entry, leafHash: entryLeafHash(entry) };
});

/** A reader whose namespace query answers when `release` is called, with the rows committed by then. */
function slowReader(committed: () => StoredEntry[]) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let queries = 0;
  const reader = {
    async namespaceEntries() {
      queries++;
      const snapshot = committed(); // the query's snapshot is taken when it runs
      await gate;
      return snapshot;
    },
  } as unknown as StoreReader;
  return { reader, release, queries: () => queries };
}

describe("NamespaceCache", () => {
  it("does not share a load that started before a commit, and does not cache it", async () => {
    const cache = new NamespaceCache({ breakGlass: "refuse" });
    let committed = [rows[0]!];
    const first = slowReader(() => committed);
    const stale = cache.get(NS, first.reader); // a reader's load, before the batch below commits
    // A batch commits entry 1 (its fork folded in; here only the epoch matters).
    committed = [rows[0]!, rows[1]!];
    cache.commit([], 2n);
    const second = slowReader(() => committed);
    const fresh = cache.get(NS, second.reader);
    expect(second.queries()).toBe(1); // a new load, not the stale one
    first.release();
    second.release();
    expect((await stale).keys.size).toBe(1); // the reader's answer may be old...
    expect((await fresh).keys.size).toBe(2); // ...the batch's is not
    const third = slowReader(() => committed);
    third.release();
    expect((await cache.get(NS, third.reader)).keys.size).toBe(2); // and the cache holds the fresh one
    expect(third.queries()).toBe(0);
  });
});
