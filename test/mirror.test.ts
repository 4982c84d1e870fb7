/**
 * Mirrors and witnesses as real processes on loopback: a log with a witness
 * quorum of two mirrors; the mirrors converge and cosign; a client with
 * quorum 2 accepts; a mirror killed mid-stream loses nothing on restart; a
 * forked log is caught by cross-checking with evidence anyone can verify.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/outcome.js";
import { openCheckpoint } from "../client/checkpoint.js";
import { verifyEquivocation, type EquivocationEvidence } from "../client/evidence.js";
import { LedgerClient } from "../client/ledger-client.js";
import { createVerifier } from "../client/note.js";
import { main } from "../server/cli.js";
import { postRecord, TEST_TOKEN, TEST_WRITERS, type Fetch } from "./helpers/http.js";
import { freePort, startLedger, startServer, type Running } from "./helpers/process.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";

async function cli(...args: string[]): Promise<string> {
  let out = "";
  const code = await main(args, { out: (s) => void (out += s), err: () => {} });
  if (code !== 0) throw new Error(`ledger ${args.join(" ")} exited ${code}`);
  return out.trim();
}


const text = async (url: string) => (await fetch(url)).text();

describe("mirrors, witnesses and cross-checking (real processes)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ledger-mirror-"));
  const f = (n: string) => join(dir, n);
  const procs: Running[] = [];
  let logUrl: string;
  let logKey: string;
  const vkeys: Record<string, string> = {};
  const ports: Record<string, number> = {};
  const k = testKey(500);
  let n = 0;
  const append = async (count: number) => {
    const fetchLog: Fetch = (p, i) => fetch(logUrl + p, i);
    await Promise.all(Array.from({ length: count }, () => postRecord(fetchLog, signRelease("npm:@m", k, "m", `1.0.${n++}`)).then((r) => expect(r.status).toBe(201))));
  };
  const mirror = (name: string, source: string, peers: string[] = []) =>
    startLedger(["mirror", "--source", source, "--log-key", logKey, "--port", String(ports[name]), "--data-dir", f(name), "--key-file", f(`${name}.key`), "--interval", "150", ...peers.flatMap((p) => ["--peer", p])], {});
  const sizeOf = async (url: string) => openCheckpoint(await text(`${url}/checkpoint`), { origin: "mirror.test/log", logVerifier: createVerifier(logKey) }).treeSize;

  beforeAll(async () => {
    for (const name of ["A", "B", "C", "log", "fork"]) ports[name] = await freePort();
    for (const name of ["A", "B", "C"]) vkeys[name] = await cli("keygen", "--name", `mirror-${name}.test`, "--out", f(`${name}.key`), "--cosigner");
    logKey = await cli("keygen", "--name", "mirror.test/log", "--out", f("log.key"));
    logUrl = `http://127.0.0.1:${ports.log}`;
    const witnesses = `2:${vkeys.A}@http://127.0.0.1:${ports.A},${vkeys.B}@http://127.0.0.1:${ports.B}`;
    const common = { LEDGER_KEY_FILE: f("log.key"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "5", DATABASE_URL: "", LEDGER_ORIGIN: "" };
    procs.push(await startServer({ ...common, PORT: String(ports.log), LEDGER_DATA_DIR: f("logdata"), LEDGER_WITNESSES: witnesses, LEDGER_WITNESS_INTERVAL_MS: "100" }));
    procs.push(await startServer({ ...common, PORT: String(ports.fork), LEDGER_DATA_DIR: f("forkdata") }));
    await postRecord((p, i) => fetch(logUrl + p, i), registerKey("npm:@m", k, "publish"));
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("two mirrors follow, verify, cosign; the log serves the quorum; a quorum-2 client accepts", async () => {
    const A = await mirror("A", logUrl, [`http://127.0.0.1:${ports.B}`]);
    const B = await mirror("B", logUrl, [`http://127.0.0.1:${ports.A}`]);
    procs.push(A, B);
    await append(300);
    await append(200);
    const target = await waitFor("the log's size", async () => BigInt((await (await fetch(`${logUrl}/v1/log`)).json()).treeSize));
    expect(target).toBe(501n);
    // The log's /checkpoint carries both cosignatures once both mirrors have verified everything.
    const served = await waitFor("a checkpoint cosigned by both mirrors at 501", async () => {
      const note = await text(`${logUrl}/checkpoint`);
      const cp = openCheckpoint(note, { origin: "mirror.test/log", logVerifier: createVerifier(logKey), cosigners: [createVerifier(vkeys.A!), createVerifier(vkeys.B!)] });
      return cp.treeSize === 501n && cp.note.sigs.length === 3 ? cp : undefined;
    });
    expect(served.note.sigs.map((s) => s.name).sort()).toEqual(["mirror-A.test", "mirror-B.test", "mirror.test/log"]);
    // The log's /metrics reports each witness's cosigned size and last success.
    const metrics = await text(`${logUrl}/metrics`);
    for (const w of ["mirror-A.test", "mirror-B.test"]) {
      expect(Number(new RegExp(`^ledger_witness_cosigned_tree_size\\{witness="${w}"\\} (\\d+)$`, "m").exec(metrics)?.[1])).toBeGreaterThanOrEqual(501);
      expect(metrics).toMatch(new RegExp(`^ledger_witness_last_success_timestamp_seconds\\{witness="${w}"\\} \\d`, "m"));
    }
    for (const m of [A, B]) expect(await sizeOf(m.url)).toBe(501n);
    const [ra, rb] = await Promise.all([A, B].map(async (m) => (await (await fetch(`${m.url}/v1/log`)).json()).rootHash));
    expect(ra).toBe(rb);
    const client = new LedgerClient({ url: logUrl, logKey, breakGlass: "refuse", quorum: { witnesses: [createVerifier(vkeys.A!), createVerifier(vkeys.B!)], k: 2 } });
    expect((await client.update()).treeSize).toBe(501n);
    const viaMirrors = new LedgerClient({ url: A.url, logKey, breakGlass: "refuse", quorum: { witnesses: [], k: 2, mirrors: [A.url, B.url] } });
    expect((await viaMirrors.sync()).treeSize).toBe(501n);
    // A mirror serves the same tiles and proofs as the log.
    expect(Buffer.from(await (await fetch(`${A.url}/tile/0/001`)).arrayBuffer())).toEqual(Buffer.from(await (await fetch(`${logUrl}/tile/0/001`)).arrayBuffer()));
  });

  it("a mirror killed mid-stream restarts and loses nothing", async () => {
    const A = procs.find((p) => p.url.endsWith(`:${ports.A}`))!;
    const appending = append(400);
    await new Promise((r) => setTimeout(r, 150));
    await A.stop("SIGKILL");
    procs.splice(procs.indexOf(A), 1);
    await appending;
    const restarted = await mirror("A", logUrl, [`http://127.0.0.1:${ports.B}`]);
    procs.push(restarted);
    await waitFor("the restarted mirror to catch up", async () => ((await sizeOf(restarted.url)) === 901n ? true : undefined));
    const [ra, rl] = await Promise.all([restarted.url, logUrl].map(async (u) => (await (await fetch(`${u}/v1/log`)).json()).rootHash));
    expect(ra).toBe(rl);
    const health = await (await fetch(`${restarted.url}/healthz`)).json();
    expect(health.status).toBe("ok");
  });

  it("a forked log (same key, other history) is caught by cross-checking, with evidence that verifies independently", async () => {
    const fork = `http://127.0.0.1:${ports.fork}`;
    const fetchFork: Fetch = (p, i) => fetch(fork + p, i);
    await postRecord(fetchFork, registerKey("npm:@m", k, "publish"));
    for (let i = 0; i < 5; i++) expect((await postRecord(fetchFork, signRelease("npm:@m", k, "evil", `6.6.${i}`))).status).toBe(201);
    // Mirror C follows the fork and cross-checks with mirror B, which follows the real log.
    const C = await mirror("C", fork, [`http://127.0.0.1:${ports.B}`]);
    procs.push(C);
    const evidence = await waitFor("evidence at mirror C", async () => {
      const e = (await (await fetch(`${C.url}/v1/evidence`)).json()).evidence as EquivocationEvidence[];
      return e.length > 0 ? e[0] : undefined;
    });
    // Anyone with the log key can check it: two signed checkpoints no honest log signs both of.
    verifyEquivocation(evidence, "mirror.test/log", createVerifier(logKey));
    expect(() => verifyEquivocation({ ...evidence, note2: evidence.note1 }, "mirror.test/log", createVerifier(logKey))).toThrow();
    const health = await fetch(`${C.url}/healthz`);
    expect(health.status).toBe(503);
    expect((await health.json()).reason).toMatch(/equivocation/);
    // C refuses to cosign past the fork.
    const latest = await text(`${fork}/checkpoint`);
    const size = (await (await fetch(`${C.url}/v1/log`)).json()).treeSize;
    const res = await fetch(`${C.url}/add-checkpoint`, { method: "POST", body: `old ${size}\n\n${latest}` });
    expect(res.status).not.toBe(200);
  });

  it("answers tlog-witness errors as the spec orders them", async () => {
    const B = `http://127.0.0.1:${ports.B}`;
    const note = await text(`${logUrl}/checkpoint`);
    const post = (body: string) => fetch(`${B}/add-checkpoint`, { method: "POST", body });
    expect((await post("nonsense")).status).toBe(400);
    expect((await post(`old 0\n\n${note.replace("mirror.test/log\n", "other.test/log\n")}`)).status).toBe(404);
    const forged = note.replace(/^(mirror\.test\/log\n\d+\n)(.)/, (_m, a, ch) => a + (ch === "A" ? "B" : "A"));
    expect((await post(`old 0\n\n${forged}`)).status).toBe(403);
    const stale = await post(`old 1\n\n${note}`);
    expect(stale.status).toBe(409);
    expect(stale.headers.get("content-type")).toBe("text/x.tlog.size");
    expect(await stale.text()).toMatch(/^\d+\n$/);
  });
});
