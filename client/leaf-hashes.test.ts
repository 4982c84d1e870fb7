import { describe, expect, it } from "vitest";
import { sha256 } from "./hash.js";
import { LeafHashes } from "./leaf-hashes.js";
import { CompactRange, consistencyProofRanges, hashRanges, rootFromLeafHashes } from "./merkle-tree.js";
import { verifyConsistency } from "./merkle-verify.js";

describe("LeafHashes", () => {
  const leaves = Array.from({ length: 1100 }, (_, i) => sha256(new Uint8Array([i & 255, i >> 8])));
  const held = new LeafHashes();
  const tree = new CompactRange(0n, []);
  for (const h of leaves) tree.append(h, held.onNode);

  it("gives the root at every smaller size and proofs that verify, from kept nodes and folded leaves", async () => {
    expect(held.size).toBe(1100n);
    for (const m of [1, 7, 255, 256, 257, 511, 512, 700, 1024, 1099, 1100]) {
      const [root] = await hashRanges([[0n, BigInt(m)]], held.reader());
      expect(root).toEqual(rootFromLeafHashes(leaves.slice(0, m)));
      if (m < 1100) verifyConsistency(BigInt(m), 1100n, await hashRanges(consistencyProofRanges(BigInt(m), 1100n), held.reader()), root!, tree.root());
    }
  });
});
