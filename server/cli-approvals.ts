/**
 * `ledger` commands of the approval service's users: a registry opens a
 * request and waits (`request-approval`); an approver with an Ed25519 key
 * decides on one (`approve --request`); an admin co-signs a passkey enrolled
 * on /enroll (`register-key --pending`). Each shows what it signs, recomputed
 * here from the request, never the server's word for the bytes.
 */
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { approvalSigningMessage, rejectionSigningMessage } from "../client/replay.js";
import type { ApprovalRequestJson, EnrollmentJson } from "../schema/approvals.js";
import { need, parse, RELEASE, server } from "../cli/args.js";
import { report, type Out } from "../cli/output.js";
import { escapeTerminal } from "../cli/terminal.js";
import { artifactsFrom, CliError, loadKey } from "./cli-records.js";

async function call<T>(base: string, method: string, path: string, body?: unknown, token?: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/$/, "")}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    throw new CliError(`cannot reach ${base}: ${(e as Error).message}`, 3);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, any>;
  if (res.status >= 400) throw new CliError(`refused (${res.status} ${json.error?.code ?? "error"}): ${json.error?.message ?? ""}`, res.status >= 500 ? 3 : 1);
  return json as T;
}

/** A request's ID from its ID or its approve URL. */
function requestId(s: string): string {
  const m = /\/approve\/([A-Za-z0-9_-]+)\/?$/.exec(s) ?? /^([A-Za-z0-9_-]{1,64})$/.exec(s);
  if (!m) throw new CliError(`--request takes a request ID or its /approve/<id> URL, not ${JSON.stringify(s)}`, 2);
  return m[1]!;
}

export const APPROVAL_HELP: Record<string, string> = {
  "request-approval": `Usage: ledger request-approval --namespace NS --package P --version V FILE… [--sha512] [--artifact name=sha256[:sha512]]… [--requester KEYID] [--callback URL] [--expires-in SECONDS] [--timeout SECONDS] [--no-wait]

Opens an approval request for a logged release (the approval service pushes it to
every approver of the namespace's policy), prints its approve URL, and waits for
the decision. Exit 0 approved, 1 rejected or expired (or --timeout passed), 2 usage,
3 the server could not be used.

Options:
  --server <url>  --token <writer token>  --json
  --callback <url>     the service POSTs the decision there, signed
                       Ledger-Signature: sha256=HMAC-SHA256(hex sha256(token), body)
  --expires-in <s>     close the request sooner than LEDGER_APPROVAL_TTL
  --timeout <s>        stop waiting after this long (default: until it is decided)
  --no-wait            print the request and exit 0`,
};

export const APPROVAL_COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = {
  async "request-approval"(args, io) {
    const { v, files } = parse(args, { ...RELEASE, requester: { type: "string" }, callback: { type: "string" }, "expires-in": { type: "string" }, timeout: { type: "string" }, "no-wait": { type: "boolean" } });
    if (v.help) return io.out(APPROVAL_HELP["request-approval"] + "\n"), 0;
    need(v, "namespace", "package", "version");
    const token = v.token ?? process.env.LEDGER_TOKEN;
    if (!token) throw new CliError("a writer token is required: --token or LEDGER_TOKEN", 2);
    const int = (name: string) => {
      if (v[name] === undefined) return undefined;
      if (!/^\d{1,8}$/.test(v[name])) throw new CliError(`--${name} is whole seconds`, 2);
      return Number(v[name]);
    };
    const expiresIn = int("expires-in");
    const timeout = int("timeout");
    const base = server(v);
    const body = { namespace: v.namespace, package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact, v.sha512 === true), ...(v.requester ? { requester: v.requester } : {}), ...(v.callback ? { callbackUrl: v.callback } : {}), ...(expiresIn !== undefined ? { expiresIn } : {}) };
    const opened = await call<{ id: string; url: string; expiresAt: string }>(base, "POST", "/v1/approval-requests", body, token);
    io.err(escapeTerminal(`ledger: approval request ${opened.id} open until ${opened.expiresAt}: ${opened.url}`) + "\n");
    if (v["no-wait"]) return report(io, v, opened.url, opened), 0;
    const until = timeout === undefined ? Infinity : Date.now() + timeout * 1000;
    let r: ApprovalRequestJson;
    for (;;) {
      const left = Math.max(1, Math.min(60, Math.ceil((until - Date.now()) / 1000)));
      r = await call<ApprovalRequestJson>(base, "GET", `/v1/approval-requests/${opened.id}?wait=decided&timeout=${left}`);
      if (r.state !== "pending" || Date.now() >= until) break;
      if (!v.json) io.err(`ledger: waiting: ${r.groups.map((g) => `${g.name} ${g.approvedBy.length}/${g.threshold}`).join(", ")}\n`);
    }
    const human = r.state === "approved" ? `ok: ${v.package}@${v.version} approved (outcome at index ${r.outcomeIndex})` : r.state === "pending" ? `failed: still pending after ${timeout}s` : `failed: ${v.package}@${v.version} ${r.state}${r.outcomeIndex ? ` (outcome at index ${r.outcomeIndex})` : ""}`;
    report(io, v, human, r);
    return r.state === "approved" ? 0 : 1;
  },
};

/** `ledger approve --request <id|url> --key APPROVE.key [--reject]`: decides on an open request with an Ed25519 approve key. */
export async function approveRequest(v: Record<string, any>, io: Out): Promise<number> {
  need(v, "key");
  const base = server(v);
  const id = requestId(v.request);
  const key = loadKey(v.key);
  const r = await call<ApprovalRequestJson>(base, "GET", `/v1/approval-requests/${id}`);
  const request = { namespace: r.namespace, package: r.package, version: r.version, artifacts: r.artifacts, requester: r.requester };
  const reject = v.reject === true;
  const message = reject ? rejectionSigningMessage(request) : approvalSigningMessage(request);
  io.err(escapeTerminal(`ledger: ${reject ? "rejecting" : "approving"} ${r.namespace} ${r.package}@${r.version} (${r.artifacts.map((a) => `${a.name} sha256:${a.sha256}${a.sha512 ? ` sha512:${a.sha512}` : ""}`).join(", ")}), requested by ${r.requester}`) + "\n");
  const signature = { keyId: keyIdOf(key.publicKey), sig: encodeBase64(ed25519Sign(key.seed, message)) };
  const after = await call<ApprovalRequestJson>(base, "POST", `/v1/approval-requests/${id}/decisions`, { decision: reject ? "reject" : "approve", signature });
  report(io, v, `ok: ${reject ? "rejection" : "approval"} recorded; the request is ${after.state}${after.outcomeIndex ? ` (outcome at index ${after.outcomeIndex})` : ""}`, after);
  return 0;
}

/** `ledger register-key --pending <id> --signer ADMIN.key…`: co-signs a passkey enrolled on /enroll. */
export async function cosignEnrollment(v: Record<string, any>, io: Out): Promise<number> {
  need(v, "signer");
  const base = server(v);
  const id = requestId(v.pending);
  const e = await call<EnrollmentJson>(base, "GET", `/v1/enrollments/${id}`);
  if (e.state !== "pending" || !e.record) throw new CliError(`enrolment ${id} is ${e.state}: ${e.state === "logged" ? `logged at index ${e.loggedIndex}` : "its passkey has not signed its registration yet"}`, 1);
  const record = e.record as { type: string; namespace: string; statement: Record<string, unknown> };
  if (record.type !== "key.register" || typeof record.namespace !== "string") throw new CliError(`enrolment ${id} does not hold a key.register record`, 1);
  // The bytes are recomputed from the record shown, not taken from the server.
  const message = recordSigningMessage(record as never);
  io.err(escapeTerminal(`ledger: co-signing ${record.namespace} key.register of ${e.keyId} (${JSON.stringify(record.statement)})`) + "\n");
  let last = e;
  for (const k of (v.signer as string[]).map(loadKey)) {
    last = await call<EnrollmentJson>(base, "POST", `/v1/enrollments/${id}/signatures`, { signature: { keyId: keyIdOf(k.publicKey), sig: encodeBase64(ed25519Sign(k.seed, message)) } });
    if (last.state === "logged") break;
  }
  report(io, v, last.state === "logged" ? `ok: key ${last.keyId} registered at index ${last.loggedIndex}` : `ok: signed; waiting for ${last.adminThreshold} admin signature(s) in all`, last);
  return 0;
}
