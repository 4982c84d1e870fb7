/**
 * A mirror refuses a log that logged a record whose signature does not
 * verify: the log here is made to misbehave by sequencing with rules that
 * accept every signature. The mirror verifies signatures on its threads
 * after checking the chunk, so this is the path where a chunk must not be
 * stored and the mirror must stop.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { createMirror, type Mirror } from "../server/mirror/mirror.js";
import type { LedgerRecord } from "../schema/records.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { sequenceUnchecked } from "./helpers/ledger.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

// PostgreSQL when the run has one: this test is about the rules, and two embedded databases per case
// spent over a minute initialising on a loaded 2-core machine.
const fixture = STORES.find((x) => x.kind === "postgres") ?? STORES[0]!;

describe.each([1, 0])("mirror against a log that logged a bad signature (verify threads: %i)", (threads) => {
  let dir: string;
  let ledger: Ledger;
  let mirror: Mirror;
  const locs: StoreLocation[] = [];
  const k = testKey(600);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-mirror-rules-"));
    for (let i = 0; i < 2; i++) locs.push(await fixture.create());
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: join(dir, "log"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1", ...(locs[0]!.databaseUrl ? { DATABASE_URL: locs[0]!.databaseUrl } : {}) }));
    const req = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
    expect((await postRecord(req, registerKey("npm:mr", k, "publish"))).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await postRecord(req, signRelease("npm:mr", k, "p", `1.0.${i}`))).status).toBe(201);
    // The misbehaving log: a release whose signature is another message's.
    const forged = signRelease("npm:mr", k, "p", "6.6.6") as LedgerRecord;
    forged.signatures = [{ ...forged.signatures[0]!, sig: (signRelease("npm:mr", k, "p", "1.0.0").signatures[0] as { sig: string }).sig }];
    await sequenceUnchecked(ledger, [forged]);
    expect((await postRecord(req, signRelease("npm:mr", k, "p", "1.0.7"))).status).toBe(201); // the log goes on
    const viaLog: typeof fetch = async (input, init) => {
      const u = new URL(String(input));
      return await ledger.app.request(u.pathname + u.search, init);
    };
    mirror = await createMirror({ source: "http://log.test", logKey: ledger.signer.verifierKey, dataDir: join(dir, "mirror"), ...(locs[1]!.databaseUrl ? { databaseUrl: locs[1]!.databaseUrl } : {}), peers: [], intervalMs: 60_000, verifyThreads: threads }, { fetch: viaLog, log: () => {} });
  });

  afterAll(async () => {
    await mirror?.close();
    await ledger?.close();
    for (const l of locs) await l.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores nothing of the chunk, stops with the entry's index, fails /healthz and cosigns nothing", async () => {
    await expect(mirror.follower.syncTo()).rejects.toMatchObject({ code: "log_breaks_rules" });
    expect(mirror.follower.fatal).toMatch(/at index 6: bad_signature/);
    expect(await mirror.store.entryCount()).toBe(0n);
    expect(await mirror.store.latestCheckpoint()).toBeUndefined();
    const health = await mirror.app.request("/healthz");
    expect(health.status).toBe(503);
    expect((await health.json()).reason).toMatch(/bad_signature/);
    // It stays stopped: a later sync does not store or cosign past it.
    await expect(mirror.follower.syncTo()).rejects.toBeDefined();
    expect(await mirror.store.entryCount()).toBe(0n);
  });
});
