/** Proofs answered from stored nodes: O(log n) node reads, no tree recomputation. */
import { consistencyProofRanges, hashRanges, inclusionProofRanges, nodeKey } from "../../client/merkle-tree.js";
import type { StoreReader } from "../store/store.js";

type Nodes = Pick<StoreReader, "readNodes">;

export function inclusionProof(store: Nodes, index: bigint, treeSize: bigint): Promise<Uint8Array[]> {
  return hashRanges(inclusionProofRanges(index, treeSize), (ids) => store.readNodes(ids));
}

export function consistencyProof(store: Nodes, size1: bigint, size2: bigint): Promise<Uint8Array[]> {
  if (size1 === size2) return Promise.resolve([]);
  return hashRanges(consistencyProofRanges(size1, size2), (ids) => store.readNodes(ids));
}

/** The inclusion proof and the leaf hash, read in one query. */
export async function inclusionProofAndLeaf(store: Nodes, index: bigint, treeSize: bigint): Promise<{ proof: Uint8Array[]; leafHash: Uint8Array }> {
  const leaf = { level: 0, index };
  let leafHash: Uint8Array | undefined;
  const proof = await hashRanges(inclusionProofRanges(index, treeSize), async (ids) => {
    const got = await store.readNodes([...ids, leaf]);
    leafHash = got.get(nodeKey(leaf));
    return got;
  });
  leafHash ??= (await store.readNodes([leaf])).get(nodeKey(leaf))!; // size-1 trees need no other node
  return { proof, leafHash };
}
