/** `ledger` commands for registries and their maintainers: they sign and write records. */
import { keyIdOf } from "../client/entry.js";
import { readFileSync } from "node:fs";
import { need, parse, RELEASE, server } from "../cli/args.js";
import { report, type Out } from "../cli/output.js";
import { artifactsFrom, approvalWith, CliError, loadKey, signRecordWith, submit } from "./cli-records.js";
import { approveRequest, cosignEnrollment } from "./cli-approvals.js";

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

export const WRITE_HELP: Record<string, string> = {
  "register-key": `Usage: ledger register-key --key NEW.key --role publish|approve|admin [--label L] [--signer ADMIN.key]… [--break-glass]
       ledger register-key --pending ENROLMENT-ID --signer ADMIN.key… --server URL

Registers the public key of NEW.key (signed by it: proof of possession). The first
admin key of a namespace needs no other signer; later keys need the namespace's
admin threshold of --signer admin keys, or core keys with --break-glass.
With --pending, co-signs a passkey enrolled on the ledger's /enroll page (the
approval service logs it once the admin threshold has signed; no token needed).
${WRITE_OPTIONS}`,
  "revoke-key": `Usage: ledger revoke-key --key-id ID --reason R --signer KEY.key… [--break-glass]

Revokes a key of the namespace (signed by the admin threshold, or by the key itself).
${WRITE_OPTIONS}`,
  "set-policy": `Usage: ledger set-policy --policy POLICY.json --signer ADMIN.key…

Sets the namespace's approval policy: {"adminThreshold": n, "groups": [{"name",
"members": [keyId…], "threshold": k, "excludeRequester": bool}]} (docs/records.md).
${WRITE_OPTIONS}`,
  "sign-release": `Usage: ledger sign-release --package P --version V --key PUBLISH.key [--requester KEYID] FILE… [--sha512] [--artifact name=sha256[:sha512]]…

Hashes each FILE (SHA-256, and SHA-512 too with --sha512: an npm tarball's
integrity), or takes --artifact name=sha256[:sha512], and logs a release.sign
record signed by a publish key.
${WRITE_OPTIONS}`,
  approve: `Usage: ledger approve --namespace NS --package P --version V --requester KEYID --key APPROVE.key FILE… [--sha512] [--artifact name=sha256[:sha512]]… [--reject]
       ledger approve --request ID|URL --key APPROVE.key --server URL [--reject]

Signs an approval of the release's exact artifacts with an approve key and prints
it (JSON) for the requester to collect; nothing is sent to the log. With --reject
it signs a rejection instead ("ledger-rejection/v1"): one member of any group
rejecting ends the release for good (submit it with --decision rejected).
With --request, signs the open approval request's release (shown first) and sends
the decision to the approval service, which logs the outcome once every group is
met (docs/approvals.md). Passkeys approve in the browser, on /approve/<id>.`,
  "submit-outcome": `Usage: ledger submit-outcome --package P --version V --requester KEYID --approval FILE… --decision approved|rejected --key PUBLISH.key FILE… [--sha512]

Logs the approval outcome: the collected approvals (files printed by 'ledger approve';
for --decision rejected, rejections printed by 'ledger approve --reject') and the
decision, the envelope signed by a publish key. One decision per release.
${WRITE_OPTIONS}`,
};

export const WRITE_COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = {
  async "register-key"(args, io) {
    const { v } = parse(args, { key: { type: "string" }, role: { type: "string" }, label: { type: "string" }, signer: { type: "string", multiple: true }, "break-glass": { type: "boolean" }, pending: { type: "string" } });
    if (v.help) return io.out(WRITE_HELP["register-key"] + "\n"), 0;
    if (v.pending !== undefined) return cosignEnrollment(v, io);
    need(v, "namespace", "key", "role");
    const key = loadKey(v.key);
    const statement = { publicKey: Buffer.from(key.publicKey).toString("base64"), role: v.role, ...(v.label ? { label: v.label } : {}), ...(v["break-glass"] ? { breakGlass: true } : {}) };
    const signers = [key, ...(v.signer ?? []).map(loadKey)];
    return write(io, v, signRecordWith({ type: "key.register", namespace: v.namespace, statement }, signers), `key ${keyIdOf(key.publicKey)} registered`);
  },

  async "revoke-key"(args, io) {
    const { v } = parse(args, { "key-id": { type: "string" }, reason: { type: "string" }, signer: { type: "string", multiple: true }, "break-glass": { type: "boolean" } });
    if (v.help) return io.out(WRITE_HELP["revoke-key"] + "\n"), 0;
    need(v, "namespace", "key-id", "reason", "signer");
    const statement = { keyId: v["key-id"], reason: v.reason, ...(v["break-glass"] ? { breakGlass: true } : {}) };
    return write(io, v, signRecordWith({ type: "key.revoke", namespace: v.namespace, statement }, v.signer.map(loadKey)), `key ${v["key-id"]} revoked`);
  },

  async "set-policy"(args, io) {
    const { v } = parse(args, { policy: { type: "string" }, signer: { type: "string", multiple: true } });
    if (v.help) return io.out(WRITE_HELP["set-policy"] + "\n"), 0;
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
    if (v.help) return io.out(WRITE_HELP["sign-release"] + "\n"), 0;
    need(v, "namespace", "package", "version", "key");
    const statement = { package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact, v.sha512 === true), ...(v.requester ? { requester: v.requester } : {}) };
    return write(io, v, signRecordWith({ type: "release.sign", namespace: v.namespace, statement }, [loadKey(v.key)]), `${v.package}@${v.version} signed`);
  },

  async approve(args, io) {
    const { v, files } = parse(args, { ...RELEASE, key: { type: "string" }, requester: { type: "string" }, reject: { type: "boolean" }, request: { type: "string" } });
    if (v.help) return io.out(WRITE_HELP.approve + "\n"), 0;
    if (v.request !== undefined) return approveRequest(v, io);
    need(v, "namespace", "package", "version", "key", "requester");
    const a = approvalWith(loadKey(v.key), { namespace: v.namespace, package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact, v.sha512 === true), requester: v.requester }, v.reject === true);
    io.out(JSON.stringify(a) + "\n");
    return 0;
  },

  async "submit-outcome"(args, io) {
    const { v, files } = parse(args, { ...RELEASE, key: { type: "string" }, requester: { type: "string" }, approval: { type: "string", multiple: true }, decision: { type: "string" } });
    if (v.help) return io.out(WRITE_HELP["submit-outcome"] + "\n"), 0;
    need(v, "namespace", "package", "version", "key", "requester", "decision");
    const approvals = (v.approval ?? []).map((f: string) => {
      try {
        return JSON.parse(readFileSync(f, "utf8"));
      } catch {
        throw new CliError(`cannot read approval ${f}`, 2);
      }
    });
    const statement = { package: v.package, version: v.version, artifacts: artifactsFrom(files, v.artifact, v.sha512 === true), requester: v.requester, approvals, decision: v.decision };
    return write(io, v, signRecordWith({ type: "approval.outcome", namespace: v.namespace, statement }, [loadKey(v.key)]), `outcome ${v.decision}`);
  },
};
