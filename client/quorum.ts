/**
 * Herd-style quorum: a checkpoint is trusted only when at least k of the
 * configured witnesses cosign it, or (with mirrors) k parties in all cosign
 * it or serve a checkpoint consistent with it.
 */
import type { SignedCheckpoint } from "./checkpoint.js";
import { PolicyError } from "./errors.js";
import type { NoteVerifier } from "./note.js";

export interface Quorum {
  /** Cosigner (type 0x04) verifiers of witnesses and mirrors. */
  witnesses: NoteVerifier[];
  /** How many distinct parties must vouch for a checkpoint. */
  k: number;
}

/** The cosigners of `cp` among the quorum's witnesses (their signatures already verified). */
export function cosignersOf(cp: SignedCheckpoint, q: Quorum): Set<string> {
  const got = new Set<string>();
  for (const s of cp.note.sigs) {
    if (q.witnesses.some((w) => w.name === s.name && w.keyId === s.keyId)) got.add(`${s.name}+${s.keyId}`);
  }
  return got;
}

export function requireCosignatures(cp: SignedCheckpoint, q: Quorum, alsoVouching = 0): void {
  const n = cosignersOf(cp, q).size + alsoVouching;
  if (n < q.k) throw new PolicyError("quorum", `checkpoint ${cp.treeSize} is vouched for by ${n} of the ${q.k} parties the quorum needs`);
}
