/**
 * Building RFC 6962 trees and proofs from perfect-subtree nodes.
 *
 * A node `(level, index)` is the root of the perfect subtree of height `level`
 * covering leaves [index·2^level, (index+1)·2^level). Once complete it never
 * changes, so a log can store each node once and answer proofs for every tree
 * size from them (or from C2SP tiles, which hold the same nodes).
 */
import { EMPTY_ROOT, hashChildren } from "./hash.js";
import { ProofError } from "./errors.js";

export interface NodeId {
  level: number;
  index: bigint;
}

export function nodeKey(id: NodeId): string {
  return `${id.level}/${id.index}`;
}

/** Largest power of two strictly less than n (n > 1). */
export function splitPoint(n: bigint): bigint {
  let k = 1n;
  while (k << 1n < n) k <<= 1n;
  return k;
}

/**
 * The perfect subtrees, left to right, whose hashes make up MTH(D[a:b]).
 * `a` must be aligned as in every RFC 6962 subtree (a multiple of the
 * largest power of two ≤ b-a, as produced by the PATH/PROOF recursions).
 */
export function rangeNodes(a: bigint, b: bigint): NodeId[] {
  const out: NodeId[] = [];
  while (a < b) {
    // Largest power of two ≤ b-a that `a` is aligned to.
    let level = 0;
    while (a % (1n << BigInt(level + 1)) === 0n && (1n << BigInt(level + 1)) <= b - a) level++;
    out.push({ level, index: a >> BigInt(level) });
    a += 1n << BigInt(level);
  }
  return out;
}

/** Folds the nodes of rangeNodes(a, b) into MTH(D[a:b]). */
export function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i]!, acc);
  return acc;
}

/** The ranges [a, b) whose MTHs form PATH(index, D[size]), leaf sibling first (RFC 6962 §2.1.1). */
export function inclusionProofRanges(index: bigint, size: bigint): Array<[bigint, bigint]> {
  if (index < 0n || index >= size) {
    throw new ProofError("index_out_of_range", `index ${index} out of bounds for tree size ${size}`);
  }
  const out: Array<[bigint, bigint]> = [];
  let lo = 0n;
  let hi = size;
  let m = index;
  // Walk from the root down; the path is read leaf-first, so collect then reverse.
  while (hi - lo > 1n) {
    const k = splitPoint(hi - lo);
    if (m < k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo = lo + k;
      m -= k;
    }
  }
  return out.reverse();
}

/** The ranges whose MTHs form PROOF(size1, D[size2]) (RFC 6962 §2.1.2), for 0 < size1 ≤ size2. */
export function consistencyProofRanges(size1: bigint, size2: bigint): Array<[bigint, bigint]> {
  if (size1 <= 0n || size1 > size2) {
    throw new ProofError("size_out_of_range", `no consistency proof from size ${size1} to size ${size2}`);
  }
  const out: Array<[bigint, bigint]> = [];
  let lo = 0n;
  let hi = size2;
  let m = size1;
  let complete = true; // the "b" flag of SUBPROOF
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo = lo + k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) out.push([lo, hi]);
  return out.reverse();
}

/**
 * The ranges whose MTHs form SUBTREE_PROOF(start, end, D[n])
 * (draft-ietf-plants-merkle-tree-certs, "Generating a Subtree Consistency
 * Proof"), in proof order: the subtree `[start, end)` is part of the tree of
 * size n. For start = 0 it is RFC 6962's PROOF(end, D[n]). C2SP tlog-mirror's
 * entry packages carry these.
 */
export function subtreeConsistencyProofRanges(start: bigint, end: bigint, n: bigint): Array<[bigint, bigint]> {
  let ceil = 1n;
  while (ceil < end - start) ceil <<= 1n;
  if (start < 0n || start >= end || start % ceil !== 0n || end > n) {
    throw new ProofError("invalid_subtree", `[${start}, ${end}) is not a non-empty subtree of a tree of size ${n}`);
  }
  const out: Array<[bigint, bigint]> = [];
  let lo = 0n;
  let hi = n;
  let known = true; // the "b" flag: the verifier holds MTH(D[start:end]) itself
  while (!(start === lo && end === hi)) {
    const k = splitPoint(hi - lo);
    if (end <= lo + k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else if (start >= lo + k) {
      out.push([lo, lo + k]);
      lo = lo + k;
    } else {
      // A valid subtree straddling the split starts at lo: as RFC 6962's PROOF(end - lo, …).
      out.push([lo, lo + k]);
      lo = lo + k;
      start = lo;
      known = false;
    }
  }
  if (!known) out.push([lo, hi]);
  return out.reverse();
}

export type NodeReader = (ids: NodeId[]) => Promise<Map<string, Uint8Array>>;

/** Computes the hashes of the given ranges, reading every needed node in one call. */
export async function hashRanges(ranges: Array<[bigint, bigint]>, readNodes: NodeReader): Promise<Uint8Array[]> {
  const plans = ranges.map(([a, b]) => rangeNodes(a, b));
  const wanted = new Map<string, NodeId>();
  for (const plan of plans) for (const id of plan) wanted.set(nodeKey(id), id);
  const got = await readNodes([...wanted.values()]);
  return plans.map((plan) =>
    foldRange(
      plan.map((id) => {
        const h = got.get(nodeKey(id));
        if (!h) throw new Error(`missing tree node ${nodeKey(id)}`);
        return h;
      }),
    ),
  );
}

/**
 * The right border of a tree: the roots of its perfect subtrees, largest
 * first (transparency-dev/merkle compact.Range). Appending is O(log n) and
 * reports every node that becomes complete.
 */
export class CompactRange {
  #size: bigint;
  #hashes: Uint8Array[];

  /** `hashes` are the nodes of rangeNodes(0, size), left to right. */
  constructor(size: bigint, hashes: Uint8Array[]) {
    if (rangeNodes(0n, size).length !== hashes.length) throw new Error(`compact range of size ${size} needs ${rangeNodes(0n, size).length} hashes`);
    this.#size = size;
    this.#hashes = [...hashes];
  }

  get size(): bigint {
    return this.#size;
  }

  get hashes(): readonly Uint8Array[] {
    return this.#hashes;
  }

  /** Appends a leaf hash; `emit` receives every completed node, the leaf (level 0) first. */
  append(leafHash: Uint8Array, emit?: (id: NodeId, hash: Uint8Array) => void): void {
    let index = this.#size;
    let hash = leafHash;
    emit?.({ level: 0, index }, hash);
    let level = 0;
    // Merge with left neighbours while the index is odd at this level.
    while ((index & 1n) === 1n) {
      const left = this.#hashes.pop()!;
      hash = hashChildren(left, hash);
      index >>= 1n;
      level++;
      emit?.({ level, index }, hash);
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  root(): Uint8Array {
    return foldRange(this.#hashes);
  }
}

/** MTH of a full list of leaf hashes (RFC 9162 §2.1.2 stack algorithm). */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  const range = new CompactRange(0n, []);
  for (const h of leafHashes) range.append(h);
  return range.root();
}
