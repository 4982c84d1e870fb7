/**
 * Ed25519 on node:crypto (OpenSSL), the server's hot path: about ten times
 * faster than the pure-JS client implementation. Tests check that both
 * produce and accept the same bytes.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { isValidPublicKey } from "../client/ed25519.js";

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const MAX_CACHED_KEYS = 10_000;
const publicKeys = new Map<string, KeyObject | null>();

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
}

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

export function ed25519SignNode(key: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, key));
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
