import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { outcome } from "../test/helpers/outcome.js";
import { encodeBase64 } from "./bytes.js";
import { LedgerError, ProofError } from "./errors.js";
import { hashLeaf } from "./hash.js";
import { hashRanges, nodeKey, rootFromLeafHashes, subtreeConsistencyProofRanges, type NodeId } from "./merkle-tree.js";
import { isValidSubtree, verifyConsistency, verifyInclusion, verifySubtreeConsistency } from "./merkle-verify.js";

const VECTORS = join(import.meta.dirname, "../test/vectors/merkle");

function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64"));
}

function vectorFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? vectorFiles(p) : p.endsWith(".json") ? [p] : [];
  });
}

interface InclusionVector { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyVector { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }


describe("transparency-dev/merkle inclusion vectors", () => {
  const files = vectorFiles(join(VECTORS, "inclusion"));
  it("has the vendored vectors", () => expect(files.length).toBeGreaterThanOrEqual(90));
  it.each(files.map((f) => [f.slice(VECTORS.length + 1), f]))("%s", (_name, file) => {
    const v = JSON.parse(readFileSync(file, "utf8")) as InclusionVector;
    const got = outcome(() =>
      verifyInclusion(BigInt(v.leafIdx), BigInt(v.treeSize), b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root)),
    );
    if (v.wantErr) expect(got).not.toBe("ok");
    else expect(got).toBe("ok");
  });
});

describe("transparency-dev/merkle consistency vectors", () => {
  const files = vectorFiles(join(VECTORS, "consistency"));
  it("has the vendored vectors", () => expect(files.length).toBeGreaterThanOrEqual(90));
  it.each(files.map((f) => [f.slice(VECTORS.length + 1), f]))("%s", (_name, file) => {
    const v = JSON.parse(readFileSync(file, "utf8")) as ConsistencyVector;
    const got = outcome(() =>
      verifyConsistency(BigInt(v.size1), BigInt(v.size2), (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2)),
    );
    if (v.wantErr) expect(got).not.toBe("ok");
    else expect(got).toBe("ok");
  });
});

interface SubtreeConsistencyVector { start: number; end: number; size: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }

describe("transparency-dev/merkle subtree consistency vectors (draft-ietf-plants-merkle-tree-certs)", () => {
  const files = vectorFiles(join(VECTORS, "subtreeconsistency"));
  it("has the vendored vectors", () => expect(files.length).toBeGreaterThanOrEqual(100));
  it.each(files.map((f) => [f.slice(VECTORS.length + 1), f]))("%s", (_name, file) => {
    const v = JSON.parse(readFileSync(file, "utf8")) as SubtreeConsistencyVector;
    const got = outcome(() => verifySubtreeConsistency(BigInt(v.start), BigInt(v.end), BigInt(v.size), (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2)));
    if (v.wantErr) expect(got).not.toBe("ok");
    else expect(got).toBe("ok");
  });
});

describe("subtreeConsistencyProofRanges against the vectors and the verifier", () => {
  // transparency-dev/merkle's testonly.LeafInputs, from which its vectors' trees are built.
  const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((h) => hashLeaf(Buffer.from(h, "hex")));
  const nodes = (leaves: Uint8Array[]) => async (ids: NodeId[]) =>
    new Map(ids.map((id) => [nodeKey(id), rootFromLeafHashes(leaves.slice(Number(id.index) << id.level, (Number(id.index) + 1) << id.level))]));
  const mth = (leaves: Uint8Array[], a: bigint, b: bigint) => rootFromLeafHashes(leaves.slice(Number(a), Number(b)));

  const happy = vectorFiles(join(VECTORS, "subtreeconsistency"))
    .map((f) => [f.slice(VECTORS.length + 1), JSON.parse(readFileSync(f, "utf8")) as SubtreeConsistencyVector] as const)
    .filter(([, v]) => !v.wantErr && v.size <= LEAVES.length && v.start < v.end && v.desc === "happy path");
  it("has the five happy-path vectors (on the 8 test leaves)", () => expect(happy.length).toBe(5));
  it.each(happy)("generates the vector's proof: %s", async (_name, v) => {
    const leaves = LEAVES.slice(0, v.size);
    expect(encodeBase64(mth(leaves, 0n, BigInt(v.size)))).toBe(v.root2);
    expect(encodeBase64(mth(leaves, BigInt(v.start), BigInt(v.end)))).toBe(v.root1);
    const proof = await hashRanges(subtreeConsistencyProofRanges(BigInt(v.start), BigInt(v.end), BigInt(v.size)), nodes(leaves));
    expect(proof.map(encodeBase64)).toEqual(v.proof ?? []);
  });

  it("every valid subtree of trees up to 40 leaves: the generated proof verifies, and fails for the neighbouring subtree hash", async () => {
    const leaves = Array.from({ length: 40 }, (_, i) => hashLeaf(new Uint8Array([i, i >> 8])));
    let checked = 0;
    for (let n = 1n; n <= 40n; n++) {
      for (let start = 0n; start < n; start++) {
        for (let end = start + 1n; end <= n; end++) {
          if (!isValidSubtree(start, end)) {
            expect(() => subtreeConsistencyProofRanges(start, end, n)).toThrow(ProofError);
            continue;
          }
          const proof = await hashRanges(subtreeConsistencyProofRanges(start, end, n), nodes(leaves.slice(0, Number(n))));
          verifySubtreeConsistency(start, end, n, proof, mth(leaves, start, end), mth(leaves, 0n, n));
          expect(() => verifySubtreeConsistency(start, end, n, proof, mth(leaves, start, end - 1n), mth(leaves, 0n, n))).toThrow(LedgerError);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});
