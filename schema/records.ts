/**
 * Wire schemas of records (DESIGN "Records"). The server validates request
 * bodies with these; the client imports only the types.
 */
import { z } from "zod";

export const NAMESPACE_RE = /^[a-z0-9][a-z0-9-]{0,31}:[A-Za-z0-9@._/-]{1,200}$/;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters");
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "must be standard base64");
/** Printable ASCII without spaces (package names, versions, artifact names). */
const token = (max: number) => z.string().min(1).max(max).regex(/^[\x21-\x7e]+$/, "must be printable ascii without spaces");
const text = (max: number) => z.string().max(max);

export const KeyIdSchema = hex64.describe("lowercase hex SHA-256 of the public key bytes (32-byte Ed25519 key, or a passkey's SubjectPublicKeyInfo)");
export const PublicKeySchema = base64.max(1024).describe("base64 of a 32-byte Ed25519 public key, or of a passkey's SubjectPublicKeyInfo (DER)");
/** A passkey's credential: its ID as WebAuthn gives it (base64url), the relying party's host, the COSE algorithm (-7 ES256, -8 EdDSA). */
export const WebAuthnKeySchema = z.strictObject({
  credentialId: z.string().min(1).max(1366).regex(/^[A-Za-z0-9_-]+$/, "must be base64url without padding"),
  rpId: z.string().max(253).regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, "must be a lowercase host name"),
  alg: z.union([z.literal(-7), z.literal(-8)]),
});
/** The raw bytes of a WebAuthn assertion, standard base64 each. */
export const AssertionSchema = z.strictObject({
  authenticatorData: base64.min(1).max(2048),
  clientDataJSON: base64.min(1).max(4096),
  signature: base64.min(1).max(1024),
});
export const RoleSchema = z.enum(["publish", "approve", "admin"]);
/** An artifact's digests: SHA-256, and optionally SHA-512 (npm's `integrity`), lowercase hex. */
export const ArtifactSchema = z.strictObject({ name: token(256), sha256: hex64, sha512: z.string().regex(/^[0-9a-f]{128}$/, "must be 128 lowercase hex characters").optional() });
const artifacts = z.array(ArtifactSchema).min(1).max(256);

export const KeyRegisterStatement = z.strictObject({
  publicKey: PublicKeySchema,
  role: RoleSchema,
  label: text(200).optional(),
  breakGlass: z.boolean().optional(),
  webauthn: WebAuthnKeySchema.optional(),
});
export const KeyRevokeStatement = z.strictObject({
  keyId: KeyIdSchema,
  reason: text(1000),
  breakGlass: z.boolean().optional(),
});
export const PolicyGroupSchema = z.strictObject({
  name: token(100),
  members: z.array(KeyIdSchema).min(1).max(256),
  threshold: z.int().min(1).max(256),
  excludeRequester: z.boolean(),
  /** Whether a passkey approval must carry UV to count here (default "required"). */
  userVerification: z.enum(["required", "preferred"]).optional(),
});
export const PolicySetStatement = z.strictObject({
  adminThreshold: z.int().min(1).max(256),
  groups: z.array(PolicyGroupSchema).max(32),
});
export const ReleaseSignStatement = z.strictObject({
  package: token(214),
  version: token(128),
  artifacts,
  requester: KeyIdSchema.optional(),
});
export const ReleaseRevokeStatement = z.strictObject({
  package: token(214),
  version: token(128),
  reason: text(1000),
});
/** A signature by an Ed25519 key (`sig`) or by a passkey (`webauthn`): the same places take either. */
export const SignatureSchema = z.union([z.strictObject({ keyId: KeyIdSchema, sig: base64 }), z.strictObject({ keyId: KeyIdSchema, webauthn: AssertionSchema })]);
export const ApprovalSchema = SignatureSchema;
export const ApprovalOutcomeStatement = z.strictObject({
  package: token(214),
  version: token(128),
  artifacts,
  requester: KeyIdSchema,
  approvals: z.array(ApprovalSchema).max(256),
  decision: z.enum(["approved", "rejected"]),
});


const envelope = <T extends string, S extends z.ZodType>(type: T, statement: S, minSignatures = 1) =>
  z.strictObject({
    type: z.literal(type),
    namespace: z.string().regex(NAMESPACE_RE, "must look like <ecosystem>:<name>"),
    statement,
    signatures: z.array(SignatureSchema).min(minSignatures).max(32),
  });

export const RecordSchema = z.discriminatedUnion("type", [
  envelope("key.register", KeyRegisterStatement),
  envelope("key.revoke", KeyRevokeStatement),
  envelope("policy.set", PolicySetStatement),
  envelope("release.sign", ReleaseSignStatement),
  envelope("release.revoke", ReleaseRevokeStatement),
  // Its weight is its approvals; the envelope may be unsigned (the approval service logs outcomes so).
  envelope("approval.outcome", ApprovalOutcomeStatement, 0),
]);

export type LedgerRecord = z.infer<typeof RecordSchema>;
export type RecordType = LedgerRecord["type"];
export type RecordSignature = z.infer<typeof SignatureSchema>;
export const RECORD_TYPES = RecordSchema.options.map((o) => o.shape.type.value) as RecordType[];
