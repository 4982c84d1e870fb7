/** `ledger` commands a registry and its maintainers run to write records. */
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { parseSignerKey, type SignerKey } from "../client/note.js";
import { approvalSigningMessage, rejectionSigningMessage, type Artifact } from "../client/replay.js";
import { readKeyFile } from "./log/signer.js";
import { CliError } from "../cli/errors.js";

export { artifactsFrom } from "../cli/artifacts.js";
export { CliError };

export function loadKey(path: string): SignerKey {
  return parseSignerKey(readKeyFile(path));
}

export function signRecordWith(r: { type: string; namespace: string; statement: Record<string, unknown> }, keys: SignerKey[]) {
  const msg = recordSigningMessage(r as never);
  return { ...r, signatures: keys.map((k) => ({ keyId: keyIdOf(k.publicKey), sig: encodeBase64(ed25519Sign(k.seed, msg)) })) };
}

/** An approval (or, with `reject`, a rejection) of the request, signed with an Ed25519 approve key. */
export function approvalWith(k: SignerKey, a: { namespace: string; package: string; version: string; artifacts: Artifact[]; requester: string }, reject = false) {
  const message = reject ? rejectionSigningMessage(a) : approvalSigningMessage(a);
  return { keyId: keyIdOf(k.publicKey), sig: encodeBase64(ed25519Sign(k.seed, message)) };
}

/** POSTs a record with the writer token; returns the server's answer or throws CliError with its code. */
export async function submit(server: string, token: string | undefined, record: unknown, fetchFn: typeof fetch = fetch): Promise<Record<string, unknown>> {
  if (!token) throw new CliError("a writer token is required: --token or LEDGER_TOKEN", 2);
  let res: Response;
  try {
    res = await fetchFn(`${server.replace(/\/$/, "")}/v1/records?wait=checkpoint`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(record),
    });
  } catch (e) {
    throw new CliError(`cannot reach ${server}: ${(e as Error).message}`, 3);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, any>;
  if (res.status >= 400) throw new CliError(`refused (${res.status} ${body.error?.code ?? "error"}): ${body.error?.message ?? ""}`, 1);
  return body;
}
