/**
 * untrusted: structural validation of records as logged, without zod, so the
 * client stays dependency-light. It accepts exactly what schema/records.ts
 * accepts (a property test checks the two agree).
 */
import type { LedgerRecord } from "../schema/records.js";

/** `<ecosystem>:<name>`, as schema/records.ts (which needs zod) defines it. */
export const NAMESPACE_RE = /^[a-z0-9][a-z0-9-]{0,31}:[A-Za-z0-9@._/-]{1,200}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TOKEN = /^[\x21-\x7e]+$/;

type Check = (v: unknown) => boolean;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (re: RegExp, min: number, max: number): Check => (v) => typeof v === "string" && v.length >= min && v.length <= max && re.test(v);
const text = (max: number): Check => (v) => typeof v === "string" && v.length <= max;
const token = (max: number) => str(TOKEN, 1, max);
const hex64 = str(HEX64, 64, 64);
const b64: Check = (v) => typeof v === "string" && B64.test(v);
const bool: Check = (v) => typeof v === "boolean";
const int = (min: number, max: number): Check => (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
const oneOf = (...xs: string[]): Check => (v) => typeof v === "string" && xs.includes(v);
const arr = (item: Check, min: number, max: number): Check => (v) => Array.isArray(v) && v.length >= min && v.length <= max && v.every(item);

/**
 * A strict object: required and optional fields, nothing else. Own properties
 * only (Object.hasOwn, never `in`): `constructor`, `toString` or `__proto__`
 * in a statement are unknown fields, as zod's strictObject finds them.
 */
function obj(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v) => {
    if (!isObj(v)) return false;
    for (const k of Object.keys(v)) if (!Object.hasOwn(required, k) && !Object.hasOwn(optional, k)) return false;
    for (const [k, c] of Object.entries(required)) if (!Object.hasOwn(v, k) || !c(v[k])) return false;
    for (const [k, c] of Object.entries(optional)) if (Object.hasOwn(v, k) && v[k] !== undefined && !c(v[k])) return false;
    return true;
  };
}

const artifacts = arr(obj({ name: token(256), sha256: hex64 }, { sha512: str(/^[0-9a-f]{128}$/, 128, 128) }), 1, 256);
const either = (...checks: Check[]): Check => (v) => checks.some((c) => c(v));
const b64max = (min: number, max: number): Check => (v) => b64(v) && (v as string).length >= min && (v as string).length <= max;
const lit = (...xs: number[]): Check => (v) => typeof v === "number" && xs.includes(v);
const HOST = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** A signature by an Ed25519 key (`sig`) or by a passkey (`webauthn`), as schema/records.ts SignatureSchema. */
const signature = either(
  obj({ keyId: hex64, sig: b64 }),
  obj({ keyId: hex64, webauthn: obj({ authenticatorData: b64max(1, 2048), clientDataJSON: b64max(1, 4096), signature: b64max(1, 1024) }) }),
);
const webauthnKey = obj({ credentialId: str(/^[A-Za-z0-9_-]+$/, 1, 1366), rpId: str(HOST, 0, 253), alg: lit(-7, -8) });
const STATEMENTS: Record<string, Check> = {
  "key.register": obj({ publicKey: b64max(0, 1024), role: oneOf("publish", "approve", "admin") }, { label: text(200), breakGlass: bool, webauthn: webauthnKey }),
  "key.revoke": obj({ keyId: hex64, reason: text(1000) }, { breakGlass: bool }),
  "policy.set": obj({
    adminThreshold: int(1, 256),
    groups: arr(obj({ name: token(100), members: arr(hex64, 1, 256), threshold: int(1, 256), excludeRequester: bool }, { userVerification: oneOf("required", "preferred") }), 0, 32),
  }),
  "release.sign": obj({ package: token(214), version: token(128), artifacts }, { requester: hex64 }),
  "release.revoke": obj({ package: token(214), version: token(128), reason: text(1000) }),
  "approval.outcome": obj({
    package: token(214),
    version: token(128),
    artifacts,
    requester: hex64,
    approvals: arr(signature, 0, 256),
    decision: oneOf("approved", "rejected"),
  }),
};

export function isRecord(v: unknown): v is LedgerRecord {
  if (!isObj(v) || typeof v.type !== "string" || !Object.hasOwn(STATEMENTS, v.type)) return false;
  return obj({
    type: () => true,
    namespace: str(NAMESPACE_RE, 1, 300),
    statement: STATEMENTS[v.type]!,
    // An approval outcome's weight is its approvals: the envelope may be unsigned (docs/records.md).
    signatures: arr(signature, v.type === "approval.outcome" ? 0 : 1, 32),
  })(v);
}
