/**
 * Passkey signatures against real Chromium vectors (test/vectors/webauthn):
 * the client's verifier accepts each valid one, refuses each tampered one
 * naming the failed check, and agrees on every one with
 * @simplewebauthn/server's verifyAuthenticationResponse.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { verifyAuthenticationResponse, verifyRegistrationResponse } from "@simplewebauthn/server";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64, parseBase64 } from "../client/bytes.js";
import { WebAuthnError, type WebAuthnCheck } from "../client/errors.js";
import { useNativeEs256, verifyWebAuthn, type Assertion } from "../client/webauthn.js";
import { scenarioMessages, type PasskeyName, type ScenarioVectors } from "./helpers/passkey-scenario.js";

const V: ScenarioVectors = JSON.parse(readFileSync(join(import.meta.dirname, "vectors/webauthn/swc.json"), "utf8"));
const keyOf = (name: PasskeyName) => ({ spki: parseBase64(V.passkeys[name].publicKey), passkey: { credentialId: V.passkeys[name].credentialId, rpId: V.rpId, alg: V.passkeys[name].alg } });
const b64url = (b64: string) => Buffer.from(b64, "base64").toString("base64url");

/** The client's answer: "ok" (with UV) or the failed check. */
function ours(name: PasskeyName, message: Uint8Array, a: Assertion, requireUV = true): "ok" | WebAuthnCheck {
  try {
    verifyWebAuthn(keyOf(name), message, a, { requireUserVerification: requireUV });
    return "ok";
  } catch (e) {
    if (e instanceof WebAuthnError) return e.check;
    throw e;
  }
}

/** The same assertion through @simplewebauthn/server. */
const cose = new Map<PasskeyName, Uint8Array>();
async function theirs(name: PasskeyName, message: Uint8Array, a: Assertion, requireUV = true): Promise<boolean> {
  const { sha256 } = await import("@noble/hashes/sha2.js");
  try {
    const r = await verifyAuthenticationResponse({
      response: { id: V.passkeys[name].credentialId, rawId: V.passkeys[name].credentialId, type: "public-key", clientExtensionResults: {}, response: { authenticatorData: b64url(a.authenticatorData), clientDataJSON: b64url(a.clientDataJSON), signature: b64url(a.signature) } },
      expectedChallenge: Buffer.from(sha256(message)).toString("base64url"),
      expectedOrigin: V.origin,
      expectedRPID: V.rpId,
      credential: { id: V.passkeys[name].credentialId, publicKey: cose.get(name)! as Uint8Array<ArrayBuffer>, counter: 0 },
      requireUserVerification: requireUV,
    });
    return r.verified;
  } catch {
    return false;
  }
}

/** Rewrites clientDataJSON (a tampered copy: its signature no longer matches, but earlier checks come first). */
function withClientData(a: Assertion, edit: (cd: Record<string, unknown>) => void): Assertion {
  const cd = JSON.parse(Buffer.from(a.clientDataJSON, "base64").toString("utf8"));
  edit(cd);
  return { ...a, clientDataJSON: Buffer.from(JSON.stringify(cd)).toString("base64") };
}

function flip(b64: string, at: number, mask: number): string {
  const b = parseBase64(b64);
  b[at % b.length]! ^= mask;
  return encodeBase64(b);
}

describe("WebAuthn vectors from Chromium", () => {
  beforeAll(async () => {
    for (const name of Object.keys(V.passkeys) as PasskeyName[]) {
      const p = V.passkeys[name];
      const r = await verifyRegistrationResponse({
        response: { id: p.registration.id, rawId: b64url(p.registration.rawId), type: "public-key", clientExtensionResults: {}, response: { clientDataJSON: b64url(p.registration.response.clientDataJSON), attestationObject: b64url(p.registration.response.attestationObject) } },
        expectedChallenge: b64url(p.registration.challenge),
        expectedOrigin: V.origin,
        expectedRPID: V.rpId,
        requireUserVerification: true,
      });
      expect(r.verified).toBe(true);
      cose.set(name, r.registrationInfo!.credential.publicKey);
    }
  });

  it("the messages are the scenario's, byte for byte", () => {
    const messages = scenarioMessages(V.passkeys);
    expect(Object.keys(V.assertions).sort()).toEqual(Object.keys(messages).sort());
    for (const [label, m] of Object.entries(messages)) expect(V.assertions[label]!.message, label).toBe(encodeBase64(m.message));
  });

  it("every assertion verifies with the client (node:crypto and noble) and with @simplewebauthn/server", async () => {
    for (const [label, v] of Object.entries(V.assertions)) {
      const m = parseBase64(v.message);
      for (const native of [true, false]) {
        useNativeEs256(native);
        expect([label, native, ours(v.key, m, v.assertion, v.userVerified)]).toEqual([label, native, "ok"]);
      }
      expect([label, await theirs(v.key, m, v.assertion, v.userVerified)]).toEqual([label, true]);
    }
  });

  const A = () => V.assertions["approve:coreA:1.0.0"]!;
  const M = () => parseBase64(A().message);
  afterEach(() => useNativeEs256(true));

  it.each<[string, () => [PasskeyName, Uint8Array, Assertion, boolean], WebAuthnCheck]>([
    ["UV required, not set", () => ["coreA", M(), V.assertions["approve-without-uv:coreA:1.0.0"]!.assertion, true], "flags"],
    ["another message (version 1.0.1's assertion for 1.0.0)", () => ["coreA", M(), V.assertions["approve:coreA:1.0.1"]!.assertion, true], "challenge"],
    ["another passkey's assertion", () => ["coreB", M(), A().assertion, true], "signature"],
    ["another origin", () => ["coreA", M(), withClientData(A().assertion, (cd) => (cd.origin = "http://localhost.evil.example")), true], "origin"],
    ["an https origin of another site", () => ["coreA", M(), withClientData(A().assertion, (cd) => (cd.origin = "https://example.com")), true], "origin"],
    ["a cross-origin frame", () => ["coreA", M(), withClientData(A().assertion, (cd) => (cd.crossOrigin = true)), true], "origin"],
    ["webauthn.create client data", () => ["coreA", M(), { ...A().assertion, clientDataJSON: V.passkeys.coreA.registration.response.clientDataJSON }, true], "type"],
    ["another rpId hash", () => ["coreA", M(), { ...A().assertion, authenticatorData: flip(A().assertion.authenticatorData, 0, 1) }, true], "rp_id"],
    ["UP cleared", () => ["coreA", M(), { ...A().assertion, authenticatorData: flip(A().assertion.authenticatorData, 32, 0x01) }, false], "flags"],
    ["a flipped signature byte", () => ["coreA", M(), { ...A().assertion, signature: flip(A().assertion.signature, 20, 0x10) }, true], "signature"],
    ["a truncated authenticatorData", () => ["coreA", M(), { ...A().assertion, authenticatorData: encodeBase64(parseBase64(A().assertion.authenticatorData).slice(0, 36)) }, true], "format"],
    ["non-canonical base64", () => ["coreA", M(), { ...A().assertion, signature: "AB==" }, true], "format"],
  ])("refuses %s", async (_d, make, check) => {
    const [name, m, a, uv] = make();
    expect(ours(name, m, a, uv)).toBe(check);
    useNativeEs256(false);
    expect(ours(name, m, a, uv)).toBe(check);
    useNativeEs256(true);
    expect(await theirs(name, m, a, uv)).toBe(false);
  });

  it("an assertion for an rpId the key was not registered with is refused (origin first)", () => {
    const key = { ...keyOf("coreA"), passkey: { ...keyOf("coreA").passkey, rpId: "example.com" } };
    expect(() => verifyWebAuthn(key, M(), A().assertion, { requireUserVerification: true })).toThrow(expect.objectContaining({ check: "origin" }));
  });

  it("any flipped byte in authenticatorData, clientDataJSON or signature is refused, by both", async () => {
    const v = V.assertions["approve:coreB:1.0.0"]!; // EdDSA
    const w = A(); // ES256
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(["coreA", w] as const, ["coreB", v] as const), fc.constantFrom("authenticatorData", "clientDataJSON", "signature"), fc.nat(), fc.integer({ min: 1, max: 255 }), async ([name, vec], field, at, mask) => {
        const a = { ...vec.assertion, [field]: flip(vec.assertion[field as keyof Assertion], at, mask) };
        const m = parseBase64(vec.message);
        // A flip in bytes no check reads (the sign counter, JSON whitespace) still breaks the signature.
        for (const native of [true, false]) {
          useNativeEs256(native);
          expect(ours(name, m, a)).not.toBe("ok");
        }
        useNativeEs256(true);
        expect(await theirs(name, m, a)).toBe(false);
      }),
      { numRuns: 300, seed: 20261203 },
    );
  });
});
