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

export const KeyIdSchema = hex64.describe("lowercase hex SHA-256 of the 32-byte Ed25519 public key");
export const PublicKeySchema = base64.describe("base64 of a 32-byte Ed25519 public key");
export const RoleSchema = z.enum(["publish", "approve", "admin"]);
export const ArtifactSchema = z.strictObject({ name: token(256), sha256: hex64 });
const artifacts = z.array(ArtifactSchema).min(1).max(256);

export const KeyRegisterStatement = z.strictObject({
  publicKey: PublicKeySchema,
  role: RoleSchema,
  label: text(200).optional(),
  breakGlass: z.boolean().optional(),
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
export const ApprovalSchema = z.strictObject({ keyId: KeyIdSchema, sig: base64 });
export const ApprovalOutcomeStatement = z.strictObject({
  package: token(214),
  version: token(128),
  artifacts,
  requester: KeyIdSchema,
  approvals: z.array(ApprovalSchema).max(256),
  decision: z.enum(["approved", "rejected"]),
});

export const SignatureSchema = z.strictObject({ keyId: KeyIdSchema, sig: base64 });

const envelope = <T extends string, S extends z.ZodType>(type: T, statement: S) =>
  z.strictObject({
    type: z.literal(type),
    namespace: z.string().regex(NAMESPACE_RE, "must look like <ecosystem>:<name>"),
    statement,
    signatures: z.array(SignatureSchema).min(1).max(32),
  });

export const RecordSchema = z.discriminatedUnion("type", [
  envelope("key.register", KeyRegisterStatement),
  envelope("key.revoke", KeyRevokeStatement),
  envelope("policy.set", PolicySetStatement),
  envelope("release.sign", ReleaseSignStatement),
  envelope("release.revoke", ReleaseRevokeStatement),
  envelope("approval.outcome", ApprovalOutcomeStatement),
]);

export type LedgerRecord = z.infer<typeof RecordSchema>;
export type RecordType = LedgerRecord["type"];
export type RecordSignature = z.infer<typeof SignatureSchema>;
export const RECORD_TYPES = RecordSchema.options.map((o) => o.shape.type.value) as RecordType[];
