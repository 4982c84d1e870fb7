/**
 * Passkey (WebAuthn) signatures over ledger messages (DESIGN "Passkey
 * approvals"), verified offline from the raw bytes a browser returned, so
 * that anyone can re-check years later who approved what. Pure and
 * synchronous (replay is): P-256 with @noble/curves (the same audited family
 * as our other noble dependencies; WebCrypto is asynchronous and wants raw
 * r‖s signatures), Ed25519 with @noble/ed25519.
 *
 * A passkey signs message M when all hold:
 * - clientDataJSON is JSON with `type` "webauthn.get" and `challenge` the
 *   base64url (no padding) of SHA-256(M), not `crossOrigin`;
 * - `origin` is https://<rpId>[:port], https://<sub>.<rpId>[:port], or
 *   http://localhost[:port] for rpId "localhost" only;
 * - authenticatorData starts with SHA-256(rpId); UP is set (UV when required);
 * - the signature verifies over authenticatorData ‖ SHA-256(clientDataJSON):
 *   ES256 (COSE -7) DER-encoded ECDSA P-256/SHA-256, or EdDSA (COSE -8) Ed25519.
 */
import { p256 } from "@noble/curves/nist.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesEqual, concatBytes, parseBase64, parseUtf8, utf8 } from "./bytes.js";
import { ed25519Verify, isValidPublicKey } from "./ed25519.js";
import { WebAuthnError } from "./errors.js";
import { nodeCrypto } from "./node-crypto.js";

/**
 * ES256 verification from node:crypto where the runtime offers it
 * synchronously (process.getBuiltinModule, Node ≥ 20.16): OpenSSL, many times
 * faster than the pure-JS curve; browsers use noble. Both accept the same
 * signatures (DER, high or low S); test/webauthn.test.ts runs the vectors through both.
 */
let useNative = nodeCrypto !== undefined;

/** Tests only: switches node:crypto ES256 verification off and on. */
export function useNativeEs256(on: boolean): void {
  useNative = on && nodeCrypto !== undefined;
}

function verifyEs256(spki: Uint8Array, raw: Uint8Array, signed: Uint8Array, signature: Uint8Array): boolean {
  try {
    // WebAuthn does not require low S; the signature is DER; the message is hashed with SHA-256.
    if (useNative) return nodeCrypto!.verify("sha256", signed, { key: spki, format: "der", type: "spki" }, signature);
    return p256.verify(signature, signed, raw, { format: "der", lowS: false, prehash: true });
  } catch {
    return false;
  }
}

/** COSE algorithms: ES256 and EdDSA (RS256, optional in DESIGN, is not taken). */
export const COSE_ES256 = -7;
export const COSE_EDDSA = -8;
export type CoseAlg = typeof COSE_ES256 | typeof COSE_EDDSA;

export interface PasskeyInfo {
  credentialId: string;
  rpId: string;
  alg: number;
}

/** The raw bytes of an assertion, standard base64 each, as logged. */
export interface Assertion {
  authenticatorData: string;
  clientDataJSON: string;
  signature: string;
}

// DER SubjectPublicKeyInfo prefixes: id-ecPublicKey + prime256v1 with an uncompressed point; id-Ed25519.
const P256_SPKI_PREFIX = hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
const ED25519_SPKI_PREFIX = hex("302a300506032b6570032100");

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

/**
 * untrusted: a passkey's SubjectPublicKeyInfo for its COSE algorithm; returns
 * the raw key (65-byte uncompressed P-256 point, or 32-byte Ed25519 key).
 */
export function parsePasskeyPublicKey(spki: Uint8Array, alg: number): Uint8Array {
  const [prefix, size] = alg === COSE_ES256 ? [P256_SPKI_PREFIX, 65] : alg === COSE_EDDSA ? [ED25519_SPKI_PREFIX, 32] : [undefined, 0];
  if (!prefix) throw new WebAuthnError("alg", `COSE algorithm ${alg} is not supported (ES256 -7, EdDSA -8)`);
  if (spki.length !== prefix.length + size || !bytesEqual(spki.subarray(0, prefix.length), prefix)) {
    throw new WebAuthnError("format", `publicKey is not a ${alg === COSE_ES256 ? "P-256" : "Ed25519"} SubjectPublicKeyInfo`);
  }
  const raw = spki.slice(prefix.length);
  if (alg === COSE_ES256) {
    try {
      p256.Point.fromBytes(raw).assertValidity();
    } catch {
      throw new WebAuthnError("format", "publicKey is not a point of P-256");
    }
  } else if (!isValidPublicKey(raw)) {
    throw new WebAuthnError("format", "publicKey is not a canonical Ed25519 point of large order");
  }
  return raw;
}

/** base64url without padding, as WebAuthn writes challenges. */
export function encodeBase64Url(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The challenge a passkey signs for message M: base64url(SHA-256(M)). */
export function webauthnChallenge(message: Uint8Array): string {
  return encodeBase64Url(nobleSha256(message));
}

/** Whether `origin` may speak for `rpId` (see the module comment). */
export function originMatchesRpId(origin: string, rpId: string): boolean {
  const m = /^(https?):\/\/([a-z0-9.-]+)(?::([0-9]{1,5}))?$/.exec(origin);
  if (!m) return false;
  const [, scheme, host] = m;
  if (rpId === "localhost") return host === "localhost" && (scheme === "http" || scheme === "https");
  return scheme === "https" && (host === rpId || host!.endsWith(`.${rpId}`));
}

function b64(v: string, what: string): Uint8Array {
  try {
    return parseBase64(v);
  } catch {
    throw new WebAuthnError("format", `${what} is not canonical base64`);
  }
}

export interface VerifiedAssertion {
  /** The authenticator verified the user (PIN, biometrics): flag UV. */
  userVerified: boolean;
}

/**
 * Verifies a passkey's assertion over `message` with the registered key, or
 * throws WebAuthnError naming the failed check.
 */
export function verifyWebAuthn(
  key: { spki: Uint8Array; passkey: PasskeyInfo },
  message: Uint8Array,
  assertion: Assertion,
  opts: { requireUserVerification: boolean },
): VerifiedAssertion {
  const authData = b64(assertion.authenticatorData, "authenticatorData");
  const clientDataJSON = b64(assertion.clientDataJSON, "clientDataJSON");
  const signature = b64(assertion.signature, "signature");
  let cd: Record<string, unknown>;
  try {
    const v = JSON.parse(parseUtf8(clientDataJSON)) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    cd = Object.assign(Object.create(null) as Record<string, unknown>, v);
  } catch {
    throw new WebAuthnError("format", "clientDataJSON is not a JSON object");
  }
  if (cd.type !== "webauthn.get") throw new WebAuthnError("type", `clientDataJSON type is ${JSON.stringify(cd.type)}, not "webauthn.get"`);
  if (cd.challenge !== webauthnChallenge(message)) throw new WebAuthnError("challenge", "the challenge is not SHA-256 of this message");
  if (typeof cd.origin !== "string" || !originMatchesRpId(cd.origin, key.passkey.rpId)) {
    throw new WebAuthnError("origin", `origin ${JSON.stringify(cd.origin)} may not speak for rpId ${key.passkey.rpId}`);
  }
  if (cd.crossOrigin === true) throw new WebAuthnError("origin", "the assertion was made in a cross-origin frame");
  if (authData.length < 37) throw new WebAuthnError("format", "authenticatorData is shorter than 37 bytes");
  if (!bytesEqual(authData.subarray(0, 32), nobleSha256(utf8(key.passkey.rpId)))) throw new WebAuthnError("rp_id", `authenticatorData is not for rpId ${key.passkey.rpId}`);
  const flags = authData[32]!;
  const up = (flags & 0x01) !== 0;
  const uv = (flags & 0x04) !== 0;
  if (!up) throw new WebAuthnError("flags", "user presence (UP) is not set");
  if (opts.requireUserVerification && !uv) throw new WebAuthnError("flags", "user verification (UV) is required and not set");
  const raw = parsePasskeyPublicKey(key.spki, key.passkey.alg);
  const signed = concatBytes(authData, nobleSha256(clientDataJSON));
  const ok = key.passkey.alg === COSE_ES256 ? verifyEs256(key.spki, raw, signed, signature) : ed25519Verify(raw, signed, signature);
  if (!ok) throw new WebAuthnError("signature", "the passkey's signature does not verify");
  return { userVerified: uv };
}
