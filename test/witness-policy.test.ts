/**
 * C2SP, current (real processes on loopback): a log whose witnesses are
 * given as a tlog-policy file — a 2-of-3 group of one Ed25519 mirror and two
 * ML-DSA-44 mirrors, one of which the log pushes to by C2SP tlog-mirror —
 * serves checkpoints that a client with the same policy accepts. A tampered ML-DSA cosignature, a cosigner outside the policy and a
 * quorum not met are each refused with a code, by LedgerClient, by
 * `ledger verify-release --policy` and by offline tlog-proof verification;
 * the explorer lists the signatures by policy witness and says whether the
 * quorum is met.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outcome as code, waitFor } from "./helpers/outcome.js";
import { concatBytes, encodeBase64, parseBase64, uint64BE } from "../client/bytes.js";
import { openCheckpoint } from "../client/checkpoint.js";
import { entryLeafHash } from "../client/entry.js";
import { LedgerError } from "../client/errors.js";
import { LedgerClient } from "../client/ledger-client.js";
import { computeKeyId, createVerifier, formatSignatureLine, formatVerifierKey, mldsaCosignedMessage, SIG_TYPE_MLDSA44_COSIGNATURE } from "../client/note.js";
import { parsePolicy } from "../client/policy.js";
import { formatTlogProof, verifyTlogProof } from "../client/tlog-proof.js";
import { main } from "../server/cli.js";
import { haveChromium, launchChromium } from "./helpers/browser.js";
import { postRecord, TEST_WRITERS, type Fetch } from "./helpers/http.js";
import { freePort, runLedger, startLedger, startServer, type Running } from "./helpers/process.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

// PostgreSQL when the run has one (each process its own database; four embedded databases take
// some 25 s to initialise on two cores), else the embedded default.
const fixture = STORES.find((x) => x.kind === "postgres") ?? STORES[0]!;

const ORIGIN = "policy.test/log";
const NS = "npm:@p";

async function cli(...args: string[]): Promise<string> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  if (code !== 0) throw new Error(`ledger ${args.join(" ")} exited ${code}: ${err}`);
  return out.trim();
}



describe("a 2-of-3 witness policy: one Ed25519 mirror, two ML-DSA-44 mirrors", () => {
  const dir = mkdtempSync(join(tmpdir(), "ledger-policy-"));
  const f = (n: string) => join(dir, n);
  const procs: Running[] = [];
  const locs: StoreLocation[] = [];
  const ports: Record<string, number> = {};
  const vkeys: Record<string, string> = {};
  let logUrl = "";
  let logKey = "";
  let policyText = "";
  const publisher = testKey(700);
  // A cosigner the policy does not name, with an ML-DSA-44 key of its own.
  const stranger = ml_dsa44.keygen(new Uint8Array(32).fill(77));
  const strangerId = computeKeyId("stranger.test", SIG_TYPE_MLDSA44_COSIGNATURE, stranger.publicKey);

  beforeAll(async () => {
    for (const name of ["log", "E", "P1", "P2"]) ports[name] = await freePort();
    vkeys.E = await cli("keygen", "--name", "witness-e.test", "--out", f("E.key"), "--cosigner");
    vkeys.P1 = await cli("keygen", "--name", "witness-p1.test", "--out", f("P1.key"), "--cosigner", "--alg", "ml-dsa-44");
    vkeys.P2 = await cli("keygen", "--name", "witness-p2.test", "--out", f("P2.key"), "--cosigner", "--alg", "ml-dsa-44");
    logKey = await cli("keygen", "--name", ORIGIN, "--out", f("log.key"));
    logUrl = `http://127.0.0.1:${ports.log}`;
    policyText = [
      "# the log, and who must cosign its checkpoints",
      `log ${logKey} ${logUrl}`,
      `witness E ${vkeys.E} http://127.0.0.1:${ports.E}`,
      `witness P1 ${vkeys.P1} http://127.0.0.1:${ports.P1}`,
      `witness P2 ${vkeys.P2} http://127.0.0.1:${ports.P2}`,
      "group two-of-three 2 E P1 P2",
      "quorum two-of-three",
      "",
    ].join("\n");
    writeFileSync(f("policy.txt"), policyText);
    for (let i = 0; i < 4; i++) locs.push(await fixture.create());
    const db = (i: number) => locs[i]!.databaseUrl;
    procs.push(
      await startServer({ LEDGER_KEY_FILE: f("log.key"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "5", DATABASE_URL: db(0) ?? "", LEDGER_ORIGIN: "", PORT: String(ports.log), LEDGER_DATA_DIR: f("logdata"), LEDGER_WITNESSES: f("policy.txt"), LEDGER_PUSH_MIRRORS: `http://127.0.0.1:${ports.P2}`, LEDGER_WITNESS_INTERVAL_MS: "100" }),
    );
    // The three mirrors start side by side (each initialises its embedded database).
    const mirrors = await Promise.all(
      ([["E", "ed25519"], ["P1", "ml-dsa-44"], ["P2", "ml-dsa-44"]] as const).map(([name, alg], i) =>
        // P2 pulls nothing: the log pushes to it (tlog-mirror add-checkpoint and add-entries).
        startLedger(["mirror", ...(name === "P2" ? ["--push"] : ["--source", logUrl]), "--log-key", logKey, "--port", String(ports[name]), "--data-dir", f(name), ...(db(i + 1) ? ["--database-url", db(i + 1)!] : []), "--key-file", f(`${name}.key`), "--cosigner-alg", alg, "--interval", "150"], {}, 60_000),
      ),
    );
    procs.push(...mirrors);
    const fetchLog: Fetch = (p, i) => fetch(logUrl + p, i);
    expect((await postRecord(fetchLog, registerKey(NS, publisher, "publish"))).status).toBe(201);
    for (let i = 0; i < 20; i++) expect((await postRecord(fetchLog, signRelease(NS, publisher, "@p/pkg", `1.0.${i}`))).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) await p.stop();
    for (const l of locs) await l.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The log's checkpoint once it covers all 21 entries with the policy's quorum. */
  const served = () =>
    waitFor("a checkpoint of 21 entries meeting the policy", async () => {
      const note = await (await fetch(`${logUrl}/checkpoint`)).text();
      const policy = parsePolicy(policyText);
      const cp = openCheckpoint(note, { origin: ORIGIN, logVerifier: createVerifier(logKey), cosigners: policy.witnesses.map((w) => w.verifier) });
      return cp.treeSize === 21n && cp.note.sigs.length >= 3 ? { note, cp } : undefined;
    });

  it("the log serves checkpoints cosigned to the policy, in both algorithms; /v1/log names the policy", async () => {
    const { cp } = await served();
    const names = cp.note.sigs.map((s) => s.name).filter((n) => n !== ORIGIN);
    expect(names.length).toBeGreaterThanOrEqual(2);
    const info = (await (await fetch(`${logUrl}/v1/log`)).json()) as { witnesses: { quorum: number; vkeys: string[]; policy: string } };
    expect(info.witnesses).toEqual({ quorum: 2, vkeys: [vkeys.E, vkeys.P1, vkeys.P2], policy: policyText });
    // Every mirror cosigns in its own algorithm: the ML-DSA lines carry 8 + 2420 bytes.
    await waitFor("all three mirrors to cosign size 21", async () => {
      const sizes = await Promise.all(["E", "P1", "P2"].map(async (n) => (await (await fetch(`http://127.0.0.1:${ports[n]}/v1/log`)).json()).treeSize));
      return sizes.every((s) => s === "21") ? true : undefined;
    });
    const p1 = (await (await fetch(`http://127.0.0.1:${ports.P1}/checkpoint`)).text()).split("\n").find((l) => l.startsWith("\u2014 witness-p1.test "))!;
    expect(parseBase64(p1.split(" ")[2]!).length).toBe(4 + 8 + 2420);
    // tlog-witness monitor retrieval: the latest cosigned checkpoint under the origin's hash.
    const hash = createHash("sha256").update(ORIGIN).digest("hex");
    const monitored = await fetch(`http://127.0.0.1:${ports.P1}/${hash}/checkpoint`);
    expect(monitored.status).toBe(200);
    const mcp = openCheckpoint(await monitored.text(), { origin: ORIGIN, logVerifier: createVerifier(logKey), cosigners: [createVerifier(vkeys.P1!)] });
    expect(mcp.note.sigs.map((s) => s.name)).toEqual([ORIGIN, "witness-p1.test"]);
    expect((await fetch(`http://127.0.0.1:${ports.P1}/${createHash("sha256").update("other.example/log").digest("hex")}/checkpoint`)).status).toBe(404);
    // P2 was pushed to: it holds the log's entries, verified, and serves them as tlog-tiles under the origin's hash.
    const pushed = await fetch(`http://127.0.0.1:${ports.P2}/${hash}/checkpoint`);
    const pcp = openCheckpoint(await pushed.text(), { origin: ORIGIN, logVerifier: createVerifier(logKey), cosigners: [createVerifier(vkeys.P2!)] });
    expect(pcp.note.sigs.map((s) => s.name)).toEqual([ORIGIN, "witness-p2.test"]);
    const bundle = new Uint8Array(await (await fetch(`http://127.0.0.1:${ports.P2}/${hash}/tile/entries/000.p/21`)).arrayBuffer());
    const fromLog = new Uint8Array(await (await fetch(`${logUrl}/tile/entries/000.p/21`)).arrayBuffer());
    expect(encodeBase64(bundle)).toBe(encodeBase64(fromLog));
  });

  it("a client with the policy accepts; a tampered ML-DSA cosignature, an outside cosigner and an unmet quorum are refused with their codes", async () => {
    const { note } = await served();
    const policy = parsePolicy(policyText);
    const client = new LedgerClient({ url: logUrl, logKey, breakGlass: "refuse", policy });
    expect((await client.update()).treeSize).toBe(21n);

    // Variants of the served note, served to a client through its fetch.
    const [body, sigBlock] = note.split("\n\n") as [string, string];
    const lines = sigBlock.split("\n").filter((l) => l !== "");
    const logLine = lines.find((l) => l.startsWith(`\u2014 ${ORIGIN} `))!;
    const line = (who: string) => lines.find((l) => l.startsWith(`\u2014 ${who} `));
    const mldsa = line("witness-p1.test") ?? line("witness-p2.test");
    expect(mldsa).toBeDefined();
    const [, mname, mb64] = mldsa!.split(" ") as [string, string, string];
    const flipped = parseBase64(mb64);
    flipped[600]! ^= 0x10;
    const outsider = (() => {
      const cp = openCheckpoint(note, { origin: ORIGIN, logVerifier: createVerifier(logKey) });
      const time = 1_800_000_000n;
      const msg = mldsaCosignedMessage({ cosigner: "stranger.test", time, origin: ORIGIN, start: 0n, end: cp.treeSize, hash: cp.rootHash });
      return formatSignatureLine("stranger.test", strangerId, concatBytes(uint64BE(time), ml_dsa44.sign(msg, stranger.secretKey))).trimEnd();
    })();
    const variants: Record<string, string[]> = {
      tampered: [logLine, `\u2014 ${mname} ${encodeBase64(flipped)}`, ...lines.filter((l) => l !== logLine && l !== mldsa)],
      outsider: [logLine, mldsa!, outsider],
      unmet: [logLine, mldsa!],
    };
    const strangerPolicy = parsePolicy(`${policyText.replace("quorum two-of-three", "")}witness S ${formatVerifierKey("stranger.test", SIG_TYPE_MLDSA44_COSIGNATURE, stranger.publicKey)}\ngroup S-and-E all S E\nquorum S-and-E\n`);
    const want: Record<string, string> = { tampered: "invalid_signature", outsider: "policy", unmet: "policy" };
    for (const [name, sigs] of Object.entries(variants)) {
      const forged = `${body}\n\n${sigs.join("\n")}\n`;
      const proxy: typeof fetch = async (input, init) => (String(input).endsWith("/checkpoint") ? new Response(forged) : fetch(input, init));
      const c = new LedgerClient({ url: logUrl, logKey, breakGlass: "refuse", policy, fetch: proxy });
      const got = await c.update().then(() => "ok", (e: LedgerError) => e.code);
      expect(got, name).toBe(want[name]);
      // The same bytes offline, as a tlog-proof of entry 0.
      const proofNote = forged;
      const entry = await (await fetch(`${logUrl}/v1/entries/0`)).json();
      const bytes = parseBase64(entry.entry);
      const proof = ((await (await fetch(`${logUrl}/v1/proofs/inclusion?index=0&treeSize=21`)).json()) as { proof: string[] }).proof.map(parseBase64);
      const bundle = formatTlogProof({ index: 0n, proof, checkpoint: proofNote });
      expect(code(() => verifyTlogProof(bundle, entryLeafHash(bytes), { origin: ORIGIN, logVerifier: createVerifier(logKey), policy })), `${name} offline`).toBe(want[name]);
    }
    // The outsider's cosignature does count for a policy that names it.
    const forged = `${body}\n\n${[logLine, line("witness-e.test") ?? "", outsider].filter(Boolean).join("\n")}\n`;
    if (line("witness-e.test")) {
      const proxy: typeof fetch = async (input, init) => (String(input).endsWith("/checkpoint") ? new Response(forged) : fetch(input, init));
      expect((await new LedgerClient({ url: logUrl, logKey, breakGlass: "refuse", policy: strangerPolicy, fetch: proxy }).update()).treeSize).toBe(21n);
    }
  });

  it("ledger verify-release --policy: accepted under the policy, refused (exit 1) under one the log's witnesses cannot meet", async () => {
    await served();
    const ok = await runLedger(["verify-release", "--server", logUrl, "--policy", f("policy.txt"), "--namespace", NS, "--package", "@p/pkg", "--version", "1.0.3", "--artifact", (signRelease(NS, publisher, "@p/pkg", "1.0.3").statement as { artifacts: Array<{ name: string; sha256: string }> }).artifacts.map((a) => `${a.name}=${a.sha256}`)[0]!, "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, index: "4" });
    writeFileSync(f("strict.txt"), policyText.replace("group two-of-three 2 E P1 P2", `witness S ${formatVerifierKey("stranger.test", SIG_TYPE_MLDSA44_COSIGNATURE, stranger.publicKey)}\ngroup two-of-three all E S`));
    const strict = await runLedger(["verify-release", "--server", logUrl, "--policy", f("strict.txt"), "--namespace", NS, "--package", "@p/pkg", "--version", "1.0.3", "--artifact", "x=" + "0".repeat(64)]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/does not meet the policy's quorum two-of-three/);
    const broken = await runLedger(["verify-release", "--server", logUrl, "--policy", f("missing.txt"), "--namespace", NS, "--package", "@p/pkg", "--version", "1.0.3", "x"]);
    expect(broken.code).toBe(2);
  });

  it.skipIf(!haveChromium)("the explorer lists each cosignature by policy witness and says the quorum is met", async () => {
    await served();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(logUrl + "/");
      await page.waitForSelector('[data-policy="met"]', { timeout: 20_000 });
      const sigs = await page.locator("ul.sigs li").allTextContents();
      expect(sigs.some((s) => /policy witness (P1|P2)/.test(s))).toBe(true);
      expect(sigs.filter((s) => /policy witness/.test(s)).length).toBeGreaterThanOrEqual(2);
      expect(await page.locator('[data-policy="met"]').locator("..").textContent()).toMatch(/policy quorum two-of-three: cosigned by /);
    } finally {
      await browser.close();
    }
  });
});
