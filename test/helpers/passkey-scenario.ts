/**
 * The @swc scenario with passkey approvers, shared by the vector generator
 * (test/vectors/webauthn/generate.ts, which has Chromium sign these messages)
 * and the tests that replay the committed vectors: the same namespace,
 * statements and messages on both sides.
 */
import { parseBase64 } from "../../client/bytes.js";
import { keyIdOf, recordSigningMessage } from "../../client/entry.js";
import { approvalSigningMessage, rejectionSigningMessage } from "../../client/replay.js";
import type { Assertion } from "../../client/webauthn.js";

export const NS = "npm:@swc";
export const PKG = "@swc/core";
export const RP_ID = "localhost";
export const ART = (v: string) => [{ name: `swc-core-${v}.tgz`, sha256: Buffer.from(`swc ${v}`).toString("hex").padEnd(64, "0").slice(0, 64) }];

/** The passkeys: name → COSE algorithm. */
export const PASSKEYS = { owner: -7, coreA: -7, coreB: -8, colleague: -7, outsider: -7 } as const;
export type PasskeyName = keyof typeof PASSKEYS;

export interface PasskeyVector {
  credentialId: string;
  /** Standard base64 of the SubjectPublicKeyInfo (response.getPublicKey()). */
  publicKey: string;
  alg: number;
  /** The registration as the browser returned it (attestation "none"), for @simplewebauthn cross-checks. */
  registration: { id: string; rawId: string; type: string; response: { clientDataJSON: string; attestationObject: string; transports?: string[] }; challenge: string };
}

export interface AssertionVector {
  key: PasskeyName;
  /** Standard base64 of the message M whose SHA-256 was the challenge. */
  message: string;
  userVerified: boolean;
  assertion: Assertion;
}

export interface ScenarioVectors {
  origin: string;
  rpId: string;
  passkeys: Record<PasskeyName, PasskeyVector>;
  assertions: Record<string, AssertionVector>;
}

export function passkeyKeyId(p: Pick<PasskeyVector, "publicKey">): string {
  return keyIdOf(parseBase64(p.publicKey));
}

export function registerStatement(name: PasskeyName, p: PasskeyVector) {
  return { publicKey: p.publicKey, role: "approve" as const, label: name, webauthn: { credentialId: p.credentialId, rpId: RP_ID, alg: p.alg } };
}

/** Every message the scenario has a passkey sign, by assertion name. */
export function scenarioMessages(passkeys: Record<PasskeyName, PasskeyVector>): Record<string, { key: PasskeyName; message: Uint8Array; userVerification: "required" | "discouraged" }> {
  const requester = passkeyKeyId(passkeys.owner);
  const approval = (v: string) => approvalSigningMessage({ namespace: NS, package: PKG, version: v, artifacts: ART(v), requester });
  const out: ReturnType<typeof scenarioMessages> = {};
  for (const name of Object.keys(PASSKEYS) as PasskeyName[]) {
    out[`register:${name}`] = { key: name, message: recordSigningMessage({ type: "key.register", namespace: NS, statement: registerStatement(name, passkeys[name]) } as never), userVerification: "required" };
  }
  for (const name of ["owner", "coreA", "coreB", "colleague", "outsider"] as const) out[`approve:${name}:1.0.0`] = { key: name, message: approval("1.0.0"), userVerification: "required" };
  out["approve:coreA:1.0.1"] = { key: "coreA", message: approval("1.0.1"), userVerification: "required" };
  out["approve-without-uv:coreA:1.0.0"] = { key: "coreA", message: approval("1.0.0"), userVerification: "discouraged" };
  for (const name of ["owner", "coreB", "colleague"] as const) out[`approve:${name}:2.0.0`] = { key: name, message: approval("2.0.0"), userVerification: "required" };
  out["reject:colleague:2.0.0"] = { key: "colleague", message: rejectionSigningMessage({ namespace: NS, package: PKG, version: "2.0.0", artifacts: ART("2.0.0"), requester }), userVerification: "required" };
  return out;
}
