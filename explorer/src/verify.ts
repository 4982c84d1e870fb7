/**
 * What the explorer and the approval pages share: the API, and verification
 * in the browser (the checkpoint under the log key, inclusion proofs).
 */
import { parsePolicy, type TlogPolicy } from "../../client/policy.js";
import { encodeBase64, parseBase64 } from "../../client/bytes.js";
import { openCheckpoint, type SignedCheckpoint } from "../../client/checkpoint.js";
import { LedgerError } from "../../client/errors.js";
import { hashLeaf } from "../../client/hash.js";
import { verifyInclusion } from "../../client/merkle-verify.js";
import { createVerifier, type NoteVerifier } from "../../client/note.js";
import type { InclusionProofJson, LogInfo } from "../../schema/api.js";
import { h } from "./dom.js";

export const PIN_KEY = "ledger.pinnedLogKey";

// ---- the API ---------------------------------------------------------------

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON request to this ledger; an error answer becomes ApiFailure with its code. */
export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new ApiFailure(res.status, json?.error?.code ?? "http_error", json?.error?.message ?? `${path} answered ${res.status}`);
  return json as T;
}

export function api<T>(path: string): Promise<T> {
  return send<T>("GET", path);
}


export const enc = encodeURIComponent;

// ---- verification in the browser ---------------------------------------------

export interface Trust {
  info: LogInfo;
  logVerifier: NoteVerifier;
  cosigners: NoteVerifier[];
  /** The log's witness policy (C2SP tlog-policy), when it was given one; null when its text does not parse. */
  policy?: TlogPolicy | null;
  /** The key checked against: pinned by the user, or the one this log serves. */
  pinned: boolean;
}

export async function trust(): Promise<Trust> {
  const info = await api<LogInfo>("/v1/log");
  const pinnedKey = localStorage.getItem(PIN_KEY);
  const vkey = pinnedKey ?? info.verifierKey;
  let policy: TlogPolicy | null | undefined;
  if (info.witnesses?.policy !== undefined) {
    try {
      policy = parsePolicy(info.witnesses.policy);
    } catch {
      policy = null;
    }
  }
  const cosigners = policy ? policy.witnesses.map((w) => w.verifier) : (info.witnesses?.vkeys ?? []).map((v) => createVerifier(v));
  return { info, logVerifier: createVerifier(vkey), cosigners, ...(policy !== undefined ? { policy } : {}), pinned: pinnedKey !== null };
}

export async function verifiedCheckpoint(t: Trust): Promise<SignedCheckpoint> {
  const res = await fetch("/checkpoint");
  if (!res.ok) throw new ApiFailure(res.status, "no_checkpoint", "the log serves no checkpoint");
  return openCheckpoint(await res.text(), { origin: t.info.origin, logVerifier: t.logVerifier, cosigners: t.cosigners });
}

/** Verifies, here, that these entry bytes are leaf `index` of the latest signed checkpoint. */
export async function verifyEntryInclusion(index: bigint, entryBytes: Uint8Array): Promise<HTMLElement> {
  const box = h("div", { class: "verify pending", "data-verify": "pending" }, "Verifying the inclusion proof in this browser…");
  (async () => {
    try {
      const t = await trust();
      const cp = await verifiedCheckpoint(t);
      if (index >= cp.treeSize) throw new Error(`entry ${index} is not yet covered by the signed checkpoint (size ${cp.treeSize})`);
      const p = await api<InclusionProofJson>(`/v1/proofs/inclusion?index=${index}&treeSize=${cp.treeSize}`);
      const leaf = hashLeaf(entryBytes);
      if (encodeBase64(leaf) !== p.leafHash) throw new Error("the server's leaf hash is not the hash of the entry it served");
      verifyInclusion(index, cp.treeSize, leaf, p.proof.map(parseBase64), cp.rootHash);
      box.className = "verify ok";
      box.dataset.verify = "ok";
      box.replaceChildren(
        h("strong", {}, "✓ Inclusion verified in this browser. "),
        `Entry ${index} is leaf ${index} of the tree of size ${cp.treeSize} with root ${encodeBase64(cp.rootHash)}, signed by ${cp.note.sigs.map((s) => s.name).join(", ")}`,
        t.pinned ? " (your pinned log key)." : " (the log key this server names; pin it on the home page to detect a key change).",
        h("div", { class: "muted" }, `Proof: ${p.proof.length} hashes.`),
      );
    } catch (e) {
      box.className = "verify fail";
      box.dataset.verify = "fail";
      const code = e instanceof LedgerError || e instanceof ApiFailure ? ` [${e.code}]` : "";
      box.replaceChildren(h("strong", {}, "✗ Verification failed. "), `${(e as Error).message}${code}`);
    }
  })();
  return box;
}

