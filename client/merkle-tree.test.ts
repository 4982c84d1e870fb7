import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { refMTH, refPATH, refPROOF } from "../test/helpers/reference-merkle.js";
import { bytesEqual, encodeHex, parseHex } from "./bytes.js";
import { LedgerError } from "./errors.js";
import { hashLeaf } from "./hash.js";
import {
  CompactRange,
  consistencyProofRanges,
  hashRanges,
  inclusionProofRanges,
  nodeKey,
  rootFromLeafHashes,
  type NodeId,
} from "./merkle-tree.js";
import { decompInclProof, verifyConsistency, verifyInclusion } from "./merkle-verify.js";

// transparency-dev/merkle testonly/constants.go leaf inputs.
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(parseHex);
const KNOWN_ROOTS: Record<number, string> = {
  0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

function leaves(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${i}`));
}

/** A tree held as every completed node, as the store keeps it. */
function buildNodes(d: Uint8Array[]): { range: CompactRange; nodes: Map<string, Uint8Array> } {
  const nodes = new Map<string, Uint8Array>();
  const range = new CompactRange(0n, []);
  for (const e of d) range.append(hashLeaf(e), (id, h) => nodes.set(nodeKey(id), h));
  return { range, nodes };
}

function reader(nodes: Map<string, Uint8Array>) {
  return async (ids: NodeId[]) => new Map(ids.map((id) => [nodeKey(id), nodes.get(nodeKey(id))!]));
}

describe("known roots", () => {
  it.each(Object.entries(KNOWN_ROOTS))("size %s", (size, root) => {
    const d = LEAVES.slice(0, Number(size));
    expect(encodeHex(rootFromLeafHashes(d.map(hashLeaf)))).toBe(root);
    expect(encodeHex(refMTH(d))).toBe(root);
  });
  it("sizes 0-8 agree with the reference", () => {
    for (let n = 0; n <= 8; n++) {
      expect(encodeHex(rootFromLeafHashes(LEAVES.slice(0, n).map(hashLeaf)))).toBe(encodeHex(refMTH(LEAVES.slice(0, n))));
    }
  });
  it("RFC 9162 worked example PATH(0, D7) and PATH(6, D7)", async () => {
    const { nodes } = buildNodes(LEAVES.slice(0, 7));
    const p0 = await hashRanges(inclusionProofRanges(0n, 7n), reader(nodes));
    expect(p0.map((h) => encodeHex(h).slice(0, 8))).toEqual(["96a296d2", "5f083f0a", "837dbb15"]);
    const p6 = await hashRanges(inclusionProofRanges(6n, 7n), reader(nodes));
    expect(p6.map((h) => encodeHex(h).slice(0, 8))).toEqual(["0ebc5d34", "d37ee418"]);
  });
});

describe("proofs built from stored nodes", () => {
  it("equal the reference for every index and size pair up to 40", async () => {
    const d = leaves(40);
    const { nodes } = buildNodes(d);
    for (let n = 1; n <= 40; n++) {
      const root = refMTH(d.slice(0, n));
      for (let m = 0; m < n; m++) {
        const proof = await hashRanges(inclusionProofRanges(BigInt(m), BigInt(n)), reader(nodes));
        expect(proof.map(encodeHex)).toEqual(refPATH(m, d.slice(0, n)).map(encodeHex));
        verifyInclusion(BigInt(m), BigInt(n), hashLeaf(d[m]!), proof, root);
      }
      for (let m = 1; m <= n; m++) {
        const proof = await hashRanges(consistencyProofRanges(BigInt(m), BigInt(n)), reader(nodes));
        expect(proof.map(encodeHex)).toEqual(refPROOF(m, d.slice(0, n)).map(encodeHex));
        verifyConsistency(BigInt(m), BigInt(n), proof, refMTH(d.slice(0, m)), root);
      }
    }
  });

  it("compact range appends in any batch split give the reference root", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }), (batches) => {
        const total = batches.reduce((a, b) => a + b, 0);
        const d = leaves(total);
        let range = new CompactRange(0n, []);
        let done = 0;
        for (const b of batches) {
          // Restart from the stored border, as the sequencer does per batch.
          range = new CompactRange(range.size, [...range.hashes]);
          for (let i = 0; i < b; i++) range.append(hashLeaf(d[done + i]!));
          done += b;
          expect(bytesEqual(range.root(), refMTH(d.slice(0, done)))).toBe(true);
        }
      }),
    );
  });
});

/** Applies one tampering to a proof and returns it, or null when not applicable. */
const tamperings = ["flipBit", "drop", "extra", "swap", "wrongIndex", "wrongSize", "wrongRoot", "wrongLeaf"] as const;

describe("property: every tampering is rejected with a code", () => {
  const d = leaves(70);
  const { nodes } = buildNodes(d);
  const roots = Array.from({ length: 71 }, (_, n) => refMTH(d.slice(0, n)));

  it("inclusion", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        fc.constantFrom(...tamperings),
        fc.nat(),
        async ([n, m], how, r) => {
          const proof = await hashRanges(inclusionProofRanges(BigInt(m), BigInt(n)), reader(nodes));
          let idx = BigInt(m), size = BigInt(n), leaf = hashLeaf(d[m]!), root = roots[n]!;
          let p = proof.map((x) => x.slice());
          switch (how) {
            case "flipBit": if (p.length === 0) return; p[r % p.length]![r % 32]! ^= 1 << (r % 8); break;
            case "drop": if (p.length === 0) return; p.splice(r % p.length, 1); break;
            case "extra": p.push(new Uint8Array(32)); break;
            case "swap": if (p.length < 2 || bytesEqual(p[0]!, p[1]!)) return; [p[0], p[1]] = [p[1]!, p[0]!]; break;
            case "wrongIndex": if (n < 2) return; idx = BigInt((m + 1 + (r % (n - 1))) % n); if (bytesEqual(hashLeaf(d[Number(idx)]!), leaf)) return; break;
            case "wrongSize":
              // A size with the same proof shape is not detectable from the proof
              // alone: the signed checkpoint binds size and root together.
              size = size + 1n + BigInt(r % 5);
              if (decompInclProof(idx, size).join() === decompInclProof(idx, BigInt(n)).join()) return;
              break;
            case "wrongRoot": root = roots[(n + 1 + (r % 69)) % 71]!; if (bytesEqual(root, roots[n]!)) return; break;
            case "wrongLeaf": leaf = hashLeaf(new Uint8Array([r & 255, 1, 2])); break;
          }
          expect(() => verifyInclusion(idx, size, leaf, p, root)).toThrow(LedgerError);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("consistency", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 70 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        fc.constantFrom("flipBit", "drop", "extra", "wrongSize1", "wrongSize2", "wrongRoot1", "wrongRoot2"),
        fc.nat(),
        async ([m, n], how, r) => {
          const proof = await hashRanges(consistencyProofRanges(BigInt(m), BigInt(n)), reader(nodes));
          let s1 = BigInt(m), s2 = BigInt(n), r1 = roots[m]!, r2 = roots[n]!;
          const p = proof.map((x) => x.slice());
          switch (how) {
            case "flipBit": p[r % p.length]![r % 32]! ^= 1 << (r % 8); break;
            case "drop": p.splice(r % p.length, 1); break;
            case "extra": p.push(new Uint8Array(32)); break;
            case "wrongSize1": s1 = BigInt(1 + ((m + r % (n - 1)) % (n - 1))); if (s1 === BigInt(m)) return; break;
            case "wrongSize2":
              s2 = s2 + 1n + BigInt(r % 5);
              if (decompInclProof(s1 - 1n, s2).join() === decompInclProof(s1 - 1n, BigInt(n)).join()) return;
              break;
            case "wrongRoot1": r1 = roots[(m % 69) + 1 === m ? m + 1 : (m % 69) + 1]!; if (bytesEqual(r1, roots[m]!)) return; break;
            case "wrongRoot2": r2 = roots[n - 1]!; break;
          }
          expect(() => verifyConsistency(s1, s2, p, r1, r2)).toThrow(LedgerError);
        },
      ),
      { numRuns: 500 },
    );
  });
});
