import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { outcome } from "../test/helpers/outcome.js";
import { LedgerError } from "./errors.js";
import { verifyConsistency, verifyInclusion, verifySubtreeConsistency } from "./merkle-verify.js";

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
