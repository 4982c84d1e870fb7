/**
 * A software WebAuthn authenticator (ES256 on node:crypto) for tests that
 * need passkeys without a browser: registration responses (attestation
 * "none", as Chromium's virtual authenticator gives) and assertions over a
 * message M with challenge = base64url(SHA-256(M)), UV on or off. The browser
 * tests use Chromium's virtual authenticators instead; the committed vectors
 * (test/vectors/webauthn) tie both to real browser output.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { encodeBase64 } from "../../client/bytes.js";
import { keyIdOf } from "../../client/entry.js";
import { encodeBase64Url, webauthnChallenge } from "../../client/webauthn.js";
import type { Assertion } from "../../client/webauthn.js";

const sha256 = (b: Uint8Array | string) => new Uint8Array(createHash("sha256").update(b).digest());
const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

export class SoftPasskey {
  readonly rpId: string;
  readonly origin: string;
  readonly credentialId: Uint8Array;
  readonly spki: Uint8Array;
  readonly keyId: string;
  readonly #priv: KeyObject;
  readonly #jwk: { x: string; y: string };
  #count = 0;

  constructor(opts: { rpId?: string; origin?: string } = {}) {
    this.rpId = opts.rpId ?? "localhost";
    this.origin = opts.origin ?? "http://localhost:8080";
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.#priv = privateKey;
    this.spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
    this.#jwk = publicKey.export({ format: "jwk" }) as { x: string; y: string };
    this.keyId = keyIdOf(this.spki);
    this.credentialId = new Uint8Array(randomBytes(16));
  }

  /** The private key as PKCS#8 DER, standard base64: what CDP's WebAuthn.addCredential takes, to put this passkey into a browser. */
  get pkcs8(): string {
    return this.#priv.export({ type: "pkcs8", format: "der" }).toString("base64");
  }

  get credentialIdB64url(): string {
    return encodeBase64Url(this.credentialId);
  }

  /** The key.register statement of this passkey. */
  registerStatement(label: string, role: "approve" | "admin" = "approve") {
    return { publicKey: encodeBase64(this.spki), role, label, webauthn: { credentialId: this.credentialIdB64url, rpId: this.rpId, alg: -7 as const } };
  }

  #authData(flags: number, extra = new Uint8Array()): Uint8Array {
    const count = new Uint8Array(4);
    new DataView(count.buffer).setUint32(0, this.#count);
    return new Uint8Array(Buffer.concat([sha256(this.rpId), Buffer.from([flags]), count, extra]));
  }

  /** A signature over M as {keyId, webauthn}: the shape records and decisions take. */
  signature(message: Uint8Array, opts: { uv?: boolean; origin?: string; challenge?: string } = {}): { keyId: string; webauthn: Assertion } {
    return { keyId: this.keyId, webauthn: this.assert(opts.challenge ?? webauthnChallenge(message), opts) };
  }

  assert(challenge: string, opts: { uv?: boolean; origin?: string } = {}): Assertion {
    const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge, origin: opts.origin ?? this.origin, crossOrigin: false }));
    const authData = this.#authData(0x01 | (opts.uv === false ? 0 : 0x04));
    const sig = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), this.#priv); // DER ECDSA
    return { authenticatorData: encodeBase64(authData), clientDataJSON: encodeBase64(clientDataJSON), signature: encodeBase64(new Uint8Array(sig)) };
  }

  /** A registration response for `challenge` (from generateRegistrationOptions), attestation "none". */
  registration(challenge: string, opts: { uv?: boolean; origin?: string } = {}) {
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(Buffer.from(this.#jwk.x, "base64url"))],
      [-3, new Uint8Array(Buffer.from(this.#jwk.y, "base64url"))],
    ]);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLen, this.credentialId, isoCBOR.encode(cose as never)]);
    const authData = this.#authData(0x01 | (opts.uv === false ? 0 : 0x04) | 0x40, attested);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]) as never);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.create", challenge, origin: opts.origin ?? this.origin, crossOrigin: false }));
    return {
      id: this.credentialIdB64url,
      rawId: this.credentialIdB64url,
      type: "public-key" as const,
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
    };
  }
}
