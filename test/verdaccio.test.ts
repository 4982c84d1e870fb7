/**
 * A real registry and a real npm (DESIGN "Registries and package managers,
 * for real"): Verdaccio 6.8.0 with the verdaccio-ledger plugin, the ledger
 * with its approval service, and the npm CLI, all real processes on loopback.
 * A published scoped version is invisible and uninstallable until the three
 * approval groups of npm:@swc approve (Ed25519 approvers, through the
 * `ledger approve --request` CLI); then it installs and `ledger
 * verify-lockfile` passes (and a repeat run makes one request). A rejected
 * publish never appears. A tarball swapped in Verdaccio's storage is hidden
 * by the plugin, and when a registry without the plugin serves it,
 * verify-lockfile fails naming the package. With the ledger stopped,
 * nothing unapproved is served and publishes are refused.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { formatSignerKey } from "../client/note.js";
import { registerKey, signRecord, testKey, type TestKey } from "./helpers/records.js";
import { freePort, runLedger, startServer, type Running } from "./helpers/process.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

const ROOT = join(import.meta.dirname, "..");
const VERDACCIO = join(ROOT, "node_modules/verdaccio/bin/verdaccio");
const NS = "npm:@swc";
const PKG = "@swc/widget";
const TOKEN = "registry-writer-token-0123456789abcdef";
const [admin, registry, owner, core, colleague] = [400, 401, 402, 403, 404].map(testKey) as [TestKey, TestKey, TestKey, TestKey, TestKey];
// One store: PostgreSQL when the run has one (the real server), else the embedded default.
const fixture = STORES.find((s) => s.kind === "postgres") ?? STORES[0]!;

interface Verdaccio {
  child: ChildProcess;
  url: string;
  log: () => string;
  stop(): Promise<void>;
}

function startVerdaccio(config: string, port: number): Promise<Verdaccio> {
  const child = spawn(process.execPath, [VERDACCIO, "-c", config, "-l", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NO_WARNINGS: "1" } });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`verdaccio did not start: ${out}`)), 30_000);
    const poll = setInterval(async () => {
      if (child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        return reject(new Error(`verdaccio exited: ${out}`));
      }
      const ok = await fetch(`${url}/-/ping`).then((r) => r.ok, () => false);
      if (!ok) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({
        child,
        url,
        log: () => out,
        stop: () =>
          new Promise((res) => {
            if (child.exitCode !== null) return res();
            child.once("exit", () => res());
            child.kill("SIGTERM");
          }),
      });
    }, 150);
  });
}

/** Runs a command to completion (npm here), with a timeout. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(`Verdaccio + npm + the ledger (${fixture.kind})`, () => {
  let dir: string;
  let loc: StoreLocation;
  let ledger: Running;
  let ledgerEnv: Record<string, string>;
  let vd: Verdaccio;
  let vkey: string;
  let npmEnv: Record<string, string>;
  let aliceToken = "";
  const keyFile = (name: string, k: TestKey) => {
    const path = join(dir, "keys", `${name}.key`);
    writeFileSync(path, formatSignerKey(name, k.seed) + "\n", { mode: 0o600 });
    chmodSync(path, 0o600);
    return path;
  };
  const post = async (record: unknown) => {
    const res = await fetch(`${ledger.url}/v1/records?wait=checkpoint`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(record) });
    expect(res.status, await res.clone().text()).toBe(201);
  };
  const npm = (args: string[], cwd: string) => run("npm", [...args, "--registry", `${vd.url}/`, "--fetch-retries", "0"], cwd, npmEnv);
  const packument = async (url = vd.url) => (await fetch(`${url}/${encodeURIComponent(PKG)}`)).json() as Promise<{ versions?: Record<string, any>; "dist-tags"?: Record<string, string> }>;
  const tarballStatus = async (v: string, url = vd.url) => (await fetch(`${url}/${PKG}/-/widget-${v}.tgz`)).status;
  // The plugin's own log lines (Verdaccio logs every request besides).
  const ledgerLines = () => vd.log().split("\n").filter((l) => l.includes('"msg":"ledger: ')).join("\n");
  /** Waits for a plugin log line (Verdaccio's stdout reaches us a little after its HTTP answers). */
  const logged = async (re: RegExp) => {
    await until(`a log line ${re}`, async () => (re.test(ledgerLines()) ? true : undefined), 5000).catch(() => undefined);
    expect(ledgerLines()).toMatch(re);
  };
  const requestIdOf = (v: string) => until(`the approval request of ${v}`, async () => new RegExp(`${PKG}@${v.replace(/\./g, "\\.")} logged at \\d+; approval request \\S+/approve/([0-9a-f]+)`).exec(vd.log())?.[1]);
  const requestState = async (id: string) => ((await (await fetch(`${ledger.url}/v1/approval-requests/${id}`)).json()) as { state: string }).state;
  const approve = async (id: string, who: string, reject = false) => {
    const r = await runLedger(["approve", "--request", id, "--key", join(dir, "keys", `${who}.key`), "--server", ledger.url, ...(reject ? ["--reject"] : [])]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  };
  const verifyLockfile = async (cwd: string, ...extra: string[]) => {
    const r = await runLedger(["verify-lockfile", join(cwd, "package-lock.json"), "--server", ledger.url, "--log-key", vkey, "--state", join(cwd, ".ledger-state"), "--json", ...extra]);
    return { code: r.code, json: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
  };

  function packageDir(name: string, version: string, body: string): string {
    const d = join(dir, "src", `${name.replace(/[@/]/g, "_")}-${version}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "package.json"), JSON.stringify({ name, version, main: "index.js", license: "MIT" }));
    writeFileSync(join(d, "index.js"), `module.exports = ${JSON.stringify(body)};\n`);
    return d;
  }
  const publish = (name: string, version: string, body = `${name} ${version}`) => npm(["publish"], packageDir(name, version, body));
  function consumer(name: string): string {
    const d = join(dir, "apps", name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "package.json"), JSON.stringify({ name: `app-${name}`, version: "1.0.0", private: true }));
    return d;
  }

  /**
   * Verdaccio's config.yaml: the one in integrations/verdaccio/README.md (so the documented one is
   * the tested one), with this run's paths, ledger and keys; without the plugin for "bare".
   */
  function verdaccioConfig(name: string, withPlugin: boolean): string {
    const block = /```yaml\n((?: {3})?storage:[\s\S]*?)\n *```/.exec(readFileSync(join(ROOT, "integrations/verdaccio/README.md"), "utf8"))?.[1];
    expect(block, "the README's config.yaml").toBeDefined();
    const c = parseYaml(block!.replace(/^ {3}/gm, "")) as Record<string, any>;
    c.storage = join(dir, "storage");
    c.plugins = join(dir, "plugins");
    c.auth.htpasswd.file = join(dir, "htpasswd");
    const plugin = c.middlewares.ledger;
    expect(c.filters.ledger).toBe(plugin); // one copy of the settings, through the YAML anchor
    Object.assign(plugin, { ledgerUrl: ledger.url, ledgerTokenFile: join(dir, "token"), publishKey: join(dir, "keys", "registry.key"), requesters: { alice: owner.keyId }, refreshSeconds: 1 });
    expect(plugin.scopes).toEqual(["@swc"]);
    plugin.scopes = ["@swc", "@open"]; // @open: a namespace without approval groups
    if (!withPlugin) {
      delete c.middlewares;
      delete c.filters;
    }
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, JSON.stringify(c, null, 2)); // JSON is YAML
    return path;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-verdaccio-"));
    for (const d of ["keys", "plugins", "src", "apps"]) mkdirSync(join(dir, d));
    keyFile("registry", registry);
    keyFile("owner", owner);
    keyFile("core", core);
    keyFile("colleague", colleague);
    writeFileSync(join(dir, "token"), TOKEN + "\n", { mode: 0o600 });
    symlinkSync(join(ROOT, "integrations/verdaccio"), join(dir, "plugins", "verdaccio-ledger"));
    loc = await fixture.create();
    const port = await freePort();
    ledgerEnv = {
      PORT: String(port),
      LEDGER_DATA_DIR: join(dir, "ledger"),
      LEDGER_WRITER_TOKENS: `registry:${TOKEN}:npm:*`,
      LEDGER_PUBLIC_URL: `http://127.0.0.1:${port}`,
      BATCH_MAX_AGE_MS: "5",
      LEDGER_LOG_LEVEL: "warn",
      ...(loc.databaseUrl ? { DATABASE_URL: loc.databaseUrl } : {}),
    };
    ledger = await startServer(ledgerEnv);
    vkey = ((await (await fetch(`${ledger.url}/v1/log`)).json()) as { verifierKey: string }).verifierKey;
    // npm:@swc: an admin, the registry's publish key, three approvers in three groups of one.
    await post(registerKey(NS, admin));
    await post(registerKey(NS, registry, "publish", admin));
    for (const k of [owner, core, colleague]) await post(registerKey(NS, k, "approve", admin));
    // npm:@open: the registry's publish key and no policy: releases need no approval.
    await post(registerKey("npm:@open", admin));
    await post(registerKey("npm:@open", registry, "publish", admin));
    const group = (name: string, k: TestKey) => ({ name, members: [k.keyId], threshold: 1, excludeRequester: false });
    await post(signRecord({ type: "policy.set", namespace: NS, statement: { adminThreshold: 1, groups: [group("owner", owner), group("core", core), group("colleague", colleague)] } } as never, admin));

    vd = await startVerdaccio(verdaccioConfig("verdaccio", true), await freePort());
    const user = (await (await fetch(`${vd.url}/-/user/org.couchdb.user:alice`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "alice", password: "alice-password-1" }) })).json()) as { token: string };
    aliceToken = user.token;
    const npmrc = join(dir, "npmrc");
    writeFileSync(npmrc, `//127.0.0.1:${new URL(vd.url).port}/:_authToken=${user.token}\naudit=false\nfund=false\nupdate-notifier=false\n`);
    npmEnv = { npm_config_userconfig: npmrc, npm_config_cache: join(dir, "npm-cache"), npm_config_loglevel: "warn" };
  }, 120_000);

  afterAll(async () => {
    await vd?.stop();
    await ledger?.stop();
    await loc?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("npm publish logs the release with the tarball's sha256 and sha512 and holds the version: absent from the packument, tarball 404, npm install fails", async () => {
    const r = await publish(PKG, "1.0.0");
    expect(r.code, r.stderr).toBe(0);
    const tgz = readFileSync(join(dir, "storage", "@swc", "widget", "widget-1.0.0.tgz"));
    const rel = (await (await fetch(`${ledger.url}/v1/releases/${NS}/${PKG}/1.0.0`)).json()) as { artifacts: Array<{ sha256: string; sha512?: string }>; requester: string; approved: boolean };
    expect(rel.artifacts).toEqual([{ name: "widget-1.0.0.tgz", sha256: createHash("sha256").update(tgz).digest("hex"), sha512: createHash("sha512").update(tgz).digest("hex") }]);
    expect(rel.requester).toBe(owner.keyId);
    expect(rel.approved).toBe(false);
    await requestIdOf("1.0.0");
    expect(Object.keys((await packument()).versions ?? {})).toEqual([]);
    expect(await tarballStatus("1.0.0")).toBe(404);
    const view = await npm(["view", PKG, "versions", "--json"], dir);
    expect(view.stdout.trim() === "" || view.stdout.includes("[]") || view.code !== 0).toBe(true);
    const install = await npm(["install", `${PKG}@1.0.0`], consumer("early"));
    expect(install.code).not.toBe(0);
    expect(install.stderr).toMatch(/ETARGET|E404|No matching version/);
  }, 60_000);

  it("hostile publishes are refused before anything is logged: a lying integrity, a tarball of another version, two versions at once, a user with no approver key, no login", async () => {
    const size = async () => BigInt(((await (await fetch(`${ledger.url}/v1/log`)).json()) as { treeSize: string }).treeSize);
    const before = await size();
    const tgz = Buffer.from("not really a tarball, but bytes with digests");
    const integrity = `sha512-${createHash("sha512").update(tgz).digest("base64")}`;
    const body = (version: string, o: { integrity?: string; file?: string; extraVersion?: boolean } = {}) => ({
      _id: PKG,
      name: PKG,
      "dist-tags": { latest: version },
      versions: {
        [version]: { name: PKG, version, dist: { integrity: o.integrity ?? integrity, tarball: `${vd.url}/${PKG}/-/widget-${version}.tgz` } },
        ...(o.extraVersion ? { "9.9.9": { name: PKG, version: "9.9.9", dist: { integrity } } } : {}),
      },
      _attachments: { [o.file ?? `${PKG}-${version}.tgz`]: { content_type: "application/octet-stream", data: tgz.toString("base64"), length: tgz.length } },
    });
    const put = async (b: unknown, token: string | null = aliceToken) => {
      const res = await fetch(`${vd.url}/${encodeURIComponent(PKG)}`, { method: "PUT", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(b) });
      return { status: res.status, text: await res.text() };
    };
    const lying = await put(body("5.0.0", { integrity: `sha512-${createHash("sha512").update("other bytes").digest("base64")}` }));
    expect(lying.status).toBe(400);
    expect(lying.text).toMatch(/integrity does not match/);
    const otherFile = await put(body("5.0.1", { file: `${PKG}-5.0.2.tgz` }));
    expect(otherFile.status).toBe(400);
    expect(otherFile.text).toMatch(/not the tarball of @swc\/widget@5\.0\.1/);
    expect((await put(body("5.0.3", { extraVersion: true }))).status).toBe(400);
    const bob = (await (await fetch(`${vd.url}/-/user/org.couchdb.user:bob`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "bob", password: "bob-password-1" }) })).json()) as { token: string };
    const unmapped = await put(body("5.0.4"), bob.token);
    expect(unmapped.status).toBe(403);
    expect(unmapped.text).toMatch(/map Verdaccio user \\?"bob\\?" to an approver key/);
    const anonymous = await put(body("5.0.5"), null);
    expect([401, 403]).toContain(anonymous.status);
    expect(await size()).toBe(before);
    const stored = JSON.parse(readFileSync(join(dir, "storage", "@swc", "widget", "package.json"), "utf8"));
    expect(Object.keys(stored.versions)).toEqual(["1.0.0"]);
  }, 60_000);

  it("a namespace without approval groups passes straight through once logged", async () => {
    expect((await publish("@open/tool", "0.1.0")).code).toBe(0);
    const rel = (await (await fetch(`${ledger.url}/v1/releases/npm:@open/@open/tool/0.1.0`)).json()) as { index: string; approved: boolean; approvalIndex: string | null };
    expect(rel).toMatchObject({ approved: true, approvalIndex: null });
    const p = (await (await fetch(`${vd.url}/${encodeURIComponent("@open/tool")}`)).json()) as { versions: Record<string, { ledger?: unknown }> };
    expect(p.versions["0.1.0"]!.ledger).toEqual({ index: rel.index, approvalIndex: null });
    expect((await fetch(`${vd.url}/@open/tool/-/tool-0.1.0.tgz`)).status).toBe(200);
    await logged(/@open\/tool@0\.1\.0 logged at \d+; no approval groups: served once logged/);
  }, 60_000);

  it("the version appears only after the third group approves, with its log indices in the packument; then it installs and verify-lockfile passes", async () => {
    const id = await requestIdOf("1.0.0");
    await approve(id, "owner");
    await approve(id, "core");
    expect(await requestState(id)).toBe("pending");
    await new Promise((r) => setTimeout(r, 1200)); // past the plugin's refresh: still hidden for the ledger's answer, not its cache
    expect(Object.keys((await packument()).versions ?? {})).toEqual([]);
    expect(await tarballStatus("1.0.0")).toBe(404);
    await approve(id, "colleague");
    expect(await requestState(id)).toBe("approved");
    const p = await until("1.0.0 in the packument", async () => {
      const p = await packument();
      return p.versions?.["1.0.0"] ? p : undefined;
    });
    const rel = (await (await fetch(`${ledger.url}/v1/releases/${NS}/${PKG}/1.0.0`)).json()) as { index: string; approvalIndex: string };
    expect(p.versions!["1.0.0"].ledger).toEqual({ index: rel.index, approvalIndex: rel.approvalIndex });
    expect(p["dist-tags"]).toEqual({ latest: "1.0.0" });
    expect(await tarballStatus("1.0.0")).toBe(200);

    // An unscoped package outside the plugin's scopes passes straight through, and is "not covered".
    expect((await publish("plain-util", "2.0.0")).code).toBe(0);
    const app = consumer("ok");
    const install = await npm(["install", `${PKG}@1.0.0`, "plain-util@2.0.0"], app);
    expect(install.code, install.stderr).toBe(0);
    expect(readFileSync(join(app, "node_modules", "@swc", "widget", "index.js"), "utf8")).toContain(`${PKG} 1.0.0`);

    const cold = await verifyLockfile(app);
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.json).toMatchObject({ ok: true, verified: 1, failed: [], notCovered: [{ name: "plain-util", version: "2.0.0", namespace: "npm:plain-util" }], fromCache: false });
    expect(cold.json.packages).toContainEqual({ name: PKG, version: "1.0.0", namespace: NS, status: "verified", index: rel.index, approvalIndex: rel.approvalIndex });
    const warm = await verifyLockfile(app);
    expect(warm.json).toMatchObject({ ok: true, verified: 1, fromCache: true, requests: 1 });
    const strict = await verifyLockfile(app, "--require-all");
    expect(strict.code).toBe(1);
    expect(strict.json.ok).toBe(false);
  }, 90_000);

  it("a rejected publish never appears", async () => {
    expect((await publish(PKG, "1.1.0")).code).toBe(0);
    const id = await requestIdOf("1.1.0");
    await approve(id, "owner");
    await approve(id, "core", true);
    expect(await requestState(id)).toBe("rejected");
    await new Promise((r) => setTimeout(r, 1200));
    expect(Object.keys((await packument()).versions ?? {})).toEqual(["1.0.0"]);
    expect(await tarballStatus("1.1.0")).toBe(404);
    const install = await npm(["install", `${PKG}@1.1.0`], consumer("rejected"));
    expect(install.code).not.toBe(0);
  }, 60_000);

  it("a tarball swapped in Verdaccio's storage: the plugin stops serving it, and from a registry without the plugin verify-lockfile fails naming the package", async () => {
    const evilDir = packageDir(PKG, "1.0.0-evil", "evil");
    writeFileSync(join(evilDir, "package.json"), JSON.stringify({ name: PKG, version: "1.0.0", main: "index.js", license: "MIT" }));
    const packed = await run("npm", ["pack", "--json", "--pack-destination", evilDir], evilDir, npmEnv);
    expect(packed.code, packed.stderr).toBe(0);
    const evil = readFileSync(join(evilDir, JSON.parse(packed.stdout)[0].filename));
    const stored = join(dir, "storage", "@swc", "widget");
    writeFileSync(join(stored, "widget-1.0.0.tgz"), evil);
    const meta = JSON.parse(readFileSync(join(stored, "package.json"), "utf8"));
    meta.versions["1.0.0"].dist.integrity = `sha512-${createHash("sha512").update(evil).digest("base64")}`;
    meta.versions["1.0.0"].dist.shasum = createHash("sha1").update(evil).digest("hex");
    writeFileSync(join(stored, "package.json"), JSON.stringify(meta));

    // The plugin compares the registry's integrity with the logged sha512.
    const res = await fetch(`${vd.url}/${encodeURIComponent(PKG)}`);
    const body = await res.text();
    expect(res.status, body).toBe(200);
    expect(Object.keys(JSON.parse(body).versions)).toEqual([]);
    await logged(/@swc\/widget@1\.0\.0 is approved in the ledger but the registry's integrity differs/);

    // A registry that lost its plugin (the attacker's) serves the swapped tarball; npm installs it...
    const bare = await startVerdaccio(verdaccioConfig("bare", false), await freePort());
    try {
      const app = consumer("swapped");
      const install = await run("npm", ["install", `${PKG}@1.0.0`, "--registry", `${bare.url}/`], app, npmEnv);
      expect(install.code, install.stderr).toBe(0);
      expect(readFileSync(join(app, "node_modules", "@swc", "widget", "index.js"), "utf8")).toContain("evil");
      // ...and the log says otherwise.
      const r = await verifyLockfile(app);
      expect(r.code).toBe(1);
      expect(r.json.ok).toBe(false);
      expect(r.json.failed).toEqual([expect.objectContaining({ name: PKG, version: "1.0.0", path: "node_modules/@swc/widget", check: "artifacts_mismatch" })]);
      const human = await runLedger(["verify-lockfile", join(app, "package-lock.json"), "--server", ledger.url, "--log-key", vkey]);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/failed: @swc\/widget@1\.0\.0 \(node_modules\/@swc\/widget\): artifacts_mismatch/);
    } finally {
      await bare.stop();
    }
  }, 90_000);

  it("with the ledger stopped, Verdaccio serves nothing unapproved and refuses publishes, with a clear log line", async () => {
    expect((await publish(PKG, "1.2.0")).code).toBe(0);
    await requestIdOf("1.2.0");
    const t0 = Date.now();
    await ledger.stop(); // the plugin's long-poll is answered at shutdown: no wait for its timeout
    expect(Date.now() - t0).toBeLessThan(10_000);
    await new Promise((r) => setTimeout(r, 1200)); // the plugin's cached "pending" is stale: it must ask, and cannot
    const p = await packument();
    expect(Object.keys(p.versions ?? {})).toEqual([]); // 1.0.0 is hidden since its storage was tampered with; 1.1.0 rejected; 1.2.0 unconfirmed
    expect(await tarballStatus("1.2.0")).toBe(404);
    expect(await tarballStatus("1.1.0")).toBe(404);
    const r = await publish(PKG, "1.3.0");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/503|ledger/i);
    await logged(/unreachable .*failing closed/);
    const stored = JSON.parse(readFileSync(join(dir, "storage", "@swc", "widget", "package.json"), "utf8"));
    expect(Object.keys(stored.versions)).not.toContain("1.3.0");
  }, 60_000);
});
