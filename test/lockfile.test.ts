/**
 * `ledger verify-lockfile` against a ledger on loopback, and its parts: the
 * lockfile reader (which entries are registry packages), the SRI parser, and
 * the tlog-proof cache, attacked: a tampered or swapped bundle is not taken
 * (the run syncs instead), a grown log is not answered from the cache.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { approvalSigningMessage } from "../client/replay.js";
import { artifactsFrom } from "../cli/artifacts.js";
import { lockedPackages, sha512Of } from "../cli/lockfile.js";
import { CliError } from "../cli/errors.js";
import type { Out } from "../cli/output.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { listen } from "../server/listen.js";
import { main } from "../server/cli.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRecord, testKey, type TestKey } from "./helpers/records.js";

const sri = (data: string) => `sha512-${createHash("sha512").update(data).digest("base64")}`;
const hex512 = (data: string) => createHash("sha512").update(data).digest("hex");
const hex256 = (data: string) => createHash("sha256").update(data).digest("hex");

describe("lockedPackages: what counts as a registry package", () => {
  it("takes v2/v3 entries with an integrity, by name (aliases by their real name), once per name@version@integrity", () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        "": { name: "app", version: "1.0.0" },
        "node_modules/@swc/core": { version: "1.0.0", resolved: "https://registry.example/@swc/core/-/core-1.0.0.tgz", integrity: sri("core") },
        "node_modules/a/node_modules/@swc/core": { version: "1.0.0", resolved: "https://registry.example/@swc/core/-/core-1.0.0.tgz", integrity: sri("core") },
        "node_modules/left-pad": { version: "1.3.0", integrity: sri("lp") }, // resolved omitted (omit-lockfile-registry-resolved)
        "node_modules/alias": { name: "@real/pkg", version: "2.0.0", resolved: "https://registry.example/@real/pkg/-/pkg-2.0.0.tgz", integrity: sri("real") },
        "node_modules/linked": { resolved: "../linked", link: true },
        "node_modules/from-git": { version: "0.1.0", resolved: "git+ssh://git@github.com/x/y.git#abc", integrity: sri("git") },
        "node_modules/from-file": { version: "0.1.0", resolved: "file:../vendor/x.tgz", integrity: sri("file") },
        "node_modules/no-integrity": { version: "0.1.0", resolved: "https://registry.example/no-integrity/-/no-integrity-0.1.0.tgz" },
        "node_modules/sha1-only": { version: "0.0.1", resolved: "https://registry.example/sha1-only/-/x.tgz", integrity: "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=" },
      },
    };
    const { packages, skipped } = lockedPackages(lock);
    expect(packages.map((p) => `${p.name}@${p.version}`)).toEqual(["@swc/core@1.0.0", "left-pad@1.3.0", "@real/pkg@2.0.0", "sha1-only@0.0.1"]);
    expect(packages.find((p) => p.name === "sha1-only")!.sha512).toBeUndefined();
    expect(packages[0]!.sha512).toBe(hex512("core"));
    expect(skipped).toEqual(["node_modules/from-git", "node_modules/from-file", "node_modules/no-integrity"]);
  });

  it("refuses what is not a v2/v3 lockfile, with exit code 2", () => {
    for (const bad of [null, [], { lockfileVersion: 1, dependencies: {} }, { lockfileVersion: 3 }, { lockfileVersion: "3", packages: {} }]) {
      const e = (() => {
        try {
          lockedPackages(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(e, JSON.stringify(bad)).toBeInstanceOf(CliError);
      expect((e as CliError).exitCode).toBe(2);
    }
  });

  it("sha512Of reads the sha512 of an SRI string among others, and nothing else", () => {
    expect(sha512Of(`sha1-abc ${sri("x")} sha384-zzz`)).toBe(hex512("x"));
    expect(sha512Of(`${sri("x")}?opt`)).toBe(hex512("x"));
    expect(sha512Of("sha384-" + createHash("sha384").update("x").digest("base64"))).toBeUndefined();
    expect(sha512Of("sha512-not*base64")).toBeUndefined();
    expect(sha512Of("sha512-" + Buffer.alloc(32).toString("base64"))).toBeUndefined(); // too short for a sha512
  });

  it("artifactsFrom takes name=sha256[:sha512] and refuses other forms", () => {
    expect(artifactsFrom([], [`a.tgz=${hex256("a")}:${hex512("a")}`, `b.tgz=${hex256("b")}`])).toEqual([
      { name: "a.tgz", sha256: hex256("a"), sha512: hex512("a") },
      { name: "b.tgz", sha256: hex256("b") },
    ]);
    for (const bad of [`a.tgz=${hex256("a")}:${hex512("a").slice(1)}`, `a.tgz=${hex256("a")}:`, `a.tgz=${hex256("a").toUpperCase()}`, `=${hex256("a")}`]) {
      expect(() => artifactsFrom([], [bad])).toThrow(CliError);
    }
  });
});

describe("ledger verify-lockfile", () => {
  const NS = "npm:@acme";
  const [admin, publisher, approver] = [500, 501, 502].map(testKey) as [TestKey, TestKey, TestKey];
  let dir: string;
  let ledger: Ledger;
  let server: Server;
  let url = "";
  let vkey = "";
  const f = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
  const ok = async (r: unknown) => expect((await postRecord(f, r, "?wait=checkpoint")).status).toBe(201);
  const art = (pkg: string, v: string) => [{ name: `${pkg.split("/")[1]}-${v}.tgz`, sha256: hex256(`${pkg} ${v}`), sha512: hex512(`${pkg} ${v}`) }];
  const release = (pkg: string, v: string) => signRecord({ type: "release.sign", namespace: NS, statement: { package: pkg, version: v, artifacts: art(pkg, v), requester: approver.keyId } } as never, publisher);
  const approve = (pkg: string, v: string) => {
    const a = { namespace: NS, package: pkg, version: v, artifacts: art(pkg, v), requester: approver.keyId };
    const sig = encodeBase64(ed25519Sign(approver.seed, approvalSigningMessage(a)));
    return signRecord({ type: "approval.outcome", namespace: NS, statement: { package: pkg, version: v, artifacts: a.artifacts, requester: approver.keyId, approvals: [{ keyId: approver.keyId, sig }], decision: "approved" } } as never, publisher);
  };
  const entry = (name: string, version: string, integrity = sri(`${name} ${version}`), under = "") => [`${under}node_modules/${name}`, { version, resolved: `https://registry.example/${name}/-/x-${version}.tgz`, integrity }] as const;
  function lockfile(name: string, entries: ReadonlyArray<readonly [string, object]>): string {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify({ name: "app", lockfileVersion: 3, packages: { "": { name: "app" }, ...Object.fromEntries(entries) } }));
    return path;
  }
  async function run(...args: string[]): Promise<{ code: number; out: string; err: string; json: any }> {
    let out = "";
    let err = "";
    const io: Out = { out: (s) => void (out += s), err: (s) => void (err += s) };
    const code = await main(["verify-lockfile", ...args, "--server", url, "--log-key", vkey], io);
    let json: any;
    try {
      json = JSON.parse(out);
    } catch {
      json = undefined;
    }
    return { code, out, err, json };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-lockfile-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: join(dir, "data"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), { log: () => {} });
    const l = await listen(ledger.app, "127.0.0.1", 0);
    server = l.server;
    url = `http://127.0.0.1:${l.port}`;
    vkey = ledger.signer.verifierKey;
    await ok(registerKey(NS, admin));
    await ok(registerKey(NS, publisher, "publish", admin));
    await ok(registerKey(NS, approver, "approve", admin));
    await ok(signRecord({ type: "policy.set", namespace: NS, statement: { adminThreshold: 1, groups: [{ name: "maintainers", members: [approver.keyId], threshold: 1, excludeRequester: false }] } } as never, admin));
    for (const v of ["1.0.0", "1.1.0"]) {
      await ok(release("@acme/good", v));
      await ok(approve("@acme/good", v));
    }
    await ok(release("@acme/pending", "1.0.0"));
    await ok(release("@acme/revoked", "1.0.0"));
    await ok(approve("@acme/revoked", "1.0.0"));
    await ok(signRecord({ type: "release.revoke", namespace: NS, statement: { package: "@acme/revoked", version: "1.0.0", reason: "compromised" } } as never, publisher));
  }, 60_000);

  afterAll(async () => {
    server?.close();
    await ledger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("names each failing package with the check that failed; uncovered namespaces are listed, and fail with --require-all", async () => {
    const path = lockfile("mixed", [
      entry("@acme/good", "1.0.0"),
      entry("@acme/pending", "1.0.0"),
      entry("@acme/revoked", "1.0.0"),
      entry("@acme/good", "1.1.0", sri("other bytes"), "node_modules/x/"),
      entry("@acme/never", "1.0.0"),
      entry("@acme/sha1", "1.0.0", "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
      entry("left-pad", "1.3.0"),
    ]);
    const r = await run(path, "--json");
    expect(r.code, r.err).toBe(1);
    expect(r.json.verified).toBe(1);
    expect(Object.fromEntries(r.json.failed.map((x: any) => [`${x.name}@${x.version}`, x.check]))).toEqual({
      "@acme/pending@1.0.0": "not_approved",
      "@acme/revoked@1.0.0": "revoked",
      "@acme/good@1.1.0": "artifacts_mismatch",
      "@acme/never@1.0.0": "not_logged",
      "@acme/sha1@1.0.0": "no_sha512",
    });
    expect(r.json.notCovered).toEqual([{ name: "left-pad", version: "1.3.0", namespace: "npm:left-pad" }]);
    const human = await run(path);
    expect(human.out).toMatch(/failed: @acme\/good@1\.1\.0 \(node_modules\/x\/node_modules\/@acme\/good\): artifacts_mismatch/);
    expect(human.out).toMatch(/not covered by the log \(1\): left-pad@1\.3\.0/);

    const covered = lockfile("covered", [entry("@acme/good", "1.0.0"), entry("@acme/good", "1.1.0", undefined, "node_modules/y/"), entry("left-pad", "1.3.0")]);
    expect((await run(covered)).code).toBe(0);
    const strict = await run(covered, "--require-all", "--json");
    expect(strict.code).toBe(1);
    expect(strict.json.ok).toBe(false);
  });

  it("caches tlog-proof bundles beside the state file: a repeat run makes one request; a tampered or swapped bundle is not taken; a grown log is synced", async () => {
    const path = lockfile("cache", [entry("@acme/good", "1.0.0"), entry("@acme/good", "1.1.0", undefined, "node_modules/y/")]);
    const state = join(dir, "state", "checkpoint");
    const cold = await run(path, "--state", state, "--json");
    expect(cold.code, cold.err).toBe(0);
    expect(cold.json).toMatchObject({ ok: true, verified: 2, fromCache: false });
    expect(cold.json.requests).toBeGreaterThan(1);
    const proofs = join(dir, "state", "checkpoint.proofs");
    const bundles = readdirSync(proofs).filter((x) => x.endsWith(".tlog-proof")).sort();
    expect(bundles).toHaveLength(4); // two releases, two outcomes
    expect(readFileSync(join(proofs, bundles[0]!), "utf8")).toMatch(/^c2sp\.org\/tlog-proof@v1\nextra [A-Za-z0-9+/=]+\nindex \d+\n/);

    const warm = await run(path, "--state", state, "--json");
    expect(warm.json).toMatchObject({ ok: true, verified: 2, fromCache: true, requests: 1 });

    // A flipped proof hash: the bundle does not verify, so the run syncs (and is still right).
    const target = join(proofs, bundles[0]!);
    const original = readFileSync(target, "utf8");
    const lines = original.split("\n");
    const hashLine = lines.findIndex((l, i) => i > 2 && /^[A-Za-z0-9+/]{43}=$/.test(l));
    lines[hashLine] = (lines[hashLine]![0] === "A" ? "B" : "A") + lines[hashLine]!.slice(1);
    writeFileSync(target, lines.join("\n"));
    const tampered = await run(path, "--state", state, "--json");
    expect(tampered.json).toMatchObject({ ok: true, verified: 2, fromCache: false });
    // The sync rewrote the cache; now a bundle swapped for another entry's (a valid proof of the wrong entry).
    writeFileSync(join(proofs, bundles[0]!), readFileSync(join(proofs, bundles[1]!), "utf8"));
    const swapped = await run(path, "--state", state, "--json");
    expect(swapped.json).toMatchObject({ ok: true, fromCache: false });

    // The log grows (a revocation of 1.1.0): the cache is for an older checkpoint, the run syncs and sees it.
    await ok(signRecord({ type: "release.revoke", namespace: NS, statement: { package: "@acme/good", version: "1.1.0", reason: "bad build" } } as never, publisher));
    const grown = await run(path, "--state", state, "--json");
    expect(grown.code).toBe(1);
    expect(grown.json).toMatchObject({ ok: false, fromCache: false, failed: [{ name: "@acme/good", version: "1.1.0", check: "revoked" }] });
  });

  it("usage errors exit 2", async () => {
    expect((await run(join(dir, "missing.json"))).code).toBe(2);
    expect((await run("a.json", "b.json")).code).toBe(2);
    const v1 = join(dir, "v1.json");
    writeFileSync(v1, JSON.stringify({ lockfileVersion: 1, dependencies: {} }));
    const r = await run(v1);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/lockfileVersion 2 or 3/);
  });
});
