/** `ledger` commands for registries (write records) and package managers (verify). */
import { parseArgs } from "node:util";
import { HttpError, LedgerError, PolicyError } from "../client/errors.js";
import { keyIdOf } from "../client/entry.js";
import { LedgerClient } from "../client/ledger-client.js";
import { createVerifier } from "../client/note.js";
import { parseCoreKeys } from "../client/replay.js";
import { artifactsFrom, approvalWith, CliError, loadKey, signRecordWith, submit } from "./cli-records.js";
import { FileStateStore } from "./file-state.js";
import { ed25519VerifyNode } from "./crypto.js";
import { progressLine } from "./cli-follow.js";
import { readFileSync } from "node:fs";
import { escapeTerminal } from "./terminal.js";

/**
 * Where a command writes. `isTTY`: stderr is a terminal (progress bars);
 * `color`: which streams may carry ANSI colours (terminals, unless NO_COLOR).
 */
export type Out = { out: (s: string) => void; err: (s: string) => void; isTTY?: boolean; color?: { out: boolean; err: boolean } };

const ANSI = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22] } as const;

/** `text` in a colour when that stream may carry colours; plain otherwise. */
export function paint(io: Out, stream: "out" | "err", color: keyof typeof ANSI, text: string): string {
  if (!io.color?.[stream]) return text;
  const [on, off] = ANSI[color];
  return `\x1b[${on}m${text}\x1b[${off}m`;
}

type Spec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
const COMMON: Spec = { server: { type: "string" }, token: { type: "string" }, namespace: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" } };
const RELEASE: Spec = { package: { type: "string" }, version: { type: "string" }, artifact: { type: "string", multiple: true } };
const VERIFY: Spec = {
  "log-key": { type: "string" },
  state: { type: "string" },
  "break-glass": { type: "string" },
  "core-keys": { type: "string" },
  mirror: { type: "string", multiple: true },
  witness: { type: "string", multiple: true },
  quorum: { type: "string" },
};

function parse(args: string[], spec: Spec) {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON, ...spec }, strict: true, allowPositionals: true });
    return { v: values as Record<string, any>, files: positionals };
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

function need(v: Record<string, any>, ...names: string[]): void {
  for (const n of names) if (v[n] === undefined || v[n] === "") throw new CliError(`--${n} is required`, 2);
}

function server(v: Record<string, any>): string {
  const s = v.server ?? process.env.LEDGER_SERVER;
  if (!s) throw new CliError("--server <url> (or LEDGER_SERVER) is required", 2);
  return s;
}

/** A result: JSON with --json, else one human line; untrusted parts of it are escaped before colours are added. */
function report(io: Out, v: Record<string, any>, human: string, json: unknown): void {
  if (v.json) io.out(JSON.stringify(json, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) + "\n");
  else io.out(escapeTerminal(human).replace(/^(ok|failed):/, (m, word) => paint(io, "out", word === "ok" ? "green" : "red", m)) + "\n");
}

async function write(io: Out, v: Record<string, any>, record: unknown, what: string): Promise<number> {
  const r = await submit(server(v), v.token ?? process.env.LEDGER_TOKEN, record);
  report(io, v, `${what}: logged at index ${r.index}`, r);
  return 0;
}

const WRITE_OPTIONS = `
Writing options:
  --server <url>     the log (or LEDGER_SERVER)
  --token <token>    the registry's writer token (or LEDGER_TOKEN)
  --namespace <ns>   <ecosystem>:<name>, e.g. npm:@swc
  --json             print the server's answer as JSON`;

const VERIFY_OPTIONS = `
Verifying options:
  --server <url>        the log or a mirror (or LEDGER_SERVER)
  --log-key <vkey>      the log's verifier key (or LEDGER_LOG_KEY): the trust root
  --state <file>        where the trusted checkpoint is kept; later runs refuse a fork
  --break-glass accept|refuse   whether records signed by core keys count (refuse)
  --core-keys <k>       <threshold>:<base64 key>,… for --break-glass accept
  --json                machine-readable output
Exit codes: 0 ok, 1 a check failed, 2 usage, 3 the server could not be used.`;

export const HELP: Record<string, string> = {
  "register-key": `Usage: ledger register-key --key NEW.key --role publish|approve|admin [--label L] [--signer ADMIN.key]… [--break-glass]

Registers the public key of NEW.key (signed by it: proof of possession). The first
admin key of a namespace needs no other signer; later keys need the namespace's
admin threshold of --signer admin keys, or core keys with --break-glass.
${WRITE_OPTIONS}`,
  "revoke-key": `Usage: ledger revoke-key --key-id ID --reason R --signer KEY.key… [--break-glass]

Revokes a key of the namespace (signed by the admin threshold, or by the key itself).
${WRITE_OPTIONS}`,
  "set-policy": `Usage: ledger set-policy --policy POLICY.json --signer ADMIN.key…

Sets the namespace's approval policy: {"adminThreshold": n, "groups": [{"name",
"members": [keyId…], "threshold": k, "excludeRequester": bool}]} (docs/records.md).
${WRITE_OPTIONS}`,
  "sign-release": `Usage: ledger sign-release --package P --version V --key PUBLISH.key [--requester KEYID] FILE… [--artifact name=sha256]…

Hashes each FILE (or takes --artifact name=sha256) and logs a release.sign record
signed by a publish key.
${WRITE_OPTIONS}`,
  approve: `Usage: ledger approve --namespace NS --package P --version V --requester KEYID --key APPROVE.key FILE… [--artifact name=sha256]…

Signs an approval of the release's exact artifacts with an approve key and prints
it (JSON) for the requester to collect; nothing is sent to the log.`,
  "submit-outcome": `Usage: ledger submit-outcome --package P --version V --requester KEYID --approval FILE… --decision approved|rejected --key PUBLISH.key FILE…

Logs the approval outcome: the collected approvals (files printed by 'ledger approve')
and the decision, signed by the requester's publish key.
${WRITE_OPTIONS}`,
  "verify-release": `Usage: ledger verify-release --namespace NS --package P --version V FILE… [--mirror URL]… [--witness VKEY]… [--quorum k]

Checks a release the way a package manager does: the log's checkpoint is signed and
consistent with the trusted one, the release is included, signed by a current publish
key, approved as the policy demands, not revoked, and its artifacts match the FILEs.
With --witness/--mirror, a quorum of k cosigners or mirrors must agree.
${VERIFY_OPTIONS}`,
  "verify-log": `Usage: ledger verify-log [--state FILE]

Audits the whole log from scratch: every leaf, the hash chain, the signed root and
every record's rules, with a progress bar on a terminal and a summary at the end.
${VERIFY_OPTIONS}`,
  status: `Usage: ledger status [--state FILE]

Fetches the latest checkpoint, verifies its signature and its consistency with the
trusted one, and moves the trusted checkpoint forward.
${VERIFY_OPTIONS}`,
};

export const COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = {
  async "register-key"(args, io) {
    const { v } = parse(args, { key: { type: "string" }, role: { type: "string" }, label: { type: "string" }, signer: { type: "string", multiple: true }, "break-glass": { type: "boolean" } });
    if (v.help) return io.out(HELP["register-key"] + "\n"), 0;
    need(v, "namespace", "key", "role");
    const key = loadKey(v.key);
    const statement = { publicKey: Buffer.from(key.publicKey).toString("base64"), role: v.role, ...(v.label ? { label: v.label } : {}), ...(v["break-glass"] ? { breakGlass: true } : {}) };
    const signers = [key, ...(v.signer ?? []).map(loadKey)];
    return write(io, v, signRecordWith({ type: "key.register", namespace: v.namespace, statement }, signers), `key ${keyIdOf(key.publicKey)} registered`);
  },

  async "revoke-key"(args, io) {
    const { v } = parse(args, { "key-id": { type: "string" }, reason: { type: "string" }, signer: { type: "string", multiple: true }, "break-glass": { type: "boolean" } });
    if (v.help) return io.out(HELP["revoke-key"] + "\n"), 0;
    need(v, "namespace", "key-id", "reason", "signer");
    const statement = { keyId: v["key-id"], reason: v.reason, ...(v["break-glass"] ? { breakGlass: true } : {}) };
    return write(io, v, signRecordWith({ type: "key.revoke", namespace: v.namespace, statement }, v.signer.map(loadKey)), `key ${v["key-id"]} revoked`);
  },

  async "set-policy"(args, io) {
    const { v } = parse(args, { policy: { type: "string" }, signer: { type: "string", multiple: true } });
    if (v.help) return io.out(HELP["set-policy"] + "\n"), 0;
    need(v, "namespace", "policy", "signer");
    let statement: Record<string, unknown>;
    try {
      statement = JSON.parse(readFileSync(v.policy, "utf8"));
    } catch (e) {
      throw new CliError(`cannot read policy ${v.policy}: ${(e as Error).message}`, 2);
    }
    return write(io, v, signRecordWith({ type: "policy.set", namespace: v.namespace, statement }, v.signer.map(loadKey)), "policy set");
  },

  async "sign-release"(args, io) {
    const { v, files } = parse(args, { ...RELEASE, key: { type: "string" }, requester: { type: "string" } });
    if (v.help) return io.out(HELP["sign-release"] + "\n"), 0;
    need(v, "namespace", "package", "version", "key");
    const statement = { package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact), ...(v.requester ? { requester: v.requester } : {}) };
    return write(io, v, signRecordWith({ type: "release.sign", namespace: v.namespace, statement }, [loadKey(v.key)]), `${v.package}@${v.version} signed`);
  },

  async approve(args, io) {
    const { v, files } = parse(args, { ...RELEASE, key: { type: "string" }, requester: { type: "string" } });
    if (v.help) return io.out(HELP.approve + "\n"), 0;
    need(v, "namespace", "package", "version", "key", "requester");
    const a = approvalWith(loadKey(v.key), { namespace: v.namespace, package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact), requester: v.requester });
    io.out(JSON.stringify(a) + "\n");
    return 0;
  },

  async "submit-outcome"(args, io) {
    const { v, files } = parse(args, { ...RELEASE, key: { type: "string" }, requester: { type: "string" }, approval: { type: "string", multiple: true }, decision: { type: "string" } });
    if (v.help) return io.out(HELP["submit-outcome"] + "\n"), 0;
    need(v, "namespace", "package", "version", "key", "requester", "decision");
    const approvals = (v.approval ?? []).map((f: string) => {
      try {
        return JSON.parse(readFileSync(f, "utf8"));
      } catch {
        throw new CliError(`cannot read approval ${f}`, 2);
      }
    });
    const statement = { package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact), requester: v.requester, approvals, decision: v.decision };
    return write(io, v, signRecordWith({ type: "approval.outcome", namespace: v.namespace, statement }, [loadKey(v.key)]), `outcome ${v.decision}`);
  },

  async "verify-release"(args, io) {
    const { v, files } = parse(args, { ...RELEASE, ...VERIFY });
    if (v.help) return io.out(HELP["verify-release"] + "\n"), 0;
    need(v, "namespace", "package", "version");
    const client = clientFrom(v);
    const r = await client.verifyRelease({ namespace: v.namespace, package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact) });
    const bg = r.breakGlass.involved ? `; break-glass records in this namespace at ${r.breakGlass.indices.join(", ")}` : "";
    report(io, v, `ok: ${r.package}@${r.version} logged at ${r.index} (tree ${r.treeSize}), signed by ${r.signedBy.join(", ")}, approved${r.approvalIndex !== null ? ` at ${r.approvalIndex}` : " (no approval groups)"}, not revoked${bg}`, { ok: true, ...r });
    return 0;
  },

  async "verify-log"(args, io) {
    const { v } = parse(args, VERIFY);
    if (v.help) return io.out(HELP["verify-log"] + "\n"), 0;
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
    if (v.help) return io.out(HELP.status + "\n"), 0;
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

function clientFrom(v: Record<string, any>, onProgress?: (done: bigint, total: bigint) => void): LedgerClient {
  const logKey = v["log-key"] ?? process.env.LEDGER_LOG_KEY;
  if (!logKey) throw new CliError("--log-key <vkey> (or LEDGER_LOG_KEY) is required", 2);
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
    ...(coreKeys ? { coreKeys: parseCoreKeys(coreKeys) } : {}),
    ...(k !== undefined ? { quorum: { witnesses, k, mirrors } } : {}),
    ...(v.state ? { state: new FileStateStore(v.state) } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
}

/** Maps failures to exit codes: 1 a check failed, 2 usage, 3 the server could not be used. */
export function exitCodeFor(e: unknown, io: Out): number | undefined {
  if (e instanceof CliError) {
    io.err(`ledger: ${escapeTerminal(e.message)}\n`);
    return e.exitCode;
  }
  if (e instanceof HttpError) {
    io.err(`ledger: ${escapeTerminal(e.message)}\n`);
    return 3;
  }
  if (e instanceof LedgerError) {
    const check = e instanceof PolicyError ? ` [${e.check}]` : "";
    io.err(`ledger: ${paint(io, "err", "red", "verification failed")} (${e.code}${check}): ${escapeTerminal(e.message)}\n`);
    return 1;
  }
  return undefined;
}
