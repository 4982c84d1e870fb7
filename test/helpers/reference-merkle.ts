/**
 * Naive RFC 6962 reference: MTH, PATH and PROOF written as the RFC's
 * recursive definitions over the full list of leaves. Slow on purpose.
 */
import { hashChildren, hashLeaf, sha256 } from "../../client/hash.js";

function k(n: number): number {
  let x = 1;
  while (x * 2 < n) x *= 2;
  return x;
}

export function refMTH(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256(new Uint8Array(0));
  if (d.length === 1) return hashLeaf(d[0]!);
  const s = k(d.length);
  return hashChildren(refMTH(d.slice(0, s)), refMTH(d.slice(s)));
}

export function refPATH(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...refPATH(m, d.slice(0, s)), refMTH(d.slice(s))] : [...refPATH(m - s, d.slice(s)), refMTH(d.slice(0, s))];
}

function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [refMTH(d)];
  const s = k(d.length);
  return m <= s
    ? [...subproof(m, d.slice(0, s), b), refMTH(d.slice(s))]
    : [...subproof(m - s, d.slice(s), false), refMTH(d.slice(0, s))];
}

export function refPROOF(m: number, d: Uint8Array[]): Uint8Array[] {
  return subproof(m, d, true);
}
