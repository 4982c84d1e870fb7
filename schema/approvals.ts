/**
 * Wire schemas of the approval service (DESIGN "The approval service"):
 * request bodies the server validates and the responses tests and the pages parse.
 */
import { z } from "zod";
import { ArtifactSchema, AssertionSchema, KeyIdSchema, NAMESPACE_RE, SignatureSchema } from "./records.js";

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);
const token = (max: number) => z.string().min(1).max(max).regex(/^[\x21-\x7e]+$/, "must be printable ascii without spaces");
const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, "must be base64url without padding");

export const OpenApprovalRequestBody = z.strictObject({
  namespace: z.string().regex(NAMESPACE_RE, "must look like <ecosystem>:<name>"),
  package: token(214),
  version: token(128),
  artifacts: z.array(ArtifactSchema).min(1).max(256),
  requester: KeyIdSchema.optional(),
  /** Where the decision is POSTed (HMAC-SHA256 signed with the writer's key). */
  callbackUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** Seconds until the request expires (at most LEDGER_APPROVAL_TTL, which is the default). */
  expiresIn: z.int().min(1).max(365 * 24 * 3600).optional(),
});

export const DecisionBody = z.strictObject({
  decision: z.enum(["approve", "reject"]),
  signature: SignatureSchema,
});

export const PushSubscriptionJson = z.strictObject({
  endpoint: z.url({ protocol: /^https$/ }).max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({ p256dh: base64url.max(200), auth: base64url.max(64) }),
});

/** The passkey signs "ledger-push/v1\n" ‖ JCS({keyId, endpoint}) to subscribe, and the same with `"unsubscribe": true` to unsubscribe. */
export const PushSubscribeBody = z.strictObject({
  subscription: PushSubscriptionJson,
  signature: z.union([z.strictObject({ keyId: KeyIdSchema, webauthn: AssertionSchema }), z.strictObject({ keyId: KeyIdSchema, sig: z.string().max(200) })]),
});

export const EnrollmentOptionsBody = z.strictObject({
  namespace: z.string().regex(NAMESPACE_RE, "must look like <ecosystem>:<name>"),
  label: z.string().min(1).max(200),
});

export const EnrollmentCredentialBody = z.strictObject({
  /** The RegistrationResponseJSON the browser gave (attestation "none" is enough). */
  response: z.looseObject({ id: base64url, rawId: base64url, type: z.literal("public-key"), response: z.looseObject({ clientDataJSON: base64url, attestationObject: base64url }) }),
});

export const EnrollmentSignatureBody = z.strictObject({ signature: SignatureSchema });

const GroupProgress = z.strictObject({ name: z.string(), threshold: z.int(), excludeRequester: z.boolean(), approvedBy: z.array(z.string()) });
const Member = z.strictObject({ keyId: z.string(), label: z.string().nullable(), groups: z.array(z.string()), credentialId: z.string().nullable(), rpId: z.string().nullable() });

export const ApprovalRequestResponse = z.strictObject({
  id: z.string(),
  namespace: z.string(),
  package: z.string(),
  version: z.string(),
  artifacts: z.array(ArtifactSchema),
  requester: z.string(),
  state: z.enum(["pending", "approved", "rejected", "expired"]),
  groups: z.array(GroupProgress),
  rejectedBy: z.array(z.string()),
  /** Every member of the policy's groups, with the passkey credential the approve page asks for. */
  members: z.array(Member),
  releaseIndex: decimal,
  previous: z.strictObject({ version: z.string(), artifacts: z.array(ArtifactSchema), index: decimal }).nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  outcomeIndex: decimal.nullable(),
  url: z.string(),
});

export const OpenApprovalResponse = z.strictObject({ id: z.string(), state: z.literal("pending"), url: z.string(), expiresAt: z.string() });

export const EnrollmentResponse = z.strictObject({
  id: z.string(),
  namespace: z.string(),
  label: z.string(),
  state: z.enum(["ceremony", "unsigned", "pending", "logged"]),
  keyId: z.string().nullable(),
  /** The key.register record with the signatures gathered so far. */
  record: z.record(z.string(), z.unknown()).nullable(),
  /** Base64 of the bytes every signer signs, and its WebAuthn challenge (base64url of its SHA-256). */
  message: z.string().nullable(),
  challenge: z.string().nullable(),
  adminThreshold: z.int(),
  loggedIndex: decimal.nullable(),
  expiresAt: z.string(),
});

export type OpenApprovalRequest = z.infer<typeof OpenApprovalRequestBody>;
export type ApprovalRequestJson = z.infer<typeof ApprovalRequestResponse>;
export type EnrollmentJson = z.infer<typeof EnrollmentResponse>;
