/**
 * Ed25519 with @noble/ed25519, verifying strictly per RFC 8032 (not ZIP-215),
 * to agree with Go's crypto/ed25519 and OpenSSL on which signatures are valid.
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

ed.hashes.sha512 = sha512;

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed);
}

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed.sign(message, seed);
}

export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export function ed25519RandomSeed(): Uint8Array {
  return ed.utils.randomSecretKey();
}

/**
 * A public key both verifiers treat alike: a canonical encoding of a point
 * that is not of small order. OpenSSL accepts the trivial signature (R = 0,
 * S = 0) for a small-order key on any message, noble's strict mode does not:
 * such keys are refused everywhere so that server and clients agree.
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return false;
  try {
    return !ed.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}
