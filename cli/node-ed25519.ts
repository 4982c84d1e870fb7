/**
 * Ed25519 verification on node:crypto (OpenSSL): about ten times faster than
 * the pure-JS client implementation, for the CLI's audits and the server's hot
 * path alike. Keys the client's verifier refuses (non-canonical, small order)
 * are refused here too; tests check both accept the same bytes.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { isValidPublicKey } from "../client/ed25519.js";

const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const MAX_CACHED_KEYS = 10_000;
const publicKeys = new Map<string, KeyObject | null>();

/** The key object, or null for a key the client's verifier would refuse (see isValidPublicKey). */
function publicKeyObject(publicKey: Uint8Array): KeyObject | null {
  const k = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString("base64");
  let obj = publicKeys.get(k);
  if (obj === undefined) {
    obj = isValidPublicKey(publicKey) ? createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" }) : null;
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.delete(publicKeys.keys().next().value!);
    publicKeys.set(k, obj);
  }
  return obj;
}

/** True for a key verification may use: 32 bytes, canonical, not of small order (cached with its key object). */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  return publicKey.length === 32 && publicKeyObject(publicKey) !== null;
}

export function ed25519VerifyNode(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = publicKeyObject(publicKey);
    return key !== null && verify(null, message, key, signature);
  } catch {
    return false; // not a valid curve point
  }
}
