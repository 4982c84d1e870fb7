/**
 * Inclusion and consistency proof verification: a faithful port of
 * transparency-dev/merkle proof/verify.go (RFC 6962 / RFC 9162), keeping its
 * helper names. Indices and sizes are bigint (uint64).
 */
import { bytesEqual } from "./bytes.js";
import { ProofError, RootMismatchError } from "./errors.js";
import { HASH_SIZE, hashChildren, sha256 } from "./hash.js";

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Checks that `leafHash` at `index` is included in the tree of `size` with `root`. */
export function verifyInclusion(
  index: bigint,
  size: bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const calculated = rootFromInclusionProof(index, size, leafHash, proof);
  verifyMatch(calculated, root);
}

/** Computes the root implied by an inclusion proof, checking its shape. */
export function rootFromInclusionProof(
  index: bigint,
  size: bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkU64(index, "index");
  checkU64(size, "size");
  if (index >= size) throw new ProofError("index_out_of_range", `index ${index} out of bounds for tree size ${size}`);
  if (leafHash.length !== HASH_SIZE) {
    throw new ProofError("bad_hash_size", `leaf hash has size ${leafHash.length}, want ${HASH_SIZE}`);
  }
  const [inner, border] = decompInclProof(index, size);
  if (proof.length !== inner + border) {
    throw new ProofError("wrong_proof_size", `wrong proof size ${proof.length}, want ${inner + border}`);
  }
  checkHashes(proof);
  const res = chainInner(leafHash, proof.slice(0, inner), index);
  return chainBorderRight(res, proof.slice(inner));
}

/** Checks that the tree (size2, root2) is an append-only extension of (size1, root1). */
export function verifyConsistency(
  size1: bigint,
  size2: bigint,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkU64(size1, "size1");
  checkU64(size2, "size2");
  if (size2 < size1) throw new ProofError("size_out_of_range", `size2 (${size2}) < size1 (${size1})`);
  // A consistency check from the empty tree proves nothing; the vectors
  // require refusing it even when size2 is 0 too.
  if (size1 === 0n) throw new ProofError("size_out_of_range", "consistency proof for size1=0 is meaningless");
  if (size1 === size2) {
    if (proof.length > 0) throw new ProofError("nonempty_proof", "size1=size2, but proof is not empty");
    verifyMatch(root1, root2);
    return;
  }
  if (proof.length === 0) throw new ProofError("empty_proof", "empty proof");
  checkHashes(proof);

  let [inner, border] = decompInclProof(size1 - 1n, size2);
  const shift = trailingZeros(size1);
  inner -= shift; // shift < inner when size1 < size2.

  // The proof includes the root hash of the subtree of size 2^shift,
  // unless size1 is that very 2^shift.
  let seed: Uint8Array;
  let start: number;
  if (size1 === 1n << BigInt(shift)) {
    seed = root1;
    start = 0;
  } else {
    seed = proof[0]!;
    start = 1;
  }
  if (proof.length !== start + inner + border) {
    throw new ProofError("wrong_proof_size", `wrong proof size ${proof.length}, want ${start + inner + border}`);
  }
  const rest = proof.slice(start);
  // rest is now a suffix of the inclusion proof of entry size1-1 in a tree of size2.
  const mask = (size1 - 1n) >> BigInt(shift); // start chaining from level `shift`.
  let hash1 = chainInnerRight(seed, rest.slice(0, inner), mask);
  hash1 = chainBorderRight(hash1, rest.slice(inner));
  verifyMatch(hash1, root1);

  let hash2 = chainInner(seed, rest.slice(0, inner), mask);
  hash2 = chainBorderRight(hash2, rest.slice(inner));
  verifyMatch(hash2, root2);
}

function verifyMatch(calculated: Uint8Array, expected: Uint8Array): void {
  if (!bytesEqual(calculated, expected)) throw new RootMismatchError(calculated, expected);
}

/** Splits an inclusion proof into its inner part and its border part. */
export function decompInclProof(index: bigint, size: bigint): [number, number] {
  const inner = innerProofSize(index, size);
  const border = onesCount(index >> BigInt(inner));
  return [inner, border];
}

export function innerProofSize(index: bigint, size: bigint): number {
  return bitLen(index ^ (size - 1n));
}

/** Hashes the seed with the inner proof, the index's bits choosing the side. */
export function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  proof.forEach((h, i) => {
    seed = ((index >> BigInt(i)) & 1n) === 0n ? hashChildren(seed, h) : hashChildren(h, seed);
  });
  return seed;
}

/** Like chainInner, but only hashes with the proof's left-hand siblings. */
export function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  proof.forEach((h, i) => {
    if (((index >> BigInt(i)) & 1n) === 1n) seed = hashChildren(h, seed);
  });
  return seed;
}

/** Hashes the seed with the border proof, which is always on the left. */
export function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  for (const h of proof) seed = hashChildren(h, seed);
  return seed;
}

export function bitLen(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

export function onesCount(x: bigint): number {
  let n = 0;
  for (const c of x.toString(2)) if (c === "1") n++;
  return n;
}

export function trailingZeros(x: bigint): number {
  if (x === 0n) return 64;
  let n = 0;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}

function checkU64(x: bigint, what: string): void {
  if (typeof x !== "bigint" || x < 0n || x > U64_MAX) {
    throw new ProofError("size_out_of_range", `${what} is not a uint64`);
  }
}

function checkHashes(proof: readonly Uint8Array[]): void {
  for (const h of proof) {
    if (h.length !== HASH_SIZE) throw new ProofError("bad_hash_size", `proof hash has size ${h.length}, want ${HASH_SIZE}`);
  }
}

/** Whether `[start, end)` is a subtree (draft-ietf-plants-merkle-tree-certs): start ≤ end and start a multiple of BIT_CEIL(end − start). */
export function isValidSubtree(start: bigint, end: bigint): boolean {
  if (start < 0n || start > end) return false;
  const size = end - start;
  let ceil = 1n;
  while (ceil < size) ceil <<= 1n;
  return start % ceil === 0n;
}

/**
 * untrusted: verifies a subtree consistency proof (draft-ietf-plants-merkle-tree-certs,
 * "Verifying a Subtree Consistency Proof"): the subtree `[start, end)` with hash
 * `nodeHash` is part of the tree of size `n` with root `rootHash`. This is
 * what C2SP tlog-mirror's entry packages and ML-DSA-44 subtree cosignatures
 * build on. Throws ProofError or RootMismatchError.
 */
export function verifySubtreeConsistency(start: bigint, end: bigint, n: bigint, proof: readonly Uint8Array[], nodeHash: Uint8Array, rootHash: Uint8Array): void {
  if (!isValidSubtree(start, end) || end > n) throw new ProofError("invalid_subtree", `[${start}, ${end}) is not a subtree of a tree of size ${n}`);
  // Proof hashes must be hashes; the two given hashes are only compared (a wrong size simply does not match).
  for (const h of proof) {
    if (h.length !== HASH_SIZE) throw new ProofError("bad_hash_size", `proof hash has size ${h.length}, want ${HASH_SIZE}`);
  }
  if (start === end) {
    if (proof.length > 0) throw new ProofError("nonempty_proof", "an empty subtree takes an empty proof");
    if (!bytesEqual(nodeHash, sha256(new Uint8Array(0)))) throw new RootMismatchError(nodeHash, sha256(new Uint8Array(0)));
    return;
  }
  let fn = start;
  let sn = end - 1n;
  let tn = n - 1n;
  if (sn === tn) {
    while (fn !== sn) [fn, sn, tn] = [fn >> 1n, sn >> 1n, tn >> 1n];
  } else {
    while (fn !== sn && (sn & 1n) === 1n) [fn, sn, tn] = [fn >> 1n, sn >> 1n, tn >> 1n];
  }
  let fr: Uint8Array;
  let sr: Uint8Array;
  let rest: readonly Uint8Array[];
  if (fn === sn) {
    fr = sr = nodeHash;
    rest = proof;
  } else {
    if (proof.length === 0) throw new ProofError("empty_proof", "empty proof");
    fr = sr = proof[0]!;
    rest = proof.slice(1);
  }
  for (const c of rest) {
    if (tn === 0n) throw new ProofError("wrong_proof_size", "the proof is longer than the path to the root");
    if ((sn & 1n) === 1n || sn === tn) {
      if (fn < sn) fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while ((sn & 1n) === 0n) [fn, sn, tn] = [fn >> 1n, sn >> 1n, tn >> 1n];
    } else {
      sr = hashChildren(sr, c);
    }
    [fn, sn, tn] = [fn >> 1n, sn >> 1n, tn >> 1n];
  }
  if (tn !== 0n) throw new ProofError("wrong_proof_size", "the proof is shorter than the path to the root");
  if (!bytesEqual(fr, nodeHash)) throw new RootMismatchError(fr, nodeHash);
  if (!bytesEqual(sr, rootHash)) throw new RootMismatchError(sr, rootHash);
}
