/**
 * C2SP tlog-witness's checks of an add-checkpoint request, shared by a pull
 * mirror (against its latest cosigned checkpoint) and a push mirror (against
 * its pending one): the origin, signature and `old ≤ size` were checked
 * before; these are the compare-and-set and the proof, in the spec's order.
 */
import { bytesEqual } from "../../client/bytes.js";
import { LedgerError } from "../../client/errors.js";
import { EMPTY_ROOT } from "../../client/hash.js";
import { verifyConsistency } from "../../client/merkle-verify.js";

export interface Refusal {
  status: 409 | 422;
  body: string;
  type?: string;
  /** A checkpoint of the held size with another root: both are signed by the log. */
  sameSizeOtherRoot?: true;
}

/** A refusal, or undefined when the checkpoint of `size` and `root` extends what is held (size 0 when nothing is). */
export function refuseAddCheckpoint(old: bigint, proof: Uint8Array[], size: bigint, root: Uint8Array, held: { treeSize: bigint; rootHash: Uint8Array } | undefined): Refusal | undefined {
  const have = held?.treeSize ?? 0n;
  if (old !== have) return { status: 409, body: `${have}\n`, type: "text/x.tlog.size" };
  if (size === 0n && !bytesEqual(root, EMPTY_ROOT)) return { status: 422, body: "size 0 with a non-empty root\n" };
  if (old === 0n && proof.length > 0) return { status: 422, body: "old size 0 takes an empty proof\n" };
  if (old === size) return held && !bytesEqual(root, held.rootHash) ? { status: 422, body: "same size, different root\n", sameSizeOtherRoot: true } : undefined;
  if (old > 0n) {
    try {
      verifyConsistency(old, size, proof, held!.rootHash, root);
    } catch (e) {
      if (e instanceof LedgerError) return { status: 422, body: "consistency proof does not verify\n" };
      throw e;
    }
  }
  return undefined;
}

/** The signature lines of `name` in a note, each ending in a newline: a witness's answer. */
export function signatureLinesBy(note: string, name: string): string {
  return note
    .split("\n")
    .filter((l) => l.startsWith(`\u2014 ${name} `))
    .map((l) => l + "\n")
    .join("");
}
