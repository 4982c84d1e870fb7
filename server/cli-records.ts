/** `ledger` commands a registry and its maintainers run to write records. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { parseSignerKey, type SignerKey } from "../client/note.js";
import { approvalSigningMessage, type Artifact } from "../client/replay.js";
import { readKeyFile } from "./log/signer.js";

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function loadKey(path: string): SignerKey {
  return parseSignerKey(readKeyFile(path));
}

/** Artifacts from files (name = file name, sha256 of the content) and `name=sha256` pairs. */
export function artifactsFrom(files: string[], pairs: string[] = []): Artifact[] {
  const out: Artifact[] = files.map((f) => {
    let data: Buffer;
    try {
      data = readFileSync(f);
    } catch {
      throw new CliError(`cannot read artifact ${f}`, 2);
    }
    return { name: basename(f), sha256: createHash("sha256").update(data).digest("hex") };
  });
  for (const p of pairs) {
    const m = /^([\x21-\x7e]+)=([0-9a-f]{64})$/.exec(p);
    if (!m) throw new CliError(`--artifact must be <name>=<64 hex sha256>, got ${JSON.stringify(p)}`, 2);
    out.push({ name: m[1]!, sha256: m[2]! });
  }
  if (out.length === 0) throw new CliError("give the artifact files (or --artifact name=sha256)", 2);
  return out;
}

export function signRecordWith(r: { type: string; namespace: string; statement: Record<string, unknown> }, keys: SignerKey[]) {
  const msg = recordSigningMessage(r as never);
  return { ...r, signatures: keys.map((k) => ({ keyId: keyIdOf(k.publicKey), sig: encodeBase64(ed25519Sign(k.seed, msg)) })) };
}

export function approvalWith(k: SignerKey, a: { namespace: string; package: string; version: string; artifacts: Artifact[]; requester: string }) {
  return { keyId: keyIdOf(k.publicKey), sig: encodeBase64(ed25519Sign(k.seed, approvalSigningMessage(a))) };
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
