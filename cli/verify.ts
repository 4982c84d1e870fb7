/**
 * What a package manager runs: verify-release, verify-log and status. This
 * folder depends on client/ only (and Node): it never loads the server, its
 * database drivers or zod.
 */
import { readFileSync } from "node:fs";
import { createVerifier } from "../client/note.js";
import { parsePolicy, type TlogPolicy } from "../client/policy.js";
import { LedgerClient, type LedgerClientOptions } from "../client/ledger-client.js";
import { parseCoreKeys } from "../client/replay.js";
import { artifactsFrom } from "./artifacts.js";
import { parse, need, RELEASE, server, VERIFY } from "./args.js";
import { CliError } from "./errors.js";
import { FileStateStore } from "./file-state.js";
import { defaultVerifyThreads, VerifyPool } from "./verify-pool.js";
import { ed25519VerifyNode } from "./node-ed25519.js";
import { progressLine, report, type Out } from "./output.js";

export const VERIFY_OPTIONS = `
Verifying options:
  --server <url>        the log or a mirror (or LEDGER_SERVER)
  --log-key <vkey>      the log's verifier key (or LEDGER_LOG_KEY): the trust root
  --state <file>        where the trusted checkpoint is kept; later runs refuse a fork
  --break-glass accept|refuse   whether records signed by core keys count (refuse)
  --core-keys <k>       <threshold>:<base64 key>,… for --break-glass accept
  --policy <file>       a C2SP tlog-policy: its log, witnesses and quorum (k-of-n groups);
                        the checkpoint must carry cosignatures that meet it
  --json                machine-readable output
Exit codes: 0 ok, 1 a check failed, 2 usage, 3 the server could not be used.`;


export const VERIFY_HELP: Record<string, string> = {
  "verify-release": `Usage: ledger verify-release --namespace NS --package P --version V FILE… [--sha512] [--artifact name=sha256[:sha512]]… [--mirror URL]… [--witness VKEY]… [--quorum k]

Checks a release the way a package manager does: the log's checkpoint is signed and
consistent with the trusted one, the release is included, signed by a current publish
key, approved as the policy demands, not revoked, and its artifacts match the FILEs.
With --witness/--mirror, a quorum of k cosigners or mirrors must agree.
${VERIFY_OPTIONS}`,
  "verify-log": `Usage: ledger verify-log [--state FILE]

Audits the whole log from scratch: every leaf, the hash chain, the signed root and
every record's rules, with a progress bar on a terminal and a summary at the end.
Record signatures are verified on LEDGER_VERIFY_THREADS worker threads (default
cores - 1, at most 4; 0 = on the main thread), with the same results.
${VERIFY_OPTIONS}`,
  status: `Usage: ledger status [--state FILE]

Fetches the latest checkpoint, verifies its signature and its consistency with the
trusted one, and moves the trusted checkpoint forward.
${VERIFY_OPTIONS}`,
};

export const VERIFY_COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = {
  async "verify-release"(args, io) {
    const { v, files } = parse(args, { ...RELEASE, ...VERIFY });
    if (v.help) return io.out(VERIFY_HELP["verify-release"] + "\n"), 0;
    need(v, "namespace", "package", "version");
    const client = clientFrom(v);
    const r = await client.verifyRelease({ namespace: v.namespace, package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact, v.sha512 === true) });
    const bg = r.breakGlass.involved ? `; break-glass records in this namespace at ${r.breakGlass.indices.join(", ")}` : "";
    const who = r.approvers.map((a) => `\n  approved by ${a.label ?? "(no label)"} ${a.keyId.slice(0, 16)}… ${a.kind === "passkey" ? `passkey, UV ${a.userVerified ? "yes" : "no"}` : "Ed25519 key"}, counted in ${a.groups.length ? a.groups.join(", ") : "no group (the requester)"}`);
    report(io, v, `ok: ${r.package}@${r.version} logged at ${r.index} (tree ${r.treeSize}), signed by ${r.signedBy.join(", ")}, approved${r.approvalIndex !== null ? ` at ${r.approvalIndex}` : " (no approval groups)"}, not revoked${bg}${who.join("")}`, { ok: true, ...r });
    return 0;
  },

  async "verify-log"(args, io) {
    const { v } = parse(args, VERIFY);
    if (v.help) return io.out(VERIFY_HELP["verify-log"] + "\n"), 0;
    const started = performance.now();
    const client = clientFrom(v, progressLine(io, "verify-log"));
    const cp = await client.sync();
    const seconds = (performance.now() - started) / 1000;
    const rate = Math.round(Number(cp.treeSize) / Math.max(seconds, 1e-3));
    const s = client.stats;
    // One answer: a log that holds a record its own rules refuse fails the audit, and says so.
    const ok = s.refused === 0;
    const summary = { ok, origin: client.origin, treeSize: cp.treeSize, seconds: Math.round(seconds * 10) / 10, entriesPerSecond: rate, records: s, namespaces: client.replayer.namespaces.size };
    const verdict = ok ? "ok" : `failed: the log holds ${s.refused} record(s) the rules refuse;`;
    report(io, v, `${verdict}${ok ? ":" : ""} ${client.origin}: ${cp.treeSize} entries verified (leaf hashes, hash chain, root, consistency with the trusted checkpoint) in ${summary.seconds} s (${rate}/s); records applied ${s.applied}, refused ${s.refused}, ignored with break-glass ${s.ignored}; ${summary.namespaces} namespaces`, summary);
    return ok ? 0 : 1;
  },

  async status(args, io) {
    const { v } = parse(args, VERIFY);
    if (v.help) return io.out(VERIFY_HELP.status + "\n"), 0;
    const client = clientFrom(v);
    const before = await client.trusted();
    const cp = await client.update();
    report(io, v, `ok: ${client.origin} tree size ${cp.treeSize} root ${Buffer.from(cp.rootHash).toString("base64")}${before ? ` (consistent with trusted size ${before.treeSize})` : " (first contact: now trusted)"}`, {
      ok: true,
      origin: client.origin,
      treeSize: cp.treeSize,
      rootHash: Buffer.from(cp.rootHash).toString("base64"),
      previousTreeSize: before?.treeSize ?? null,
    });
    return 0;
  },
};

/** A C2SP tlog-policy file (`--policy`), or undefined. */
export function policyFrom(v: Record<string, any>): TlogPolicy | undefined {
  if (v.policy === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(v.policy, "utf8");
  } catch (e) {
    throw new CliError(`--policy: cannot read ${v.policy}: ${(e as Error).message}`, 2);
  }
  try {
    return parsePolicy(text);
  } catch (e) {
    throw new CliError(`--policy ${v.policy}: ${(e as Error).message}`, 2);
  }
}

let pool: VerifyPool | undefined;

/**
 * Bulk verification on worker threads for a whole-log sync (`LEDGER_VERIFY_THREADS`,
 * default cores − 1, at most 4; 0 = inline), or undefined to verify inline.
 */
function verifyBatchFrom(): LedgerClientOptions["verifyBatch"] {
  const env = process.env.LEDGER_VERIFY_THREADS;
  const threads = env !== undefined && env !== "" ? Number(env) : defaultVerifyThreads(1);
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new CliError("LEDGER_VERIFY_THREADS must be an integer from 0 to 64", 2);
  if (threads === 0) return undefined;
  return (items) => (pool ??= new VerifyPool(threads)).verify(items);
}

export function clientFrom(v: Record<string, any>, onProgress?: (done: bigint, total: bigint) => void, extra: Pick<LedgerClientOptions, "fetch" | "onRecord"> = {}): LedgerClient {
  const policy = policyFrom(v);
  // A policy that names exactly one log gives its key.
  const logKey = v["log-key"] ?? process.env.LEDGER_LOG_KEY ?? (policy?.logs.length === 1 ? policy.logs[0]!.vkey : undefined);
  if (!logKey) throw new CliError("--log-key <vkey> (or LEDGER_LOG_KEY, or a --policy naming one log) is required", 2);
  const breakGlass = v["break-glass"] ?? "refuse";
  if (breakGlass !== "accept" && breakGlass !== "refuse") throw new CliError("--break-glass must be accept or refuse", 2);
  const witnesses = (v.witness ?? []).map((w: string) => createVerifier(w));
  const mirrors: string[] = v.mirror ?? [];
  const k = v.quorum !== undefined ? Number(v.quorum) : undefined;
  if (k !== undefined && !(Number.isInteger(k) && k >= 1 && k <= witnesses.length + mirrors.length)) throw new CliError("--quorum must be from 1 to the number of witnesses and mirrors", 2);
  const coreKeys = v["core-keys"] ?? process.env.LEDGER_CORE_KEYS;
  return new LedgerClient({
    url: server(v),
    logKey,
    breakGlass,
    verify: ed25519VerifyNode, // node:crypto: the same strict RFC 8032 answers as noble, ~10x faster
    verifyBatch: verifyBatchFrom(),
    ...(coreKeys ? { coreKeys: parseCoreKeys(coreKeys) } : {}),
    ...(k !== undefined ? { quorum: { witnesses, k, mirrors } } : {}),
    ...(policy ? { policy } : {}),
    ...(v.state ? { state: new FileStateStore(v.state) } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...extra,
  });
}

