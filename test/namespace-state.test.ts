/**
 * The namespace state readers see is committed state only: while a batch is
 * between its rules and its COMMIT, and after it rolls back, GET
 * /v1/namespaces/<ns>, /v1/keys/<id> and /v1/releases show the state before
 * it; once a batch commits they show it. On every store.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as api from "../schema/api.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import type { SequencerTx } from "../server/store/store.js";
import { getJson, postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

describe.each(STORES)("namespace state is commit-only: $kind", (fixture) => {
  const NS = "npm:@commit";
  const [admin, pub] = [testKey(950), testKey(951)];
  let loc: StoreLocation;
  let dir: string;
  let ledger: Ledger;
  /** While set, the next batch stops at insertEntries until `release` is called, then fails. */
  let gate: { reached: () => void; wait: Promise<void> } | undefined;
  const fetch = async (p: string, init?: RequestInit) => ledger.app.request(p, init);

  beforeAll(async () => {
    loc = await fixture.create();
    dir = mkdtempSync(join(tmpdir(), "ledger-commit-only-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, DATABASE_URL: loc.databaseUrl, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), { log: () => {} });
    const real = ledger.store.sequence.bind(ledger.store);
    ledger.store.sequence = (fn) =>
      real((tx) =>
        fn(
          new Proxy(tx, {
            get(target, prop, receiver) {
              const v = Reflect.get(target, prop, receiver);
              if (prop !== "insertEntries" || !gate) return v;
              const g = gate;
              return async () => {
                g.reached();
                await g.wait;
                throw new Error("injected: the database fails before COMMIT");
              };
            },
          }) as SequencerTx,
        ),
      );
    expect((await postRecord(fetch, registerKey(NS, admin, "admin"))).status).toBe(201);
  });
  afterAll(async () => {
    await ledger?.close();
    await loc?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The replayed state as readers see it (served from the namespace cache, without a query). */
  const view = async () => {
    const ns = await getJson(fetch, `/v1/namespaces/${NS}`, api.NamespaceResponse);
    return { keys: ns.keys.map((k) => k.keyId), releaseCount: ns.releaseCount };
  };

  it("a reader during a batch that rolls back sees the state before it, during and after", async () => {
    const before = await view();
    expect(before).toEqual({ keys: [admin.keyId], releaseCount: 0 });
    let release!: () => void;
    let reached!: () => void;
    const atInsert = new Promise<void>((r) => (reached = r));
    gate = { reached, wait: new Promise<void>((r) => (release = r)) };
    // Two records in one batch: the key, and a release signed by it (rules applied to the batch's copy).
    const posts = [postRecord(fetch, registerKey(NS, pub, "publish", admin)), postRecord(fetch, signRelease(NS, pub, "p", "1.0.0"))];
    await atInsert; // the batch has applied its rules and is about to write
    // (PGlite has one session, held by the batch: only reads from memory can answer now, which is what is tested.)
    expect(await view()).toEqual(before);
    gate = undefined;
    release();
    const [a, b] = (await Promise.all(posts)) as [Awaited<(typeof posts)[0]>, Awaited<(typeof posts)[0]>];
    expect([a.status, a.body.error?.code]).toEqual([503, "store_failed"]);
    expect(b.status).not.toBe(201);
    expect(await view()).toEqual(before);
    expect((await fetch(`/v1/releases/${NS}/p/1.0.0`)).status).toBe(404);
    expect((await fetch(`/v1/keys/${pub.keyId}`)).status).toBe(404);

    // The same records again: they commit, and readers see them.
    expect((await postRecord(fetch, registerKey(NS, pub, "publish", admin))).status).toBe(201);
    expect((await postRecord(fetch, signRelease(NS, pub, "p", "1.0.0"))).status).toBe(201);
    expect(await view()).toEqual({ keys: [admin.keyId, pub.keyId], releaseCount: 1 });
    expect((await fetch(`/v1/keys/${pub.keyId}`)).status).toBe(200);
  });
});
