/** Proofs answered from stored nodes: O(log n) node reads, no tree recomputation. */
import { consistencyProofRanges, hashRanges, inclusionProofRanges, nodeKey } from "../../client/merkle-tree.js";
import type { StoreReader } from "../store/store.js";

/** Where nodes come from; `ranges`, when given, keeps the hashes of folded ranges (see NodeCache). */
type Nodes = Pick<StoreReader, "readNodes"> & { ranges?: Map<string, Uint8Array> };

const MAX_RANGES = 4096;

/** A range [a, b) that is one perfect subtree needs no folding, so it is not worth keeping. */
function isPerfect(a: bigint, b: bigint): boolean {
  const n = b - a;
  return (n & (n - 1n)) === 0n && a % n === 0n;
}

async function hashRangesVia(nodes: Nodes, ranges: Array<[bigint, bigint]>): Promise<Uint8Array[]> {
  const cache = nodes.ranges;
  if (!cache) return hashRanges(ranges, (ids) => nodes.readNodes(ids));
  const out: Uint8Array[] = new Array(ranges.length);
  const missing: number[] = [];
  ranges.forEach(([a, b], i) => {
    const h = isPerfect(a, b) ? undefined : cache.get(`${a}:${b}`);
    if (h) out[i] = h;
    else missing.push(i);
  });
  if (missing.length > 0) {
    const hashes = await hashRanges(
      missing.map((i) => ranges[i]!),
      (ids) => nodes.readNodes(ids),
    );
    missing.forEach((i, j) => {
      out[i] = hashes[j]!;
      const [a, b] = ranges[i]!;
      if (!isPerfect(a, b)) {
        if (cache.size >= MAX_RANGES) cache.clear();
        cache.set(`${a}:${b}`, hashes[j]!);
      }
    });
  }
  return out;
}

export function inclusionProof(store: Nodes, index: bigint, treeSize: bigint): Promise<Uint8Array[]> {
  return hashRangesVia(store, inclusionProofRanges(index, treeSize));
}

export function consistencyProof(store: Nodes, size1: bigint, size2: bigint): Promise<Uint8Array[]> {
  if (size1 === size2) return Promise.resolve([]);
  return hashRangesVia(store, consistencyProofRanges(size1, size2));
}

/** The inclusion proof and the leaf hash, read in one query. */
export async function inclusionProofAndLeaf(store: Nodes, index: bigint, treeSize: bigint): Promise<{ proof: Uint8Array[]; leafHash: Uint8Array }> {
  const leaf = { level: 0, index };
  let leafHash: Uint8Array | undefined;
  const proof = await hashRangesVia(
    {
      ranges: store.ranges,
      readNodes: async (ids) => {
        const got = await store.readNodes([...ids, leaf]);
        leafHash = got.get(nodeKey(leaf));
        return got;
      },
    },
    inclusionProofRanges(index, treeSize),
  );
  leafHash ??= (await store.readNodes([leaf])).get(nodeKey(leaf))!; // size-1 trees need no other node
  return { proof, leafHash };
}
