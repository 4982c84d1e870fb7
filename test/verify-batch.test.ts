/**
 * LedgerClient's bulk verification (`verifyBatch`, worker threads in the
 * CLI): bundles are applied with every signature taken as valid while the
 * signatures are verified elsewhere. It must reach exactly the state and
 * counts of inline verification, also when a signature does not verify —
 * in a later bundle whose successors depend on what it would have changed —
 * and when the bulk verifier fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LedgerClient, type LedgerClientOptions } from "../client/ledger-client.js";
import { releaseStatus } from "../client/replay.js";
import { ed25519VerifyNode } from "../cli/node-ed25519.js";
import { VerifyPool } from "../cli/verify-pool.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { sequenceUnchecked } from "./helpers/ledger.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";

describe("LedgerClient with verifyBatch reaches the state of inline verification", () => {
  let dir: string;
  let ledger: Ledger;
  const pool = new VerifyPool(1);
  const admin = testKey(899);
  const k = testKey(900);
  const k2 = testKey(901);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-verify-batch-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: join(dir, "log"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), { explorer: false });
    const req = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
    expect((await postRecord(req, registerKey("npm:vb", admin, "admin"))).status).toBe(201);
    expect((await postRecord(req, registerKey("npm:vb", k, "publish", admin))).status).toBe(201);
    for (let i = 0; i < 300; i++) expect((await postRecord(req, signRelease("npm:vb", k, "p", `1.0.${i}`))).status).toBe(201);
    // The misbehaving log, in the second bundle: a key.register whose signature is another record's.
    // Had it verified, the key would exist and the releases it signs below would apply.
    const forged = registerKey("npm:vb", k2, "publish", admin);
    forged.signatures = forged.signatures.map((s) => ({ ...s, sig: (s as { sig: string }).sig.replace(/^./, (c) => (c === "A" ? "B" : "A")) }));
    await sequenceUnchecked(ledger, [forged]);
    // Releases by the key the forged record would have registered, in the second and third bundles (refused by an honest replay).
    const byK2 = Array.from({ length: 260 }, (_, i) => signRelease("npm:vb", k2, "q", `2.0.${i}`));
    await sequenceUnchecked(ledger, byK2);
    for (let i = 0; i < 20; i++) expect((await postRecord(req, signRelease("npm:vb", k, "p", `3.0.${i}`))).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await pool.close();
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (extra: Partial<LedgerClientOptions>) =>
    new LedgerClient({ url: "http://ledger", logKey: ledger.signer.verifierKey, breakGlass: "refuse", verify: ed25519VerifyNode, fetch: async (u) => ledger.app.request(new URL(String(u)).pathname + new URL(String(u)).search), ...extra });

  async function outcome(c: LedgerClient) {
    const cp = await c.sync();
    const ns = c.replayer.namespaces.get("npm:vb")!;
    return {
      treeSize: cp.treeSize,
      stats: { ...c.stats },
      keys: ns.keys.size,
      k2: ns.keys.has(k2.keyId),
      releases: ns.releases.size,
      p0: releaseStatus(ns, "p", "1.0.0")?.release.index,
      q0: releaseStatus(ns, "q", "2.0.0") !== undefined,
      last: releaseStatus(ns, "p", "3.0.19")?.release.index,
      lastIndex: ns.lastIndex,
    };
  }

  it("the same counts and state through worker threads, through a verifier that fails, and inline", async () => {
    const inline = await outcome(client({}));
    expect(inline.treeSize).toBe(583n);
    expect(inline.stats.refused).toBe(261); // the forged registration and the 260 releases of its key
    expect(inline.k2).toBe(false);
    expect(inline.q0).toBe(false);
    expect(inline.releases).toBe(320);
    expect(inline.keys).toBe(2);
    const threads = await outcome(client({ verifyBatch: (items) => pool.verify(items) }));
    expect(threads).toEqual(inline);
    let calls = 0;
    const failing = await outcome(client({ verifyBatch: async () => (calls++, Promise.reject(new Error("thread died"))) }));
    expect(calls).toBeGreaterThan(0);
    expect(failing).toEqual(inline);
    // A verifier that answers for fewer items than it was given is not believed either.
    expect(await outcome(client({ verifyBatch: async (items) => items.slice(1).map(() => true) }))).toEqual(inline);
  });

  it("a verifier that lies (every signature valid) is what makes the difference: the test can fail", async () => {
    const lied = await outcome(client({ verifyBatch: async (items) => items.map(() => true) }));
    expect(lied.stats.refused).toBe(0);
    expect(lied.k2).toBe(true);
  });

  it("a log that grew is synced on from where the last sync stopped", async () => {
    const c = client({ verifyBatch: (items) => pool.verify(items) });
    await c.sync();
    const req = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
    for (let i = 0; i < 5; i++) expect((await postRecord(req, signRelease("npm:vb", k, "p", `4.0.${i}`))).status).toBe(201);
    const cp = await c.sync();
    expect(cp.treeSize).toBe(588n);
    expect(c.stats.applied + c.stats.refused).toBe(588);
    expect(releaseStatus(c.replayer.namespaces.get("npm:vb")!, "p", "4.0.4")).toBeDefined();
  });
});
