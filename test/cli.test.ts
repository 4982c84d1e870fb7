/** The `ledger` command as a user runs it: real processes, real ports on loopback. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSignerKey, formatVerifierKey, SIG_TYPE_COSIGNATURE, SIG_TYPE_ED25519 } from "../client/note.js";
import { loadConfig } from "../server/config.js";
import * as api from "../schema/api.js";
import { fetchCheckpoint, getJson, postRecord, TEST_TOKEN, TEST_WRITERS, type Fetch } from "./helpers/http.js";
import { runLedger, startServer } from "./helpers/process.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { STORES } from "./helpers/stores.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "ledger-cli-"));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("ledger keygen", () => {
  it("writes a 0600 key file in Go's format and prints its vkey", async () => {
    const out = join(tempDir(), "k", "log.key");
    const r = await runLedger(["keygen", "--name", "example.com/log", "--out", out]);
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const k = parseSignerKey(readFileSync(out, "utf8"));
    expect(r.stdout.trim()).toBe(formatVerifierKey("example.com/log", SIG_TYPE_ED25519, k.publicKey));
    const again = await runLedger(["keygen", "--name", "example.com/log", "--out", out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it("needs a name", async () => {
    const r = await runLedger(["keygen", "--out", join(tempDir(), "x.key")], { LEDGER_ORIGIN: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--name/);
  });
});

describe("ledger migrate", () => {
  it("applies the migrations, idempotently, and refuses a data dir a server holds", async () => {
    const dir = tempDir();
    for (let i = 0; i < 2; i++) {
      const r = await runLedger(["migrate", "--data-dir", dir], { DATABASE_URL: "" });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/migrations applied \(pglite\)/);
    }
    const server = await startServer({ LEDGER_DATA_DIR: dir, DATABASE_URL: "", LEDGER_WRITER_TOKENS: "" });
    try {
      const r = await runLedger(["migrate", "--data-dir", dir], { DATABASE_URL: "" });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/in use by process/);
    } finally {
      await server.stop();
    }
  });
});

describe("ledger serve refuses bad configuration with every problem named", () => {
  it("lists all bad values at once", async () => {
    const r = await runLedger(["serve"], {
      PORT: "99999",
      BATCH_MAX_SIZE: "0",
      DATABASE_URL: "mysql://x",
      LEDGER_DATA_DIR: tempDir(),
      LEDGER_LOG_LEVEL: "loud",
      LEDGER_EXPLORER: "maybe",
      LEDGER_VERIFY_THREADS: "-1",
      LEDGER_WITNESSES: "bogus",
    });
    expect(r.code).toBe(2);
    for (const name of ["PORT", "BATCH_MAX_SIZE", "DATABASE_URL", "LEDGER_LOG_LEVEL", "LEDGER_EXPLORER", "LEDGER_VERIFY_THREADS", "LEDGER_WITNESSES"]) expect(r.stderr).toContain(name);
    // The mirror checks its log level too, before it opens anything.
    const m = await runLedger(["mirror", "--source", "http://127.0.0.1:9", "--log-key", "x+00000000+AAAA", "--data-dir", tempDir()], { LEDGER_LOG_LEVEL: "loud" });
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/LEDGER_LOG_LEVEL must be one of/);
  });

  it("LEDGER_PUSH_MIRRORS must name witnesses of LEDGER_WITNESSES; a mirror pulls or is pushed to, not both", () => {
    const witnessKey = formatVerifierKey("mirror.example", SIG_TYPE_COSIGNATURE, new Uint8Array(32).fill(7));
    const ok = loadConfig({ LEDGER_WITNESSES: `1:${witnessKey}@http://m.example:8081`, LEDGER_PUSH_MIRRORS: "http://m.example:8081/" });
    expect(ok.witnesses!.witnesses[0]).toMatchObject({ url: "http://m.example:8081", push: true });
    expect(() => loadConfig({ LEDGER_WITNESSES: `1:${witnessKey}@http://m.example:8081`, LEDGER_PUSH_MIRRORS: "http://other.example" })).toThrow(/LEDGER_PUSH_MIRRORS: http:\/\/other.example is not the URL of a witness/);
    expect(() => loadConfig({ LEDGER_PUSH_MIRRORS: "http://m.example:8081" })).toThrow(/LEDGER_PUSH_MIRRORS: names witnesses of LEDGER_WITNESSES/);
  });

  it("ledger mirror takes --source or --push, exactly one", async () => {
    for (const args of [["--push", "--source", "http://127.0.0.1:9"], []]) {
      const m = await runLedger(["mirror", ...args, "--log-key", "x+00000000+AAAA", "--data-dir", tempDir()]);
      expect(m.code).toBe(2);
      expect(m.stderr).toMatch(/--source <url> \(pull\) or --push/);
    }
  });

  it("refuses a key file readable by others", async () => {
    const dir = tempDir();
    const key = join(dir, "log.key");
    expect((await runLedger(["keygen", "--name", "example.com/log", "--out", key])).code).toBe(0);
    chmodSync(key, 0o644);
    const r = await runLedger(["serve", "--port", "0"], { LEDGER_DATA_DIR: dir, LEDGER_KEY_FILE: key });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mode 644/);
  });

  it("refuses a key whose name is not the origin, and a missing explicit key file", async () => {
    const dir = tempDir();
    const key = join(dir, "log.key");
    await runLedger(["keygen", "--name", "example.com/log", "--out", key]);
    const r = await runLedger(["serve", "--port", "0"], { LEDGER_DATA_DIR: dir, LEDGER_KEY_FILE: key, LEDGER_ORIGIN: "other.example/log" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must equal the origin/);
    const missing = await runLedger(["serve", "--port", "0"], { LEDGER_DATA_DIR: dir, LEDGER_KEY_FILE: join(dir, "nope.key") });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});

describe.each(STORES)("ledger serve as a real process: $kind", (fixture) => {
  it("serves, appends, stops cleanly and restarts on the same data with the same key", async () => {
    const loc = await fixture.create();
    const dataDir = tempDir();
    const env = { LEDGER_DATA_DIR: dataDir, DATABASE_URL: loc.databaseUrl ?? "", LEDGER_ORIGIN: "", LEDGER_WRITER_TOKENS: TEST_WRITERS };
    try {
      let server = await startServer(env);
      let fetch: Fetch = (p, init) => globalThis.fetch(server.url + p, init);
      const info = await getJson(fetch, "/v1/log", api.LogInfoResponse);
      expect(info.origin).toBe("localhost/ledger");
      expect(statSync(join(dataDir, "log.key")).mode & 0o777).toBe(0o600);
      expect(server.stderr()).toContain(info.verifierKey);
      // The public key beside the data, for a mirror started next to the log.
      expect(readFileSync(join(dataDir, "log.vkey"), "utf8")).toBe(info.verifierKey + "\n");
      const k = testKey(20);
      expect((await postRecord(fetch, registerKey("npm:cli", k, "publish"))).status).toBe(201);
      expect((await postRecord(fetch, signRelease("npm:cli", k, "p", "1.0.0"), "?wait=checkpoint")).status).toBe(201);
      // Oversized headers are refused before the app, still with a JSON code; the server stays up.
      const huge = await fetch("/v1/log", { headers: { "x-padding": "x".repeat(20_000) } });
      expect(huge.status).toBe(431);
      expect((await huge.json()).error.code).toBe("headers_too_large");
      expect((await fetch("/healthz")).status).toBe(200);
      if (fixture.kind === "pglite") {
        // A second server on the same PGlite data dir is refused.
        const second = await runLedger(["serve", "--port", "0"], env);
        expect(second.code).toBe(2);
        expect(second.stderr).toMatch(/in use by process/);
      }
      expect(await server.stop()).toBe(0);
      // JSON logs on stderr: the start, a line per request with its ID; never the token.
      const logLines = server.stderr().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      expect(logLines.find((l) => l.msg === "serving")).toMatchObject({ level: "info", store: fixture.kind, vkey: info.verifierKey });
      expect(logLines.some((l) => l.msg === "request" && l.route === "/v1/records" && l.status === 201 && /^[0-9a-f-]{36}$/.test(l.reqId))).toBe(true);
      expect(server.stderr()).not.toContain(TEST_TOKEN);

      server = await startServer(env);
      fetch = (p, init) => globalThis.fetch(server.url + p, init);
      const cp = await fetchCheckpoint(fetch, info.origin, info.verifierKey);
      expect(cp.treeSize).toBe(2n);
      expect((await postRecord(fetch, signRelease("npm:cli", k, "p", "1.0.1"))).body.index).toBe("2");
      expect(await server.stop()).toBe(0);
    } finally {
      await loc.destroy();
    }
  });
});

describe.each(STORES)("ledger token: $kind", (fixture) => {
  it("creates a scoped token the server accepts, lists it without the secret, and revokes it", async () => {
    const loc = await fixture.create();
    const dataDir = tempDir();
    const env = { LEDGER_DATA_DIR: dataDir, DATABASE_URL: loc.databaseUrl ?? "", LEDGER_ORIGIN: "", LEDGER_WRITER_TOKENS: "" };
    try {
      const created = await runLedger(["token", "create", "--name", "acme-registry", "--namespaces", "npm:@acme*"], env);
      expect(created.code, created.stderr).toBe(0);
      const token = created.stdout.trim();
      expect(token).toMatch(/^ldg_[A-Za-z0-9_-]{43}$/);
      const list = await runLedger(["token", "list"], env);
      expect(list.stdout).toMatch(/^acme-registry\tnpm:@acme\*\t\S+\tactive$/m);
      expect(list.stdout + list.stderr).not.toContain(token);

      let server = await startServer(env);
      const fetch: Fetch = (p, init) => globalThis.fetch(server.url + p, init);
      const k = testKey(21);
      expect((await postRecord(fetch, registerKey("npm:@acme", k, "publish"), "", token)).status).toBe(201);
      expect((await postRecord(fetch, registerKey("npm:@other", k, "publish"), "", token)).status).toBe(403);
      expect(await server.stop()).toBe(0);

      const revoked = await runLedger(["token", "revoke", "--name", "acme-registry"], env);
      expect(revoked.code).toBe(0);
      expect((await runLedger(["token", "list"], env)).stdout).toMatch(/\trevoked /);
      server = await startServer(env);
      const fetch2: Fetch = (p, init) => globalThis.fetch(server.url + p, init);
      expect((await postRecord(fetch2, signRelease("npm:@acme", k, "p", "1.0.0"), "", token)).status).toBe(401);
      expect(await server.stop()).toBe(0);
    } finally {
      await loc.destroy();
    }
  });

  it("refuses bad usage with exit code 2", async () => {
    const env = { LEDGER_DATA_DIR: tempDir() };
    expect((await runLedger(["token", "create", "--name", "x"], env)).code).toBe(2);
    expect((await runLedger(["token", "create", "--namespaces", "npm:*"], env)).code).toBe(2);
    expect((await runLedger(["token", "create", "--name", "x", "--namespaces", "bad pattern!"], env)).code).toBe(2);
    expect((await runLedger(["token", "frobnicate"], env)).code).toBe(2);
    expect((await runLedger(["token", "list", "--bogus"], env)).code).toBe(2);
  });
});

describe("CLI help and colours", () => {
  const COMMANDS = ["serve", "keygen", "migrate", "token", "register-key", "revoke-key", "set-policy", "sign-release", "approve", "submit-outcome", "verify-release", "verify-log", "status", "mirror", "monitor"];

  it("every command has --help with a usage line, a description and exit 0", async () => {
    const { main } = await import("../server/cli.js");
    for (const c of COMMANDS) {
      let out = "";
      const code = await main([c, "--help"], { out: (s) => (out += s), err: () => {} });
      expect(code, c).toBe(0);
      expect(out, c).toMatch(new RegExp(`^Usage: ledger ${c}\\b`));
      expect(out.split("\n").filter(Boolean).length, `${c} help has no description`).toBeGreaterThan(2);
    }
    let top = "";
    expect(await main(["--help"], { out: (s) => (top += s), err: () => {} })).toBe(0);
    for (const c of COMMANDS) expect(top).toContain(c);
  });

  it("colours failures only where the stream may carry colour", async () => {
    const { exitCodeFor } = await import("../cli/errors.js");
    const { ProofError } = await import("../client/errors.js");
    const run = (color: boolean) => {
      let err = "";
      const code = exitCodeFor(new ProofError("wrong_proof_size", "bad proof"), { out: () => {}, err: (s) => (err += s), color: { out: color, err: color } });
      return { code, err };
    };
    expect(run(true)).toEqual({ code: 1, err: "ledger: \x1b[31mverification failed\x1b[39m (wrong_proof_size): bad proof\n" });
    expect(run(false)).toEqual({ code: 1, err: "ledger: verification failed (wrong_proof_size): bad proof\n" });
    // A real process writing to pipes (not a terminal) prints no escape codes.
    const r = await runLedger(["status", "--server", "http://127.0.0.1:9", "--log-key", "x+00000000+AAAA"], {});
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).not.toContain("\x1b[");
  });
});
