/**
 * The plugin's rules without Verdaccio: what a version needs to be served
 * (approved, with the logged sha512), and that every way of not knowing —
 * the ledger down, answering 500 or nonsense, a filter that fails — hides
 * versions instead of serving them. Verdaccio itself: test/verdaccio.test.ts.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatSignerKey } from "../../client/note.js";
import { Ledger, type Logger } from "./ledger.js";
import { integritySha512s } from "../../cli/artifacts.js";
import LedgerPlugin, { packageOfPath, tarballOfPath, versionOfTarball, type Manifest } from "./plugin.js";

const tgz = (v: string) => Buffer.from(`tarball ${v}`);
const sha512 = (v: string) => createHash("sha512").update(tgz(v)).digest();
const integrity = (v: string) => `sha512-${sha512(v).toString("base64")}`;

function quietLogger(lines: string[] = []): Logger {
  const push = (o: object, msg: string) => void lines.push(msg.replace(/@\{(\w+)\}/g, (_m, k) => String((o as Record<string, unknown>)[k])));
  return { info: push, warn: push, error: push };
}

/** A fake ledger answering /v1/releases/... from a table; `down` makes every call fail. */
function fakeLedger(table: Record<string, object | number>, state = { down: false, calls: 0 }): typeof fetch {
  return (async (input: string | URL | Request) => {
    state.calls++;
    if (state.down) throw new TypeError("fetch failed: connect ECONNREFUSED");
    const u = new URL(String(input));
    const m = /^\/v1\/releases\/([^/]+)\/(.+)\/([^/]+)$/.exec(decodeURIComponent(u.pathname));
    const hit = m ? table[`${m[2]}@${m[3]}`] : undefined;
    if (typeof hit === "number") return new Response("oops", { status: hit });
    if (!hit) return Response.json({ error: { code: "not_found", message: "no" } }, { status: 404 });
    return Response.json(hit);
  }) as typeof fetch;
}

const approved = (v: string) => ({ index: "10", approved: true, approvalIndex: "11", rejected: false, revoked: false, artifacts: [{ name: `w-${v}.tgz`, sha256: "0".repeat(64), sha512: sha512(v).toString("hex") }] });

describe("the verdict cache fails closed", () => {
  const opts = (f: typeof fetch, now: () => number) => ({ url: "http://ledger.invalid", token: "t", key: { seed: new Uint8Array(32), publicKey: new Uint8Array(32) } as never, logger: quietLogger(), refreshMs: 1000, recheckApprovedMs: 60_000, fetch: f, now });

  it("serves only what the ledger showed approved; an outage keeps approvals seen before and hides the rest", async () => {
    let t = 0;
    const state = { down: false, calls: 0 };
    const l = new Ledger(opts(fakeLedger({ "@a/w@1.0.0": approved("1.0.0"), "@a/w@1.1.0": { index: "12", approved: false, approvalIndex: null, rejected: false, revoked: false, artifacts: [] } }, state), () => t));
    expect((await l.verdict("@a/w", "1.0.0")).state).toBe("approved");
    expect((await l.verdict("@a/w", "1.1.0")).state).toBe("pending");
    expect((await l.verdict("@a/w", "2.0.0")).state).toBe("unlogged");
    state.down = true;
    t += 120_000; // every cached verdict is stale: each must be asked again, and cannot
    expect((await l.verdict("@a/w", "1.0.0")).state).toBe("approved");
    expect((await l.verdict("@a/w", "1.1.0")).state).toBe("unknown");
    expect((await l.verdict("@a/w", "3.0.0")).state).toBe("unknown");
  });

  it("a 500 or a refusal from the ledger is not an approval; rejected and revoked are final", async () => {
    let t = 0;
    const table: Record<string, object | number> = { "@a/w@1.0.0": 500, "@a/w@1.1.0": { ...approved("1.1.0"), rejected: true, approved: false }, "@a/w@1.2.0": { ...approved("1.2.0"), revoked: true } };
    const state = { down: false, calls: 0 };
    const l = new Ledger(opts(fakeLedger(table, state), () => t));
    expect((await l.verdict("@a/w", "1.0.0")).state).toBe("unknown");
    expect((await l.verdict("@a/w", "1.1.0")).state).toBe("rejected");
    expect((await l.verdict("@a/w", "1.2.0")).state).toBe("revoked");
    table["@a/w@1.1.0"] = approved("1.1.0"); // a ledger that changes its mind is not asked again
    table["@a/w@1.2.0"] = approved("1.2.0");
    t += 10 * 60_000;
    const calls = state.calls;
    expect((await l.verdict("@a/w", "1.1.0")).state).toBe("rejected");
    expect((await l.verdict("@a/w", "1.2.0")).state).toBe("revoked");
    expect(state.calls).toBe(calls);
  });

  it("an expired request, learnt by long-poll, is final: the version never appears, even if the ledger later says otherwise", async () => {
    const state = { down: false, calls: 0 };
    const table: Record<string, object | number> = { "@a/w@1.0.0": { index: "10", approved: false, approvalIndex: null, rejected: false, revoked: false, artifacts: [] } };
    const releases = fakeLedger(table, state);
    const f = (async (input: string | URL | Request, init?: RequestInit) =>
      String(input).includes("/v1/approval-requests/req1?wait=decided") ? Response.json({ id: "req1", state: "expired" }) : releases(input as string, init)) as typeof fetch;
    const l = new Ledger(opts(f, () => 0));
    expect((await l.verdict("@a/w", "1.0.0")).state).toBe("pending");
    l.watch("req1", "@a/w", "1.0.0");
    for (let i = 0; i < 50 && (await l.verdict("@a/w", "1.0.0")).state !== "expired"; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await l.verdict("@a/w", "1.0.0")).state).toBe("expired");
    table["@a/w@1.0.0"] = approved("1.0.0");
    expect((await l.verdict("@a/w", "1.0.0")).state).toBe("expired");
    l.close();
  });

  it("one request per version however many packument requests ask at once", async () => {
    const state = { down: false, calls: 0 };
    const l = new Ledger(opts(fakeLedger({ "@a/w@1.0.0": approved("1.0.0") }, state), () => 0));
    await Promise.all(Array.from({ length: 50 }, () => l.verdict("@a/w", "1.0.0")));
    expect(state.calls).toBe(1);
  });
});

describe("the packument filter", () => {
  const dir = mkdtempSync(join(tmpdir(), "ledger-plugin-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, "registry.key");
  writeFileSync(keyFile, formatSignerKey("registry", new Uint8Array(32).fill(3)) + "\n", { mode: 0o600 });
  let n = 0;
  const realFetch = globalThis.fetch;
  afterAll(() => void (globalThis.fetch = realFetch));
  /** A plugin whose ledger answers from `table` (it calls the global fetch it finds when made). */
  function plugin(table: Record<string, object | number>, lines: string[] = [], extra: object = {}) {
    globalThis.fetch = fakeLedger(table);
    // A distinct ledger URL per plugin: instances with the same URL and key share one cache.
    return new LedgerPlugin({ ledgerUrl: `http://ledger-${n++}.invalid`, ledgerToken: "t", publishKey: keyFile, ...extra }, { logger: quietLogger(lines) });
  }
  const manifest = (): Manifest => ({
    name: "@a/w",
    versions: Object.fromEntries(["1.0.0", "1.1.0", "2.0.0-beta.1", "2.0.0"].map((v) => [v, { name: "@a/w", version: v, dist: { integrity: integrity(v), tarball: `http://r/@a/w/-/w-${v}.tgz` } }])),
    "dist-tags": { latest: "2.0.0", beta: "2.0.0-beta.1" },
    time: { created: "2026-01-01T00:00:00Z", modified: "2026-01-05T00:00:00Z", "1.0.0": "2026-01-01T00:00:00Z", "1.1.0": "2026-01-02T00:00:00Z", "2.0.0-beta.1": "2026-01-03T00:00:00Z", "2.0.0": "2026-01-04T00:00:00Z" },
  });

  it("keeps approved versions whose integrity is the logged sha512, with their log indices; moves latest; drops the rest and their times", async () => {
    const lines: string[] = [];
    const swapped = { ...approved("1.1.0"), artifacts: [{ name: "w-1.1.0.tgz", sha256: "0".repeat(64), sha512: sha512("other").toString("hex") }] };
    const p = plugin({ "@a/w@1.0.0": approved("1.0.0"), "@a/w@1.1.0": swapped, "@a/w@2.0.0-beta.1": approved("2.0.0-beta.1"), "@a/w@2.0.0": { ...approved("2.0.0"), approved: false, approvalIndex: null } }, lines);
    const out = await p.filter_metadata(manifest());
    expect(Object.keys(out.versions!)).toEqual(["1.0.0", "2.0.0-beta.1"]);
    expect(out.versions!["1.0.0"]!.ledger).toEqual({ index: "10", approvalIndex: "11" });
    expect(out["dist-tags"]).toEqual({ beta: "2.0.0-beta.1", latest: "1.0.0" });
    expect(Object.keys(out.time!).sort()).toEqual(["1.0.0", "2.0.0-beta.1", "created", "modified"]);
    expect(lines.join("\n")).toMatch(/@a\/w@1\.1\.0 is approved in the ledger but the registry's integrity differs/);
  });

  it("packages outside its scopes pass untouched; a filter that fails serves no versions (Verdaccio would serve the unfiltered manifest)", async () => {
    const p = plugin({}, [], { scopes: ["@other"] });
    const m = manifest();
    expect(await p.filter_metadata(m)).toBe(m);
    const lines: string[] = [];
    const q = plugin({}, lines);
    const hostile = manifest();
    Object.defineProperty(hostile, "versions", { get: () => { throw new Error("corrupt storage"); } });
    const out = await q.filter_metadata(hostile);
    expect(out.versions).toEqual({});
    expect(out["dist-tags"]).toEqual({});
    expect(lines.join("\n")).toMatch(/filtering @a\/w failed \(corrupt storage\); serving it with no versions/);
  });
});

describe("paths and names", () => {
  it("finds the package of a publish and the version of a tarball, and nothing in odd paths", () => {
    expect(packageOfPath("/@swc%2fcore")).toBe("@swc/core");
    expect(packageOfPath("/left-pad")).toBe("left-pad");
    for (const p of ["/@swc%2fcore/-rev/1-abc", "/-/user/org.couchdb.user:a", "/%E0%A4%A", "/a/b/c", "/"]) expect(packageOfPath(p), p).toBeUndefined();
    expect(tarballOfPath("/@swc/core/-/core-1.0.0.tgz")).toEqual({ name: "@swc/core", filename: "core-1.0.0.tgz" });
    expect(tarballOfPath("/@swc%2fcore/-/@swc/core-1.0.0.tgz")).toEqual({ name: "@swc/core", filename: "core-1.0.0.tgz" });
    expect(tarballOfPath("/left-pad/-/left-pad-1.3.0.tgz")).toEqual({ name: "left-pad", filename: "left-pad-1.3.0.tgz" });
    expect(tarballOfPath("/left-pad/-/left-pad-1.3.0.tar")).toBeUndefined();
    expect(versionOfTarball("@swc/core", "core-1.0.0.tgz")).toBe("1.0.0");
    expect(versionOfTarball("@swc/core", "core-.tgz")).toBeUndefined();
    expect(versionOfTarball("@swc/core", "other-1.0.0.tgz")).toBeUndefined();
    expect(integritySha512s(`sha1-x ${integrity("1")}`)).toEqual([sha512("1").toString("hex")]);
    expect(integritySha512s(undefined)).toEqual([]);
  });
});
