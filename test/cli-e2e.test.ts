/**
 * The CLI end to end against real server processes: a registry registers
 * keys, sets a policy, signs and approves a release; a package manager
 * verifies it. Then every way it must fail, with the exit code and message:
 * modified proofs, another log key, a forked log, another digest, a revoked
 * key, break-glass under both policies.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../server/cli.js";
import { runLedger, startServer, type Running } from "./helpers/process.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

const TOKEN = "cli-e2e-writer-token-0123456789";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

/** A proxy to `target` that flips one byte of every inclusion proof it passes on. */
function tamperingProxy(target: string): Promise<{ url: string; server: Server }> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const up = httpRequest({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (c) => chunks.push(c));
      r.on("end", () => {
        let body = Buffer.concat(chunks);
        if (req.url?.startsWith("/v1/proofs/inclusion") && r.statusCode === 200) {
          const j = JSON.parse(body.toString());
          if (j.proof.length > 0) {
            const h = Buffer.from(j.proof[0], "base64");
            h[0]! ^= 1;
            j.proof[0] = h.toString("base64");
          }
          body = Buffer.from(JSON.stringify(j));
        }
        res.writeHead(r.statusCode!, { "content-type": r.headers["content-type"] ?? "application/json" });
        res.end(body);
      });
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

describe("ledger CLI end to end", () => {
  const dir = mkdtempSync(join(tmpdir(), "ledger-cli-e2e-"));
  const f = (name: string) => join(dir, name);
  const locs: StoreLocation[] = [];
  const servers: Running[] = [];
  const keys: Record<string, { vkey: string; publicKey: string; keyId: string; file: string }> = {};
  let logKey: string;
  let A: Running; // PGlite
  let B: Running; // PostgreSQL when available: same key, another history (a fork)

  const W = (...a: string[]) => [...a, "--server", A.url, "--token", TOKEN, "--namespace", "npm:@cli"];
  const V = (server: string, ...a: string[]) => [...a, "--server", server, "--log-key", logKey, "--namespace", "npm:@cli", "--package", "cli-pkg"];

  beforeAll(async () => {
    for (const name of ["admin", "publish", "apprA", "apprB", "core1", "core2", "rescue", "log"]) {
      const r = await cli("keygen", "--name", `cli-${name}`, "--out", f(`${name}.key`), "--json");
      expect(r.code).toBe(0);
      keys[name] = JSON.parse(r.out);
    }
    // The log key is made with the origin as its name.
    rmSync(f("log.key"));
    logKey = (await cli("keygen", "--name", "cli.example/log", "--out", f("log.key"))).out.trim();
    const core = `2:${keys.core1!.publicKey},${keys.core2!.publicKey}`;
    const env = (dataDir: string, url?: string) => ({ LEDGER_DATA_DIR: dataDir, DATABASE_URL: url ?? "", LEDGER_KEY_FILE: f("log.key"), LEDGER_ORIGIN: "", LEDGER_WRITER_TOKENS: `cli:${TOKEN}:npm:*`, LEDGER_CORE_KEYS: core, BATCH_MAX_AGE_MS: "2" });
    const fixtureB = STORES.find((s) => s.kind === "postgres") ?? STORES[0]!;
    locs.push(await fixtureB.create());
    A = await startServer(env(f("dataA")));
    B = await startServer(env(f("dataB"), locs[0]!.databaseUrl));
    servers.push(A, B);
    writeFileSync(f("cli-pkg-1.0.0.tgz"), "release one");
    writeFileSync(f("policy.json"), JSON.stringify({ adminThreshold: 1, groups: [{ name: "reviewers", members: [keys.apprA!.keyId, keys.apprB!.keyId], threshold: 2, excludeRequester: false }] }));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const l of locs) await l.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a registry writes keys, a policy, a release and its approvals; a package manager verifies it", async () => {
    expect((await cli(...W("register-key", "--key", f("admin.key"), "--role", "admin"))).code).toBe(0);
    for (const [k, role] of [["publish", "publish"], ["apprA", "approve"], ["apprB", "approve"]] as const) {
      const r = await cli(...W("register-key", "--key", f(`${k}.key`), "--role", role, "--signer", f("admin.key")));
      expect(r.code, r.err).toBe(0);
    }
    expect((await cli(...W("set-policy", "--policy", f("policy.json"), "--signer", f("admin.key")))).code).toBe(0);
    const rel = ["--package", "cli-pkg", "--version", "1.0.0"];
    expect((await cli(...W("sign-release", ...rel, "--key", f("publish.key"), f("cli-pkg-1.0.0.tgz")))).code).toBe(0);
    const notYet = await cli(...V(A.url, "verify-release", "--version", "1.0.0", f("cli-pkg-1.0.0.tgz")));
    expect(notYet.code).toBe(1);
    expect(notYet.err).toMatch(/\[not_approved\]/);
    for (const k of ["apprA", "apprB"]) {
      const a = await cli("approve", "--namespace", "npm:@cli", ...rel, "--requester", keys.publish!.keyId, "--key", f(`${k}.key`), f("cli-pkg-1.0.0.tgz"));
      expect(a.code).toBe(0);
      writeFileSync(f(`${k}.approval`), a.out);
    }
    const o = await cli(...W("submit-outcome", ...rel, "--requester", keys.publish!.keyId, "--approval", f("apprA.approval"), "--approval", f("apprB.approval"), "--decision", "approved", "--key", f("publish.key"), f("cli-pkg-1.0.0.tgz")));
    expect(o.code, o.err).toBe(0);

    // The real binary, as a package manager would run it.
    const ok = await runLedger([...V(A.url, "verify-release", "--version", "1.0.0", "--json", "--state", f("stateA")), f("cli-pkg-1.0.0.tgz")]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, approved: true, signedBy: [keys.publish!.keyId], breakGlass: { involved: false } });
    const human = await cli(...V(A.url, "verify-release", "--version", "1.0.0", f("cli-pkg-1.0.0.tgz")));
    expect(human.out).toMatch(/^ok: cli-pkg@1\.0\.0 logged at \d+/);
  });

  it("a release digest that differs fails with exit 1", async () => {
    const r = await cli(...V(A.url, "verify-release", "--version", "1.0.0", "--artifact", `cli-pkg-1.0.0.tgz=${"0".repeat(64)}`));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\[artifacts_mismatch\]/);
    mkdirSync(f("evil"));
    writeFileSync(f("evil/cli-pkg-1.0.0.tgz"), "tampered"); // same name, other content
    const file = await cli(...V(A.url, "verify-release", "--version", "1.0.0", f("evil/cli-pkg-1.0.0.tgz")));
    expect(file.code).toBe(1);
    expect(file.err).toMatch(/\[artifacts_mismatch\]/);
  });

  it("a served inclusion proof that was modified fails with exit 1", async () => {
    const proxy = await tamperingProxy(A.url);
    try {
      const r = await cli(...V(proxy.url, "verify-release", "--version", "1.0.0", f("cli-pkg-1.0.0.tgz")));
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/root_mismatch/);
    } finally {
      proxy.server.close();
    }
  });

  it("a checkpoint signed by another key fails with exit 1", async () => {
    const r = await cli("status", "--server", A.url, "--log-key", keys.log!.vkey.replace("cli-log", "cli.example/log"));
    expect(r.code).not.toBe(0);
    const other = await cli("status", "--server", A.url, "--log-key", keys.admin!.vkey);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/no_verified_signature|bad_checkpoint/);
  });

  it("a forked log (same key, other history) is detected against the trusted state", async () => {
    // B signs a longer, different history with the same key.
    for (let i = 0; i < 12; i++) {
      expect((await cli("register-key", "--server", B.url, "--token", TOKEN, "--namespace", `npm:@fork${i}`, "--key", f("rescue.key"), "--role", "publish")).code).toBe(0);
    }
    const state = f("fork-state");
    expect((await cli("status", "--server", A.url, "--log-key", logKey, "--state", state)).code).toBe(0);
    const trusted = readFileSync(state, "utf8");
    const r = await cli("status", "--server", B.url, "--log-key", logKey, "--state", state, "--json");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/verification failed \(inconsistent\)/);
    // The trusted state did not move to the fork.
    expect(readFileSync(state, "utf8")).toBe(trusted);
    expect((await cli("status", "--server", A.url, "--log-key", logKey, "--state", state)).code).toBe(0);
  });

  it("a revoked key's later signatures are refused; its earlier release still verifies", async () => {
    const revoke = await cli(...W("revoke-key", "--key-id", keys.publish!.keyId, "--reason", "laptop stolen", "--signer", f("admin.key")));
    expect(revoke.code, revoke.err).toBe(0);
    const late = await cli(...W("sign-release", "--package", "cli-pkg", "--version", "1.0.1", "--key", f("publish.key"), f("cli-pkg-1.0.0.tgz")));
    expect(late.code).toBe(1);
    expect(late.err).toMatch(/not_authorized/);
    expect((await cli(...V(A.url, "verify-release", "--version", "1.0.0", f("cli-pkg-1.0.0.tgz")))).code).toBe(0);
  });

  it("break-glass: core keys register a rescue key; accept verifies its release, refuse does not", async () => {
    const bg = await cli(...W("register-key", "--key", f("rescue.key"), "--role", "publish", "--break-glass", "--signer", f("core1.key"), "--signer", f("core2.key")));
    expect(bg.code, bg.err).toBe(0);
    writeFileSync(f("cli-pkg-2.0.0.tgz"), "release two");
    const rel = ["--package", "cli-pkg", "--version", "2.0.0"];
    expect((await cli(...W("sign-release", ...rel, "--key", f("rescue.key"), f("cli-pkg-2.0.0.tgz")))).code).toBe(0);
    for (const k of ["apprA", "apprB"]) {
      const a = await cli("approve", "--namespace", "npm:@cli", ...rel, "--requester", keys.rescue!.keyId, "--key", f(`${k}.key`), f("cli-pkg-2.0.0.tgz"));
      writeFileSync(f(`${k}.approval2`), a.out);
    }
    const o = await cli(...W("submit-outcome", ...rel, "--requester", keys.rescue!.keyId, "--approval", f("apprA.approval2"), "--approval", f("apprB.approval2"), "--decision", "approved", "--key", f("rescue.key"), f("cli-pkg-2.0.0.tgz")));
    expect(o.code, o.err).toBe(0);
    const core = `2:${keys.core1!.publicKey},${keys.core2!.publicKey}`;
    const accept = await cli(...V(A.url, "verify-release", "--version", "2.0.0", "--break-glass", "accept", "--core-keys", core, "--json", f("cli-pkg-2.0.0.tgz")));
    expect(accept.code, accept.err).toBe(0);
    expect(JSON.parse(accept.out).breakGlass.involved).toBe(true);
    const refuse = await cli(...V(A.url, "verify-release", "--version", "2.0.0", "--break-glass", "refuse", f("cli-pkg-2.0.0.tgz")));
    expect(refuse.code).toBe(1);
    expect(refuse.err).toMatch(/\[not_logged\]/);
    // Refusing break-glass keeps verifying everything else.
    expect((await cli(...V(A.url, "verify-release", "--version", "1.0.0", "--break-glass", "refuse", f("cli-pkg-1.0.0.tgz")))).code).toBe(0);
  });

  it("verify-log audits the whole log and summarizes", async () => {
    const r = await cli("verify-log", "--server", A.url, "--log-key", logKey, "--json", "--break-glass", "accept", "--core-keys", `2:${keys.core1!.publicKey},${keys.core2!.publicKey}`);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ ok: true, origin: "cli.example/log", records: { refused: 0, ignored: 0 } });
    expect(Number(s.treeSize)).toBe(s.records.applied);
    expect(r.err).toMatch(/verify-log: \d+\/\d+ entries \(100%\)/);
    const refusing = await cli("verify-log", "--server", A.url, "--log-key", logKey, "--json");
    // Refusing break-glass: the record and the two signed by the key it brought in (release, outcome) are
    // set aside, nothing is refused, and an honest log passes: one answer.
    expect(refusing.code, refusing.err).toBe(0);
    expect(JSON.parse(refusing.out)).toMatchObject({ ok: true, records: { refused: 0, ignored: 3 } });
  });

  it("the same registry and verification flow works against the second server (PostgreSQL when available)", async () => {
    const on = (...a: string[]) => [...a, "--server", B.url, "--token", TOKEN, "--namespace", "npm:@pg"];
    expect((await cli(...on("register-key", "--key", f("admin.key"), "--role", "admin"))).code).toBe(0);
    expect((await cli(...on("register-key", "--key", f("apprA.key"), "--role", "publish", "--signer", f("admin.key")))).code).toBe(0);
    expect((await cli(...on("sign-release", "--package", "pg-pkg", "--version", "1.0.0", "--key", f("apprA.key"), f("cli-pkg-1.0.0.tgz")))).code).toBe(0);
    const r = await cli("verify-release", "--server", B.url, "--log-key", logKey, "--namespace", "npm:@pg", "--package", "pg-pkg", "--version", "1.0.0", "--json", f("cli-pkg-1.0.0.tgz"));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, approved: true, approvalIndex: null });
  });

  it("monitor reports the namespace's records with alerts, and posts them to a webhook", async () => {
    const posted: any[] = [];
    const hook = createServer((req, res) => {
      let b = "";
      req.on("data", (c) => (b += c));
      req.on("end", () => {
        posted.push(JSON.parse(b));
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
      const r = await cli("monitor", "--server", A.url, "--log-key", logKey, "--namespace", "npm:@cli", "--once", "--json", "--webhook", url);
      expect(r.code, r.err).toBe(0);
      const reports = r.out.trim().split("\n").map((l) => JSON.parse(l));
      expect(reports.every((x) => x.namespace === "npm:@cli")).toBe(true);
      expect(reports.filter((x) => x.alerts.includes("NEW KEY")).length).toBe(4);
      expect(reports.find((x) => x.summary === "release.sign cli-pkg@1.0.0").alerts).toContain("RELEASE WITHOUT APPROVAL");
      expect(reports.find((x) => x.alerts.includes("BREAK-GLASS record ignored (policy refuse)"))).toBeDefined();
      expect(reports.find((x) => x.type === "key.revoke").summary).toMatch(/laptop stolen/);
      expect(posted).toEqual(reports);
      const accepting = await cli("monitor", "--server", A.url, "--log-key", logKey, "--namespace", "npm:@cli", "--once", "--break-glass", "accept", "--core-keys", `2:${keys.core1!.publicKey},${keys.core2!.publicKey}`);
      expect(accepting.out).toMatch(/key\.register role publish {2}\[NEW KEY\] \[BREAK-GLASS\]/);
    } finally {
      hook.close();
    }
  });

  it("usage errors exit 2; an unreachable server exits 3", async () => {
    expect((await cli("verify-release", "--server", A.url)).code).toBe(2);
    expect((await cli("sign-release", "--server", A.url, "--namespace", "npm:@cli")).code).toBe(2);
    expect((await cli("status", "--server", "http://127.0.0.1:1", "--log-key", logKey)).code).toBe(3);
  });
});
