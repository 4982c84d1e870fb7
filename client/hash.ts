import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

/** RFC 6962 hashing: SHA-256 with 0x00 (leaf) and 0x01 (node) domain separation. */
export const HASH_SIZE = 32;

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** MTH({}) = SHA-256() */
export const EMPTY_ROOT: Uint8Array = nobleSha256(new Uint8Array(0));

export function hashLeaf(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf[0] = 0x00;
  buf.set(entry, 1);
  return nobleSha256(buf);
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return nobleSha256(buf);
}
