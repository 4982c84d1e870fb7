/**
 * C2SP tlog-proof: an entry's index, inclusion proof and checkpoint in one
 * text document, verifiable offline (no network round trip).
 */
import { encodeBase64, parseBase64, parseDecimal } from "./bytes.js";
import { openCheckpoint, type SignedCheckpoint } from "./checkpoint.js";
import { FormatError } from "./errors.js";
import { verifyInclusion } from "./merkle-verify.js";
import type { NoteVerifier } from "./note.js";
import { requirePolicy, type TlogPolicy } from "./policy.js";
import { requireCosignatures, type Quorum } from "./quorum.js";

const HEADER = "c2sp.org/tlog-proof@v1";

export interface TlogProof {
  index: bigint;
  proof: Uint8Array[];
  checkpoint: string;
  extra?: Uint8Array;
}

export function formatTlogProof(p: TlogProof): string {
  const extra = p.extra ? `extra ${encodeBase64(p.extra)}\n` : "";
  return `${HEADER}\n${extra}index ${p.index}\n${p.proof.map((h) => encodeBase64(h) + "\n").join("")}\n${p.checkpoint}`;
}

/** untrusted: parses a tlog-proof document. */
export function parseTlogProof(text: string): TlogProof {
  const split = text.indexOf("\n\n");
  if (split < 0) throw new FormatError("bad_note", "tlog-proof has no checkpoint");
  const lines = text.slice(0, split).split("\n");
  if (lines[0] !== HEADER) throw new FormatError("bad_note", `tlog-proof must start with ${HEADER}`);
  let i = 1;
  let extra: Uint8Array | undefined;
  if (lines[i]?.startsWith("extra ")) extra = parseBase64(lines[i++]!.slice(6));
  const m = /^index (\S+)$/.exec(lines[i++] ?? "");
  if (!m) throw new FormatError("bad_note", "tlog-proof needs an index line");
  const index = parseDecimal(m[1]!, "index");
  const proof = lines.slice(i).map((l) => {
    const h = parseBase64(l);
    if (h.length !== 32) throw new FormatError("bad_note", "tlog-proof hashes must be 32 bytes");
    return h;
  });
  if (proof.length > 63) throw new FormatError("bad_note", "tlog-proof has more than 63 hashes");
  return { index, proof, checkpoint: text.slice(split + 2), ...(extra ? { extra } : {}) };
}

export interface OfflineTrust {
  origin: string;
  logVerifier: NoteVerifier;
  quorum?: Quorum;
  /** A C2SP tlog-policy whose quorum the checkpoint's cosignatures must meet. */
  policy?: TlogPolicy;
}

/**
 * untrusted: verifies a tlog-proof for the leaf with `leafHash`: the log's
 * signature, the cosigner quorum if one is configured, then inclusion.
 */
export function verifyTlogProof(text: string, leafHash: Uint8Array, trust: OfflineTrust): { index: bigint; checkpoint: SignedCheckpoint } {
  const p = parseTlogProof(text);
  const cp = openCheckpoint(p.checkpoint, { origin: trust.origin, logVerifier: trust.logVerifier, cosigners: [...(trust.quorum?.witnesses ?? []), ...(trust.policy?.witnesses.map((w) => w.verifier) ?? [])] });
  if (trust.quorum) requireCosignatures(cp, trust.quorum);
  if (trust.policy) requirePolicy(cp, trust.policy);
  verifyInclusion(p.index, cp.treeSize, leafHash, p.proof, cp.rootHash);
  return { index: p.index, checkpoint: cp };
}
