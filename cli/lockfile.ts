/**
 * `ledger verify-lockfile`: every package of an npm lockfile (v2/v3) whose
 * namespace the log covers is checked as verify-release checks a release —
 * logged, signed by a key valid then, approved per the policy in force at
 * its index, not revoked — and its `integrity` (sha512) must be one the
 * release logged. All under one trusted checkpoint, consistent with the last.
 *
 * A run that verified everything leaves C2SP tlog-proof bundles (the entry
 * in `extra`) beside the state file; a later run against the same checkpoint
 * re-verifies them offline and makes one request, for the checkpoint.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { entryLeafHash, parseEntry } from "../client/entry.js";
import { LedgerError } from "../client/errors.js";
import type { LedgerClient } from "../client/ledger-client.js";
import { npmNamespace } from "../client/namespace.js";
import { releaseKey, releaseStatus, type ReplayEvent } from "../client/replay.js";
import { formatTlogProof, parseTlogProof } from "../client/tlog-proof.js";
import { verifyInclusion } from "../client/merkle-verify.js";
import { parse, VERIFY } from "./args.js";
import { integritySha512s } from "./artifacts.js";
import { CliError } from "./errors.js";
import { paint, progressLine, type Out } from "./output.js";
import { escapeTerminal } from "./terminal.js";
import { clientFrom, VERIFY_OPTIONS } from "./verify.js";

export const LOCKFILE_HELP = `Usage: ledger verify-lockfile [package-lock.json] [--require-all] [--state FILE] [--json]

Verifies every registry package of an npm lockfile (lockfileVersion 2 or 3: an
"integrity", and a "resolved" that is an http(s) URL when npm wrote one) whose
namespace the log covers (npm:@scope for scoped packages, npm:<name> otherwise):
logged, signed by a key valid then, approved as the policy in force demands, not
revoked, and its integrity (sha512) one of the release's logged artifacts; all
under one trusted checkpoint, consistent with the one in --state. Packages of
namespaces the log does not know are listed as not covered (--require-all makes
that a failure). With --state, tlog-proof bundles are kept in <state>.proofs/:
a repeat run against the same checkpoint verifies them offline and makes one
request; after the log grows, the run syncs it again.
${VERIFY_OPTIONS}`;

export interface LockedPackage {
  name: string;
  version: string;
  /** Where npm installed it, e.g. node_modules/@swc/core (the first of them). */
  path: string;
  integrity: string;
  /** The sha512 (hex) the integrity names; undefined when it names none. */
  sha512: string | undefined;
}

/** The registry packages of a package-lock v2/v3 (with an `integrity`), one per name@version@integrity; `skipped` lists the rest. */
export function lockedPackages(lock: unknown): { packages: LockedPackage[]; skipped: string[] } {
  const l = lock as { lockfileVersion?: unknown; packages?: unknown } | null;
  if (!l || typeof l !== "object" || (l.lockfileVersion !== 2 && l.lockfileVersion !== 3)) {
    throw new CliError("the lockfile must be an npm package-lock.json with lockfileVersion 2 or 3 (npm 7 or later)", 2);
  }
  if (!l.packages || typeof l.packages !== "object") throw new CliError('the lockfile has no "packages" object', 2);
  const seen = new Map<string, LockedPackage>();
  const skipped: string[] = [];
  for (const [path, meta] of Object.entries(l.packages as Record<string, any>)) {
    if (path === "" || !meta || typeof meta !== "object" || meta.link === true) continue;
    const cut = path.lastIndexOf("node_modules/");
    const name = typeof meta.name === "string" ? meta.name : cut >= 0 ? path.slice(cut + "node_modules/".length) : "";
    // A registry package has an integrity; its "resolved" URL may be left out (npm's omit-lockfile-registry-resolved).
    // Git, file and link dependencies have no integrity, or a resolved that is not http(s): not from a registry.
    const fromRegistry = meta.resolved === undefined || (typeof meta.resolved === "string" && /^https?:\/\//.test(meta.resolved));
    if (!fromRegistry || typeof meta.integrity !== "string" || typeof meta.version !== "string" || name === "") {
      skipped.push(path);
      continue;
    }
    const key = `${name}@${meta.version}@${meta.integrity}`;
    if (!seen.has(key)) seen.set(key, { name, version: meta.version, path, integrity: meta.integrity, sha512: sha512Of(meta.integrity) });
  }
  return { packages: [...seen.values()], skipped };
}

/** The sha512 (hex) of an SRI `integrity` string, if it has one. */
export function sha512Of(integrity: string): string | undefined {
  return integritySha512s(integrity)[0];
}

export type PackageResult = LockedPackage & { namespace: string } & (
    | { status: "verified"; index: bigint; approvalIndex: bigint | null }
    | { status: "not_covered" }
    | { status: "failed"; check: string; message: string }
  );

/** What the proof cache remembers of one verified release. */
interface CachedRelease {
  namespace: string;
  sha512s: string[];
  index: string;
  approvalIndex: string | null;
}
interface CacheIndex {
  version: 1;
  /** The checkpoint every bundle of this cache proves against. */
  checkpoint: string;
  /** Namespaces the log held at that checkpoint. */
  namespaces: string[];
  releases: Record<string, CachedRelease>;
}


class ProofCache {
  constructor(readonly dir: string) {}

  load(): CacheIndex | undefined {
    try {
      const idx = JSON.parse(readFileSync(join(this.dir, "index.json"), "utf8")) as CacheIndex;
      return idx.version === 1 && typeof idx.checkpoint === "string" ? idx : undefined;
    } catch {
      return undefined;
    }
  }

  bundle(index: string): string | undefined {
    try {
      return readFileSync(join(this.dir, `${index}.tlog-proof`), "utf8");
    } catch {
      return undefined;
    }
  }

  /** Writes the bundles, then the index (renamed into place last), then drops bundles no index names. */
  save(idx: CacheIndex, bundles: Map<string, string>): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const write = (name: string, text: string) => {
      const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, join(this.dir, name));
    };
    for (const [i, text] of bundles) write(`${i}.tlog-proof`, text);
    write("index.json", JSON.stringify(idx));
    for (const f of readdirSync(this.dir)) if (f.endsWith(".tlog-proof") && !bundles.has(f.slice(0, -".tlog-proof".length))) rmSync(join(this.dir, f), { force: true });
  }
}

function fail(p: LockedPackage, namespace: string, check: string, message: string): PackageResult {
  return { ...p, namespace, status: "failed", check, message };
}

/**
 * Checks the packages against the synced log (the client has synced to its
 * trusted checkpoint). Returns the results and, for the cache, the bundles
 * of every verified release (its entry and its approval's).
 */
async function checkSynced(client: LedgerClient, packages: LockedPackage[], entries: Map<bigint, Uint8Array>, checkpoint: string) {
  const results: PackageResult[] = [];
  const releases: Record<string, CachedRelease> = {};
  const bundles = new Map<string, string>();
  const bundle = async (index: bigint) => {
    const bytes = entries.get(index);
    if (!bytes) throw new CliError(`entry ${index} was not kept while syncing`, 1);
    bundles.set(index.toString(), formatTlogProof({ index, proof: await client.proveSynced(index), checkpoint, extra: bytes }));
  };
  for (const p of packages) {
    const namespace = npmNamespace(p.name);
    const ns = client.replayer.namespaces.get(namespace);
    if (!ns) {
      results.push({ ...p, namespace, status: "not_covered" });
      continue;
    }
    if (!p.sha512) {
      results.push(fail(p, namespace, "no_sha512", `its integrity names no sha512 (${p.integrity.slice(0, 40)}): nothing to compare with the log`));
      continue;
    }
    const s = releaseStatus(ns, p.name, p.version);
    if (!s) {
      results.push(fail(p, namespace, "not_logged", `${namespace} is in the log but ${p.name}@${p.version} is not`));
      continue;
    }
    const logged = s.release.artifacts.map((a) => a.sha512).filter((h): h is string => h !== undefined);
    if (!logged.includes(p.sha512)) {
      results.push(fail(p, namespace, "artifacts_mismatch", `its integrity (sha512 ${p.sha512.slice(0, 16)}…) is not among the artifacts logged for the release at ${s.release.index}`));
      continue;
    }
    if (s.revoked) {
      results.push(fail(p, namespace, "revoked", `the release was revoked at ${s.release.revokedAt}`));
      continue;
    }
    if (s.rejected) {
      results.push(fail(p, namespace, "rejected", `the release was rejected at ${s.outcome!.index}`));
      continue;
    }
    if (!s.approved) {
      results.push(fail(p, namespace, "not_approved", `the release at ${s.release.index} has no approved outcome that meets the policy of ${namespace}`));
      continue;
    }
    await bundle(s.release.index);
    if (s.approvalIndex !== null) await bundle(s.approvalIndex);
    releases[releaseKey(p.name, p.version)] = { namespace, sha512s: logged, index: s.release.index.toString(), approvalIndex: s.approvalIndex === null ? null : s.approvalIndex.toString() };
    results.push({ ...p, namespace, status: "verified", index: s.release.index, approvalIndex: s.approvalIndex });
  }
  return { results, releases, bundles };
}

/**
 * The warm path: every package from the cache, its bundles verified offline
 * against the trusted checkpoint. Undefined when anything is missing, stale
 * or does not verify (then the caller syncs).
 */
function checkCached(idx: CacheIndex, packages: LockedPackage[], cache: ProofCache, trust: { checkpoint: string }, treeSize: bigint, rootHash: Uint8Array): PackageResult[] | undefined {
  const covered = new Set(idx.namespaces);
  const results: PackageResult[] = [];
  const entryAt = (index: string): ReturnType<typeof parseEntry> | undefined => {
    const text = cache.bundle(index);
    if (!text) return undefined;
    try {
      const p = parseTlogProof(text);
      if (!p.extra || p.index.toString() !== index) return undefined;
      // The bundle's checkpoint must be the trusted one, whose signature update() verified: only
      // inclusion is left to check (one signature check per run, not one per bundle).
      if (p.checkpoint !== trust.checkpoint) return undefined;
      verifyInclusion(p.index, treeSize, entryLeafHash(p.extra), p.proof, rootHash);
      return parseEntry(p.extra);
    } catch (e) {
      if (e instanceof LedgerError) return undefined;
      throw e;
    }
  };
  for (const p of packages) {
    const namespace = npmNamespace(p.name);
    if (!covered.has(namespace)) {
      results.push({ ...p, namespace, status: "not_covered" });
      continue;
    }
    const c = idx.releases[releaseKey(p.name, p.version)];
    if (!c || c.namespace !== namespace || !p.sha512 || !c.sha512s.includes(p.sha512)) return undefined; // new or different: sync
    const rel = entryAt(c.index);
    const st = rel?.record.statement as { package?: string; version?: string; artifacts?: Array<{ sha512?: string }>; decision?: string } | undefined;
    if (!rel || rel.record.type !== "release.sign" || rel.record.namespace !== namespace || st?.package !== p.name || st.version !== p.version || !st.artifacts?.some((a) => a.sha512 === p.sha512)) return undefined;
    if (c.approvalIndex !== null) {
      const out = entryAt(c.approvalIndex);
      const os = out?.record.statement as typeof st;
      if (!out || out.record.type !== "approval.outcome" || out.record.namespace !== namespace || os?.package !== p.name || os.version !== p.version || os.decision !== "approved") return undefined;
    }
    results.push({ ...p, namespace, status: "verified", index: BigInt(c.index), approvalIndex: c.approvalIndex === null ? null : BigInt(c.approvalIndex) });
  }
  return results;
}

export async function verifyLockfileCommand(args: string[], io: Out): Promise<number> {
  const { v, files } = parse(args, { ...VERIFY, "require-all": { type: "boolean" } });
  if (v.help) return io.out(LOCKFILE_HELP + "\n"), 0;
  if (files.length > 1) throw new CliError("give one lockfile", 2);
  const path = files[0] ?? "package-lock.json";
  let lock: unknown;
  try {
    lock = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`, 2);
  }
  const { packages, skipped } = lockedPackages(lock);
  const wanted = new Set(packages.map((p) => `${npmNamespace(p.name)}\n${releaseKey(p.name, p.version)}`));

  let requests = 0;
  const counting: typeof fetch = (input, init) => {
    requests++;
    return fetch(input, init);
  };
  // Keeps the bytes of the releases and outcomes the lockfile names (for their bundles).
  const entries = new Map<bigint, Uint8Array>();
  const onRecord = (e: ReplayEvent, record: unknown, bytes: Uint8Array) => {
    const r = record as { type?: string; namespace?: string; statement?: { package?: string; version?: string } };
    if (e.result === "applied" && (r.type === "release.sign" || r.type === "approval.outcome") && wanted.has(`${r.namespace}\n${releaseKey(r.statement?.package ?? "", r.statement?.version ?? "")}`)) entries.set(e.index, bytes);
  };
  const client = clientFrom(v, io.isTTY ? progressLine(io, "verify-lockfile") : undefined, { fetch: counting, onRecord });
  const started = performance.now();
  const trusted = await client.trusted();
  const cp = await client.update();
  const cache = v.state ? new ProofCache(`${v.state}.proofs`) : undefined;
  const idx = cache?.load();
  let results: PackageResult[] | undefined;
  let fromCache = false;
  if (cache && idx && trusted && cp.treeSize === trusted.treeSize) {
    results = checkCached(idx, packages, cache, { checkpoint: cp.raw }, cp.treeSize, cp.rootHash);
    fromCache = results !== undefined;
  }
  if (!results) {
    const synced = await client.sync();
    const checked = await checkSynced(client, packages, entries, synced.raw);
    results = checked.results;
    if (cache && results.every((r) => r.status !== "failed")) {
      cache.save({ version: 1, checkpoint: synced.raw, namespaces: [...client.replayer.namespaces.keys()], releases: checked.releases }, checked.bundles);
    }
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const failed = results.filter((r) => r.status === "failed");
  const notCovered = results.filter((r) => r.status === "not_covered");
  const verified = results.length - failed.length - notCovered.length;
  const ok = failed.length === 0 && (!v["require-all"] || notCovered.length === 0);
  const summary = {
    ok,
    origin: client.origin,
    treeSize: cp.treeSize,
    lockfile: path,
    verified,
    failed: failed.map((r) => ({ name: r.name, version: r.version, path: r.path, check: r.status === "failed" ? r.check : "", message: r.status === "failed" ? r.message : "" })),
    notCovered: notCovered.map((r) => ({ name: r.name, version: r.version, namespace: r.namespace })),
    skipped,
    fromCache,
    requests,
    seconds,
    packages: results.map((r) => ({ name: r.name, version: r.version, namespace: r.namespace, status: r.status, ...(r.status === "verified" ? { index: r.index, approvalIndex: r.approvalIndex } : {}), ...(r.status === "failed" ? { check: r.check } : {}) })),
  };
  if (v.json) {
    io.out(JSON.stringify(summary, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) + "\n");
  } else {
    for (const r of failed) if (r.status === "failed") io.out(`${paint(io, "out", "red", "failed:")} ${escapeTerminal(`${r.name}@${r.version} (${r.path}): ${r.check}: ${r.message}`)}\n`);
    if (notCovered.length) io.out(escapeTerminal(`${v["require-all"] ? "failed: " : ""}not covered by the log (${notCovered.length}): ${notCovered.map((r) => `${r.name}@${r.version}`).join(", ")}`) + "\n");
    const verdict = ok ? paint(io, "out", "green", "ok:") : paint(io, "out", "red", "failed:");
    io.out(
      `${verdict} ${escapeTerminal(client.origin)} tree ${cp.treeSize}: ${verified} of ${packages.length} packages verified, ${failed.length} failed, ${notCovered.length} not covered, ${skipped.length} not from a registry; ${fromCache ? "from cached tlog-proofs, " : ""}${requests} request${requests === 1 ? "" : "s"}, ${seconds} s\n`,
    );
  }
  return ok ? 0 : 1;
}

