/** Proofs answered from stored nodes: O(log n) node reads, no tree recomputation. */
import { consistencyProofRanges, hashRanges, inclusionProofRanges } from "../../client/merkle-tree.js";
import type { StoreReader } from "../store/store.js";

export function inclusionProof(store: StoreReader, index: bigint, treeSize: bigint): Promise<Uint8Array[]> {
  return hashRanges(inclusionProofRanges(index, treeSize), (ids) => store.readNodes(ids));
}

export function consistencyProof(store: StoreReader, size1: bigint, size2: bigint): Promise<Uint8Array[]> {
  if (size1 === size2) return Promise.resolve([]);
  return hashRanges(consistencyProofRanges(size1, size2), (ids) => store.readNodes(ids));
}
