/**
 * The store contract, run against every implementation: PGlite always,
 * PostgreSQL when TEST_DATABASE_URL (or a Docker engine) provides one.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesEqual, encodeHex } from "../client/bytes.js";
import { openCheckpoint } from "../client/checkpoint.js";
import { parseEntry } from "../client/entry.js";
import { EMPTY_ROOT } from "../client/hash.js";
import { createVerifier } from "../client/note.js";
import { rootFromLeafHashes } from "../client/merkle-tree.js";
import { ed25519RandomSeed } from "../client/ed25519.js";
import { formatSignerKey } from "../client/note.js";
import { recordHash } from "../client/entry.js";
import { createRecordRules } from "../server/log/rules.js";
import { NamespaceCache } from "../server/state/namespaces.js";
import { initLog, sequenceBatch, type SequenceDeps } from "../server/log/sequence.js";
import { Sequencer } from "../server/log/sequencer.js";
import { createLogSigner } from "../server/log/signer.js";
import type { KyselyStore } from "../server/store/kysely-store.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";
import { registerKey, signRecord, signRelease, testKey } from "./helpers/records.js";

const ORIGIN = "store.test/log";
const signer = createLogSigner(formatSignerKey(ORIGIN, ed25519RandomSeed()));

describe.each(STORES)("store contract: $kind", (fixture) => {
  let loc: StoreLocation;
  let store: KyselyStore;
  let deps: SequenceDeps;

  beforeAll(async () => {
    loc = await fixture.create();
    store = await loc.open();
    deps = { store, signer, origin: ORIGIN, now: () => new Date("2026-11-23T00:00:00.000Z"), rules: createRecordRules(new NamespaceCache({ breakGlass: "accept" })) };
    await store.initMeta({ origin: ORIGIN, verifierKey: signer.verifierKey });
  });
  afterAll(async () => {
    await store?.close();
    await loc?.destroy();
  });

  it("keeps the first log identity", async () => {
    expect(await store.initMeta({ origin: "other", verifierKey: "other+00000000+AA==" })).toEqual({ origin: ORIGIN, verifierKey: signer.verifierKey });
  });

  it("migrates idempotently and starts with the signed empty tree", async () => {
    await store.migrate();
    const cp = await initLog(deps);
    expect(cp.treeSize).toBe(0n);
    expect(bytesEqual(cp.rootHash, EMPTY_ROOT)).toBe(true);
    expect(openCheckpoint(cp.note, { origin: ORIGIN, logVerifier: createVerifier(signer.verifierKey) }).treeSize).toBe(0n);
    expect((await initLog(deps)).note).toBe(cp.note); // not signed twice
  });

  it("round-trips int8 as bigint beyond 2^53", async () => {
    const r = await sql<{ v: bigint }>`select ${2n ** 62n + 1n}::int8 as v`.execute(store.db);
    expect(r.rows[0]!.v).toBe(2n ** 62n + 1n);
  });

  it("sequences a batch: contiguous indices, hash chain, nodes that give the signed root", async () => {
    const ns = "npm:store-a";
    const k = testKey(1);
    const batch = [registerKey(ns, k, "publish"), signRelease(ns, k, "a", "1.0.0"), signRelease(ns, k, "a", "1.0.1")];
    const { outcomes, checkpoint } = await sequenceBatch(deps, batch.map((record) => ({ record, recordHash: recordHash(record) })));
    expect(outcomes.map((o) => o.ok && o.index)).toEqual([0n, 1n, 2n]);
    expect(checkpoint.treeSize).toBe(3n);
    const entries = await store.getEntries(0n, 10);
    expect(entries.map((e) => e.index)).toEqual([0n, 1n, 2n]);
    expect(bytesEqual(rootFromLeafHashes(entries.map((e) => e.leafHash)), checkpoint.rootHash)).toBe(true);
    expect(bytesEqual(parseEntry(entries[1]!.entry).prev, entries[0]!.leafHash)).toBe(true);
    expect(await store.findLeafHash(entries[2]!.leafHash)).toBe(2n);
    const entriesOfNs = await store.namespaceEntries(ns, -1n);
    expect(entriesOfNs.map((e) => e.index)).toEqual([0n, 1n, 2n]);
    expect(await store.namespaceEntries(ns, 1n)).toHaveLength(1);
  });

  it("answers duplicates with the original index and writes nothing", async () => {
    const ns = "npm:store-a";
    const record = signRelease(ns, testKey(1), "a", "1.0.0");
    const before = await store.latestCheckpoint();
    const { outcomes, checkpoint } = await sequenceBatch(deps, [{ record, recordHash: recordHash(record) }]);
    expect(outcomes[0]).toMatchObject({ ok: true, index: 1n, duplicate: true });
    expect(checkpoint.treeSize).toBe(before!.treeSize);
  });

  it("refuses a record the rules refuse, and commits the rest of the batch", async () => {
    const ns = "npm:store-a";
    const k = testKey(1);
    const again2 = signRecord({ type: "key.register", namespace: ns, statement: { publicKey: k.publicKeyB64, role: "publish", label: "again" } }, k);
    const ok = signRelease(ns, testKey(1), "a", "2.0.0");
    const { outcomes } = await sequenceBatch(deps, [again2, ok].map((record) => ({ record, recordHash: recordHash(record) })));
    expect(outcomes[0]).toMatchObject({ ok: false });
    expect(!outcomes[0]!.ok && outcomes[0]!.error.code).toBe("key_exists");
    expect(outcomes[1]).toMatchObject({ ok: true, index: 3n });
  });

  it.each(["entries", "tree_nodes", "checkpoints", "log_meta"])("refuses UPDATE, DELETE and TRUNCATE on %s", async (table) => {
    const col = { entries: "type", tree_nodes: "level", checkpoints: "note", log_meta: "origin" }[table]!;
    await expect(sql`update ${sql.table(table)} set ${sql.ref(col)} = ${sql.ref(col)}`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from ${sql.table(table)}`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate ${sql.table(table)}`.execute(store.db)).rejects.toThrow(/append-only/);
  });

  it("concurrent appends through the pool: unique, gap-free indices, nothing lost", async () => {
    const seq = new Sequencer(deps, { batchMaxSize: 37, batchMaxAgeMs: 5, maxPending: 10_000, onFatal: () => {} });
    const ns = "npm:store-b";
    const k = testKey(2);
    await seq.submit({ record: registerKey(ns, k, "publish"), recordHash: recordHash(registerKey(ns, k, "publish")) });
    const records = Array.from({ length: 300 }, (_, i) => signRelease(ns, k, "b", `1.0.${i}`));
    const results = await Promise.all(records.map((record) => seq.submit({ record, recordHash: recordHash(record) })));
    await seq.close();
    const indices = results.map((r) => r.index).sort((a, b) => (a < b ? -1 : 1));
    expect(new Set(indices.map(String)).size).toBe(300);
    const head = await store.latestCheckpoint();
    expect(indices[299]! - indices[0]!).toBe(299n);
    expect(indices[299]).toBe(head!.treeSize - 1n);
    const all = await store.getEntries(0n, 1000);
    expect(all.map((e) => e.index)).toEqual(Array.from({ length: all.length }, (_, i) => BigInt(i)));
    for (let i = 1; i < all.length; i++) expect(encodeHex(parseEntry(all[i]!.entry).prev)).toBe(encodeHex(all[i - 1]!.leafHash));
    expect(bytesEqual(rootFromLeafHashes(all.map((e) => e.leafHash)), head!.rootHash)).toBe(true);
  });

  it("a sequencer whose cached state is stale (another process appended) catches up under the lock", async () => {
    // Two sequencers with separate namespace caches, as two processes would have.
    const depsA: SequenceDeps = { ...deps, rules: createRecordRules(new NamespaceCache({ breakGlass: "accept" })) };
    const depsB: SequenceDeps = { ...deps, rules: createRecordRules(new NamespaceCache({ breakGlass: "accept" })) };
    const ns = "npm:store-stale";
    const admin = testKey(40);
    const pub = testKey(41);
    const run = async (d: SequenceDeps, record: ReturnType<typeof signRelease>) => {
      const { outcomes } = await sequenceBatch(d, [{ record, recordHash: recordHash(record) }]);
      return outcomes[0]!.ok ? "ok" : outcomes[0]!.error.code;
    };
    expect(await run(depsA, registerKey(ns, admin, "admin"))).toBe("ok");
    expect(await run(depsB, signRecord({ type: "policy.set", namespace: ns, statement: { adminThreshold: 1, groups: [] } }, admin))).toBe("ok"); // B caches the namespace
    expect(await run(depsA, registerKey(ns, pub, "publish", admin))).toBe("ok"); // B does not know this key...
    expect(await run(depsB, signRelease(ns, pub, "s", "1.0.0"))).toBe("ok"); // ...until it sees the log grew
    expect(await run(depsA, signRecord({ type: "key.revoke", namespace: ns, statement: { keyId: pub.keyId, reason: "x" } }, admin))).toBe("ok");
    expect(await run(depsB, signRelease(ns, pub, "s", "1.0.1"))).toBe("not_authorized"); // B must not use its stale state
  });

  // PGlite is single-process (the server locks its data dir); PostgreSQL serves many.
  it.runIf(fixture.kind === "postgres")("two sequencers racing on one database (as two processes would) never fork", async () => {
    const other = await loc.open();
    try {
      const deps2: SequenceDeps = { ...deps, store: other };
      const ns = "npm:store-c";
      const k = testKey(3);
      await sequenceBatch(deps, [{ record: registerKey(ns, k, "publish"), recordHash: recordHash(registerKey(ns, k, "publish")) }]);
      const mk = (v: string) => {
        const record = signRelease(ns, k, "c", v);
        return { record, recordHash: recordHash(record) };
      };
      const runs = await Promise.all(
        Array.from({ length: 10 }, (_, i) => sequenceBatch(i % 2 ? deps : deps2, [mk(`${i}.0.0`), mk(`${i}.1.0`)])),
      );
      const idx = runs.flatMap((r) => r.outcomes.map((o) => (o.ok ? o.index : -1n)));
      expect(new Set(idx.map(String)).size).toBe(20);
      const all = await store.getEntries(0n, 1000);
      const head = await store.latestCheckpoint();
      expect(BigInt(all.length)).toBe(head!.treeSize);
      expect(bytesEqual(rootFromLeafHashes(all.map((e) => e.leafHash)), head!.rootHash)).toBe(true);
    } finally {
      await other.close();
    }
  });
});
