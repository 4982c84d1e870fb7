/**
 * Equivocation evidence: two checkpoints validly signed by the log that no
 * honest log could have both signed. Verifiable by anyone with the log key.
 *
 * - Same size, different roots: the two notes suffice.
 * - Sizes m < n: `proof` is a consistency proof from m to n that verifies
 *   against note2's root starting from `root1`, the root of the first m
 *   leaves of note2's tree — which differs from note1's root. So note2's tree
 *   does not extend note1's.
 */
import { bytesEqual, encodeBase64, parseBase64 } from "./bytes.js";
import { openCheckpoint } from "./checkpoint.js";
import { FormatError, LedgerError } from "./errors.js";
import { verifyConsistency } from "./merkle-verify.js";
import type { NoteVerifier } from "./note.js";

export interface EquivocationEvidence {
  note1: string;
  note2: string;
  /** base64 hashes of the consistency proof from size1 to size2 (empty for equal sizes). */
  proof: string[];
  /** base64 root of note2's tree at note1's size (absent for equal sizes). */
  root1?: string;
}

/** Throws unless the evidence proves that the log signed two inconsistent checkpoints. */
export function verifyEquivocation(e: EquivocationEvidence, origin: string, logVerifier: NoteVerifier): void {
  let a = openCheckpoint(e.note1, { origin, logVerifier });
  let b = openCheckpoint(e.note2, { origin, logVerifier });
  if (a.treeSize > b.treeSize) [a, b] = [b, a];
  if (a.treeSize === b.treeSize) {
    if (bytesEqual(a.rootHash, b.rootHash)) throw new FormatError("bad_checkpoint", "same size and same root: no equivocation");
    return;
  }
  if (a.treeSize === 0n) throw new FormatError("bad_checkpoint", "every tree extends the empty tree");
  if (!e.root1) throw new FormatError("bad_checkpoint", "evidence needs the root of the larger tree at the smaller size");
  const alt = parseBase64(e.root1);
  verifyConsistency(a.treeSize, b.treeSize, e.proof.map(parseBase64), alt, b.rootHash);
  if (bytesEqual(alt, a.rootHash)) throw new FormatError("bad_checkpoint", "the trees are consistent: no equivocation");
}

/** True when verifyEquivocation accepts the evidence. */
export function isEquivocation(e: EquivocationEvidence, origin: string, logVerifier: NoteVerifier): boolean {
  try {
    verifyEquivocation(e, origin, logVerifier);
    return true;
  } catch (err) {
    if (err instanceof LedgerError) return false;
    throw err;
  }
}

export function evidenceOf(note1: string, note2: string, proof: Uint8Array[], root1?: Uint8Array): EquivocationEvidence {
  return { note1, note2, proof: proof.map(encodeBase64), ...(root1 ? { root1: encodeBase64(root1) } : {}) };
}
