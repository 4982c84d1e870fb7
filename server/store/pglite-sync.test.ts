import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newEntry } from "./store.js";
import { openStore } from "./kysely-store.js";
import { PgliteSync } from "./pglite-sync.js";
import { entryLeafHash, formatEntry, ZERO_HASH } from "../../client/entry.js";
import { registerKey, testKey } from "../../test/helpers/records.js";

const root = mkdtempSync(join(tmpdir(), "ledger-pglite-sync-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("PgliteSync: what PostgreSQL would fsync at COMMIT, on a file system that does not", () => {
  it("syncs everything first, then the newest WAL segments, and everything again once segments were dropped", async () => {
    const dir = join(root, "fake");
    mkdirSync(join(dir, "pg_wal"), { recursive: true });
    mkdirSync(join(dir, "base", "5"), { recursive: true });
    writeFileSync(join(dir, "base", "5", "1259"), "data");
    const seg = (n: number) => join(dir, "pg_wal", n.toString(16).toUpperCase().padStart(24, "0"));
    writeFileSync(seg(1), "wal");
    const s = new PgliteSync(dir);
    await s.sync();
    expect(s.counts).toEqual({ syncs: 1, full: 1 });
    writeFileSync(seg(2), "wal");
    await s.sync();
    expect(s.counts).toEqual({ syncs: 2, full: 1 });
    rmSync(seg(1)); // a checkpoint recycled it
    await s.sync();
    expect(s.counts).toEqual({ syncs: 3, full: 2 });
    rmSync(join(dir, "pg_wal"), { recursive: true });
    await expect(s.sync()).rejects.toThrow(); // cannot sync: the commit must not be reported
  });

  it("a PGlite store's sequencer transaction resolves after its sync; PostgreSQL stores have none", async () => {
    const store = await openStore({ pgliteDir: join(root, "db") });
    try {
      const before = store.fsyncs!.syncs;
      const record = registerKey("npm:sync", testKey(1));
      const entry = formatEntry({ index: 0n, prev: ZERO_HASH, time: "2026-12-04T00:00:00.000Z", record });
      await store.sequence(async (tx) => {
        await tx.lock();
        await tx.insertEntries([newEntry(0n, entryLeafHash(entry), entry, record)]);
      });
      expect(store.fsyncs!.syncs).toBe(before + 1);
    } finally {
      await store.close();
    }
  }, 60_000);
});
