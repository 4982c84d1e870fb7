/**
 * LedgerClient against in-process servers: trusted state moves only
 * forward, forks raise InconsistencyError with evidence that verifies on its
 * own, quorum across mirrors, tlog-proof bundles verified offline.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64, parseBase64 } from "../client/bytes.js";
import { evidenceOf, isEquivocation } from "../client/evidence.js";
import { parseCheckpoint } from "../client/checkpoint.js";
import { InconsistencyError, LedgerError, PolicyError } from "../client/errors.js";
import { LedgerClient, MemoryStateStore } from "../client/ledger-client.js";
import { verifyConsistency } from "../client/merkle-verify.js";
import { createVerifier, formatSignerKey, openNote } from "../client/note.js";
import { verifyTlogProof } from "../client/tlog-proof.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { writeFileSync } from "node:fs";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";

const dir = mkdtempSync(join(tmpdir(), "ledger-client-"));
const ledgers: Record<string, Ledger> = {};
const keyFile = join(dir, "log.key");
writeFileSync(keyFile, formatSignerKey("client.test/log", new Uint8Array(32).fill(42)), { mode: 0o600 });

async function start(name: string): Promise<Ledger> {
  let t = Date.parse("2026-11-23T00:00:00.000Z");
  const l = await createLedger(loadConfig({ LEDGER_DATA_DIR: join(dir, name), LEDGER_KEY_FILE: keyFile, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), {
    log: () => {},
    now: () => new Date((t += 1000)), // the same clock everywhere: same records give the same tree
  });
  ledgers[name] = l;
  return l;
}

/** fetch routed by host name to in-process ledgers; unknown hosts are unreachable. */
const fetchVia: typeof fetch = async (input) => {
  const u = new URL(String(input));
  const l = ledgers[u.hostname];
  if (!l) throw new TypeError("fetch failed");
  return l.app.request(u.pathname + u.search);
};

const post = (l: Ledger, r: unknown) => postRecord(async (p, i) => l.app.request(p, i), r);
const k = testKey(300);
const history = [registerKey("npm:@c", k, "publish"), ...Array.from({ length: 6 }, (_, i) => signRelease("npm:@c", k, "c", `1.0.${i}`))];

describe("LedgerClient", () => {
  let vkey: string;
  beforeAll(async () => {
    for (const name of ["log", "mirror", "fork", "smallfork"]) await start(name);
    vkey = ledgers.log!.signer.verifierKey;
    for (const r of history.slice(0, 4)) {
      expect((await post(ledgers.log!, r)).status).toBe(201);
      expect((await post(ledgers.mirror!, r)).status).toBe(201);
    }
    expect((await post(ledgers.fork!, history[0])).status).toBe(201);
    expect((await post(ledgers.fork!, signRelease("npm:@c", k, "evil", "6.6.6"))).status).toBe(201);
    for (const r of history.slice(1, 5)) expect((await post(ledgers.fork!, r)).status).toBe(201);
    // Same key, two entries, the second not the log's: a smaller checkpoint of another history.
    expect((await post(ledgers.smallfork!, history[0])).status).toBe(201);
    expect((await post(ledgers.smallfork!, signRelease("npm:@c", k, "evil", "6.6.6"))).status).toBe(201);
  });
  afterAll(async () => {
    for (const l of Object.values(ledgers)) await l.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (url: string, state = new MemoryStateStore(), extra = {}) => new LedgerClient({ url, logKey: vkey, breakGlass: "refuse", state, fetch: fetchVia, ...extra });

  it("the mirror with the same history has the same root (test setup)", async () => {
    expect(ledgers.mirror!.signer.verifierKey).toBe(vkey);
    const a = await ledgers.log!.store.latestCheckpoint();
    const b = await ledgers.mirror!.store.latestCheckpoint();
    expect(a!.rootHash).toEqual(b!.rootHash);
  });

  it("moves the trusted checkpoint forward only along verified consistency proofs", async () => {
    const state = new MemoryStateStore();
    const c = client("http://log", state);
    expect((await c.update()).treeSize).toBe(4n);
    await post(ledgers.log!, history[4]);
    expect((await c.update()).treeSize).toBe(5n);
    // A server behind the trusted state (the mirror is at 4) does not move it back.
    const behind = client("http://mirror", state);
    expect((await behind.update()).treeSize).toBe(5n);
    expect(parseCheckpoint(openNote((await state.load())!, [createVerifier(vkey)]).text).treeSize).toBe(5n);
  });

  it("a fork raises InconsistencyError carrying both notes and a proof that fails on its own", async () => {
    const state = new MemoryStateStore();
    await client("http://log", state).update();
    const trusted = await state.load();
    let err: unknown;
    try {
      await client("http://fork", state).update();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InconsistencyError);
    const e = err as InconsistencyError;
    const [c1, c2] = [e.note1, e.note2].map((n) => parseCheckpoint(openNote(n, [createVerifier(vkey)]).text));
    // Both are validly signed by the log key, yet the proof does not connect them: independent evidence.
    expect(() => verifyConsistency(c1!.treeSize, c2!.treeSize, e.proof, c1!.rootHash, c2!.rootHash)).toThrow(LedgerError);
    expect(await state.load()).toBe(trusted);
  });

  it("a smaller checkpoint of another history is equivocation, proven from the entries the client holds", async () => {
    let target = "log";
    const routed: typeof fetch = async (input) => {
      const u = new URL(String(input));
      return ledgers[target]!.app.request(u.pathname + u.search);
    };
    const state = new MemoryStateStore();
    const c = new LedgerClient({ url: "http://any", logKey: vkey, breakGlass: "refuse", state, fetch: routed });
    const synced = await c.sync();
    expect(synced.treeSize).toBeGreaterThan(2n);
    const trusted = await state.load();
    target = "smallfork";
    const err = await c.update().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InconsistencyError);
    const e = err as InconsistencyError;
    expect(e.root1).toBeDefined();
    // The evidence stands on its own: anyone with the log key can check it.
    const evidence = evidenceOf(e.note1, e.note2, e.proof, e.root1);
    expect(isEquivocation(evidence, "client.test/log", createVerifier(vkey))).toBe(true);
    expect(await state.load()).toBe(trusted);
    // Tampered evidence does not verify.
    expect(isEquivocation({ ...evidence, proof: evidence.proof.map((h, i) => (i === 0 ? encodeBase64(new Uint8Array(32)) : h)) }, "client.test/log", createVerifier(vkey))).toBe(false);
    // A smaller checkpoint of the same history (a lagging mirror) is no equivocation: the state stays.
    target = "mirror";
    expect((await c.update()).treeSize).toBe(synced.treeSize);
  });

  it("sync verifies every entry and replays; verifyRelease names the failed check", async () => {
    const c = client("http://log");
    const ok = await c.verifyRelease({ namespace: "npm:@c", package: "c", version: "1.0.1", artifacts: (history[2] as any).statement.artifacts });
    expect(ok).toMatchObject({ index: 2n, approved: true, breakGlass: { involved: false } });
    await expect(c.verifyRelease({ namespace: "npm:@c", package: "c", version: "9.9.9", artifacts: [] })).rejects.toMatchObject({ code: "policy", check: "not_logged" });
    await expect(c.verifyRelease({ namespace: "npm:@c", package: "c", version: "1.0.1", artifacts: [{ name: "x", sha256: "0".repeat(64) }] })).rejects.toMatchObject({ check: "artifacts_mismatch" });
  });

  it("syncs over the JSON API as over entry bundles, and verifies inclusion by index or by entry bytes", async () => {
    const viaJson = client("http://log", new MemoryStateStore(), { transport: "json" });
    const viaTiles = client("http://log");
    const [a, b] = [await viaJson.sync(), await viaTiles.sync()];
    expect(a.treeSize).toBe(b.treeSize);
    expect(viaJson.stats).toEqual(viaTiles.stats);
    const byIndex = await viaTiles.verifyInclusion(3n);
    const byEntry = await viaTiles.verifyInclusion(byIndex.entry);
    expect(byEntry.index).toBe(3n);
    const forged = byIndex.entry.slice();
    forged[forged.length - 3]! ^= 1;
    await expect(viaTiles.verifyInclusion(forged)).rejects.toBeInstanceOf(LedgerError);
  });

  it("quorum: a mirror serving a consistent checkpoint vouches; a forked or missing one does not", async () => {
    const q = (mirrors: string[], k: number) => ({ quorum: { witnesses: [], k, mirrors } });
    expect((await client("http://log", new MemoryStateStore(), q(["http://mirror"], 1)).update()).treeSize).toBeGreaterThan(0n);
    await expect(client("http://log", new MemoryStateStore(), q(["http://fork"], 1)).update()).rejects.toBeInstanceOf(InconsistencyError);
    await expect(client("http://log", new MemoryStateStore(), q(["http://gone"], 1)).update()).rejects.toBeInstanceOf(PolicyError);
    await expect(client("http://log", new MemoryStateStore(), q(["http://mirror", "http://gone"], 2)).update()).rejects.toMatchObject({ check: "quorum" });
  });

  it("verifies a tlog-proof bundle offline, and refuses a tampered one", async () => {
    const r = await postRecord(async (p, i) => ledgers.log!.app.request(p, i), history[5], "?wait=checkpoint");
    const leafHash = parseBase64(r.body.leafHash);
    const trust = { origin: "client.test/log", logVerifier: createVerifier(vkey) };
    expect(verifyTlogProof(r.body.tlogProof, leafHash, trust).index).toBe(BigInt(r.body.index));
    const lines = r.body.tlogProof.split("\n");
    const tampered = [...lines.slice(0, 2), lines[2].replace(/^./, (ch: string) => (ch === "A" ? "B" : "A")), ...lines.slice(3)].join("\n");
    expect(() => verifyTlogProof(tampered, leafHash, trust)).toThrow(LedgerError);
    expect(() => verifyTlogProof(r.body.tlogProof, new Uint8Array(32), trust)).toThrow(LedgerError);
    expect(() => verifyTlogProof(r.body.tlogProof, leafHash, { ...trust, quorum: { witnesses: [], k: 1 } })).toThrow(PolicyError);
  });
});
