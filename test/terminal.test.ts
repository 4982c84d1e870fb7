/**
 * What the package-manager CLI prints: untrusted strings from the log never
 * reach a terminal raw (a label with ESC[8m would hide its own [NEW KEY]
 * alert; one with a newline would forge a report line), and verify-log gives
 * one answer: an honest log audited with break-glass refused is "ok", exit 0.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../server/cli.js";
import { monitorCommand } from "../cli/monitor.js";
import type { Out } from "../cli/output.js";
import { VERIFY_COMMANDS as COMMANDS } from "../cli/verify.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { listen } from "../server/listen.js";
import { escapeTerminal } from "../cli/terminal.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRecord, signRelease, testKey } from "./helpers/records.js";

describe("escapeTerminal", () => {
  it.each([
    ["ci\u001b[8m", "ci\\u{1b}[8m"],
    ["a\nb\rc", "a\\u{a}b\\u{d}c"],
    ["\u009b31m", "\\u{9b}31m"], // 8-bit CSI
    ["\u007f\u0000", "\\u{7f}\\u{0}"],
    ["abc\u202egnp.exe", "abc\\u{202e}gnp.exe"], // right-to-left override
    ["plain @scope/name 1.0.0 ünïcødé", "plain @scope/name 1.0.0 ünïcødé"],
  ])("%j", (raw, shown) => {
    expect(escapeTerminal(raw)).toBe(shown);
  });
});

function capture(): Out & { text: () => { out: string; err: string } } {
  let out = "";
  let err = "";
  return { out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false, color: { out: true, err: true }, text: () => ({ out, err }) };
}

describe("the CLI against a log with hostile strings", () => {
  const NS = "npm:@term";
  const [admin, ci, forged, core1, core2, rescue, helper] = [800, 801, 802, 803, 804, 805, 806].map(testKey);
  let dir: string;
  let ledger: Ledger;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-term-"));
    ledger = await createLedger(
      loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "2", LEDGER_CORE_KEYS: `2:${core1!.publicKeyB64},${core2!.publicKeyB64}` }),
      { log: () => {} },
    );
    const l = await listen(ledger.app, "127.0.0.1", 0);
    server = l.server;
    url = `http://127.0.0.1:${l.port}`;
    const post = async (r: unknown) => expect((await postRecord(async (p, i) => ledger.app.request(p, i), r)).status).toBe(201);
    await post(registerKey(NS, admin!, "admin"));
    await post(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: ci!.publicKeyB64, role: "publish", label: "ci\u001b[8m" } }, ci!, admin!));
    await post(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: forged!.publicKeyB64, role: "publish", label: "x\n999 npm:@term key.revoke everything fine" } }, forged!, admin!));
    await post(signRelease(NS, ci!, "pkg", "1.0.0"));
    await post(signRecord({ type: "release.revoke", namespace: NS, statement: { package: "pkg", version: "1.0.0", reason: "see \u202eexe.txt" } }, ci!));
    // Break-glass: the core keys register a rescue admin, which then registers a helper key.
    await post(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: rescue!.publicKeyB64, role: "admin", breakGlass: true } }, rescue!, core1!, core2!));
    await post(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: helper!.publicKeyB64, role: "publish" } }, helper!, rescue!));
    await post(signRelease(NS, helper!, "helped", "1.0.0"));
  });
  afterAll(async () => {
    server?.close();
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("monitor: one line per record, no raw control character, every alert visible", async () => {
    const io = capture();
    expect(await monitorCommand(["--server", url, "--log-key", ledger.signer.verifierKey, "--namespace", NS, "--once"], io)).toBe(0);
    const { out } = io.text();
    const plain = out.replace(/\x1b\[(?:3[139]|1|22)m/g, ""); // our own colours only
    expect(plain).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    const lines = plain.trimEnd().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(lines[1]).toContain("(ci\\u{1b}[8m)");
    expect(lines[1]).toContain("[NEW KEY]");
    expect(lines[2]).toContain("x\\u{a}999 npm:@term key.revoke");
    expect(lines[4]).toContain("see \\u{202e}exe.txt");
  });

  it("verify-log: an honest log with break-glass refused is ok, exit 0, the dependent records ignored", async () => {
    const io = capture();
    expect(await COMMANDS["verify-log"]!(["--server", url, "--log-key", ledger.signer.verifierKey], io)).toBe(0);
    expect(io.text().out).toMatch(/^\x1b\[32mok:\x1b\[39m .* refused 0, ignored with break-glass 3;/);
    const json = capture();
    expect(await COMMANDS["verify-log"]!(["--server", url, "--log-key", ledger.signer.verifierKey, "--json"], json)).toBe(0);
    expect(JSON.parse(json.text().out)).toMatchObject({ ok: true, records: { applied: 5, refused: 0, ignored: 3 } });
    const accepting = capture();
    const core = `2:${core1!.publicKeyB64},${core2!.publicKeyB64}`;
    expect(await COMMANDS["verify-log"]!(["--server", url, "--log-key", ledger.signer.verifierKey, "--json", "--break-glass", "accept", "--core-keys", core], accepting)).toBe(0);
    expect(JSON.parse(accepting.text().out)).toMatchObject({ ok: true, records: { applied: 8, refused: 0, ignored: 0 } });
  });

  it("verify-release: the failure names the check, with the hostile package name escaped", async () => {
    const io = capture();
    const code = await main(["verify-release", "--server", url, "--log-key", ledger.signer.verifierKey, "--namespace", NS, "--package", "pkg\u202e", "--version", "1.0.0", "--artifact", `other=${"0".repeat(64)}`], io);
    expect(code).toBe(1);
    const { err } = io.text();
    expect(err).toMatch(/verification failed.*\(policy \[not_logged\]\): npm:@term pkg\\u\{202e\}@1\.0\.0/);
    expect(err).not.toContain("\u202e");
  });
});
