/**
 * The package as a user meets it: `npm pack` of the build in dist/, the
 * tarball installed into an empty project, and there: plain `node` imports
 * the client, `tsc` type-checks a consumer against the shipped declarations,
 * `npx ledger --help` works, `ledger verify-release` verifies a release
 * against a running server, and the client bundles for browsers with esbuild
 * without Node built-ins. Dependencies come from npm's cache or registry.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { listen } from "../server/listen.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";

const ROOT = join(import.meta.dirname, "..");
const NAME = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).name as string;

describe("the published package, installed into an empty project", () => {
  const tmp = mkdtempSync(join(tmpdir(), "ledger-pack-"));
  const project = join(tmp, "consumer");
  let files: string[] = [];
  let ledger: Ledger;
  let server: Server;
  let url: string;
  const run = (cmd: string, args: string[], env: Record<string, string> = {}) => spawnSync(cmd, args, { cwd: project, encoding: "utf8", env: { ...process.env, ...env } });
  const runAsync = async (cmd: string, args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(cmd, args, { cwd: project, encoding: "utf8", timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof x.code === "number" ? x.code : -1, stdout: x.stdout ?? "", stderr: x.stderr ?? String(e) };
    }
  };

  beforeAll(async () => {
    // --ignore-scripts: `npm test` built dist/ already (pretest), and rebuilding it here (prepack)
    // would rewrite files that other test files' CLI processes are loading at the same time.
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
    files = packed[0].files.map((f: { path: string }) => f.path);
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(tmp, packed[0].filename)], { cwd: project, stdio: "ignore" });

    dir = mkdtempSync(join(tmpdir(), "ledger-pack-log-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), { log: () => {} });
    const l = await listen(ledger.app, "127.0.0.1", 0);
    server = l.server;
    url = `http://127.0.0.1:${l.port}`;
    const k = testKey(600);
    const post = (r: unknown) => postRecord(async (p, i) => ledger.app.request(p, i), r);
    expect((await post(registerKey("npm:@packed", k, "publish"))).status).toBe(201);
    expect((await post(signRelease("npm:@packed", k, "packed", "1.0.0"))).status).toBe(201);
  }, 300_000);
  let dir: string;
  afterAll(async () => {
    server?.close();
    await ledger?.close();
    rmSync(tmp, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ships the build, the CLI and the explorer, and no sources, tests or TypeScript loader", () => {
    expect(files).toContain("dist/client/index.js");
    expect(files).toContain("dist/client/index.d.ts");
    expect(files).toContain("dist/server/cli.js");
    expect(files).toContain("dist/cli/verify-worker.mjs");
    expect(files).toContain("dist/server/store/pglite-init.mjs");
    expect(files).toContain("bin/ledger.js");
    expect(files).toContain("explorer/dist/app.js");
    expect(files).toContain("dist/integrations/verdaccio/plugin.js");
    expect(files).toContain("integrations/verdaccio/index.js");
    expect(files).toContain("integrations/verdaccio/README.md");
    expect(files.filter((f) => /\.test\.|^test\/|^bench\/|\.png$|\.map$|^(client|server|cli|schema)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(project, "node_modules", NAME, "package.json"), "utf8"));
    expect(Object.keys(pkg.dependencies)).not.toContain("tsx");
  });

  it("the Verdaccio plugin folder loads the way Verdaccio loads plugins (require of the folder)", () => {
    const dir = join(project, "node_modules", NAME, "integrations", "verdaccio");
    const r = run(process.execPath, ["-e", `const p = require(${JSON.stringify(dir)}); console.log(typeof p.default, typeof p.default.prototype.filter_metadata, typeof p.default.prototype.register_middlewares)`]);
    expect(r.stdout.trim()).toBe("function function function");
  });

  it("plain node imports the client", () => {
    const code = `import { LedgerClient, verifyInclusion, verifyConsistency, openCheckpoint, verifyTlogProof } from "${NAME}/client";
      console.log([LedgerClient, verifyInclusion, verifyConsistency, openCheckpoint, verifyTlogProof].map((f) => typeof f).join(","));`;
    const r = run(process.execPath, ["--input-type=module", "-e", code]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("function,function,function,function,function");
  });

  it("tsc type-checks a consumer against the installed declarations, and refuses a wrong use", () => {
    writeFileSync(
      join(project, "good.ts"),
      `import { LedgerClient, type VerifiedRelease, PolicyError } from "${NAME}/client";
       const c = new LedgerClient({ url: "http://x", logKey: "k", breakGlass: "refuse" });
       const r: Promise<VerifiedRelease> = c.verifyRelease({ namespace: "npm:@a", package: "a", version: "1", artifacts: [] });
       void r; void PolicyError;\n`,
    );
    writeFileSync(join(project, "bad.ts"), `import { LedgerClient } from "${NAME}/client";\nnew LedgerClient({ url: 1 });\n`);
    const tsc = join(ROOT, "node_modules", ".bin", "tsc");
    const flags = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "--typeRoots", join(ROOT, "node_modules", "@types")];
    const good = run(tsc, [...flags, "good.ts"]);
    expect(good.stdout + good.stderr).toBe("");
    expect(good.status).toBe(0);
    expect(run(tsc, [...flags, "bad.ts"]).status).not.toBe(0);
  });

  it("npx ledger --help works, and ledger verify-release verifies a release against a running server", async () => {
    const help = run("npx", ["--no-install", "ledger", "--help"]);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^ledger: an append-only transparency ledger/);
    const sha256 = signRelease("npm:@packed", testKey(600), "packed", "1.0.0").statement as unknown as { artifacts: Array<{ name: string; sha256: string }> };
    const a = sha256.artifacts[0]!;
    // Asynchronously: the server answering it runs in this process.
    const verify = await runAsync(join(project, "node_modules", ".bin", "ledger"), ["verify-release", "--server", url, "--log-key", ledger.signer.verifierKey, "--namespace", "npm:@packed", "--package", "packed", "--version", "1.0.0", "--artifact", `${a.name}=${a.sha256}`]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok: packed@1\.0\.0 logged at 1 /);
  });

  it("the client bundles for browsers with esbuild, without Node built-ins", () => {
    writeFileSync(join(project, "entry.js"), `import { LedgerClient } from "${NAME}/client";\nexport default LedgerClient;\n`);
    const esbuild = join(ROOT, "node_modules", ".bin", "esbuild");
    const r = run(esbuild, ["entry.js", "--bundle", "--platform=browser", "--format=esm", "--outfile=out.js", "--log-level=warning"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(readFileSync(join(project, "out.js"), "utf8")).not.toMatch(/from\s*["']node:|require\(["'](node:)?(crypto|fs|path|buffer)["']\)/);
  });
});
