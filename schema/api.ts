/**
 * Response schemas of the HTTP API (DESIGN "HTTP API"): one per resource.
 * Tests parse every response with these, so the server and its readers
 * cannot drift apart. Indices and sizes are decimal strings.
 */
import { z } from "zod";

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);
const hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "base64 of 32 bytes");
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);

export const LogInfoResponse = z.strictObject({
  origin: z.string(),
  verifierKey: z.string(),
  treeSize: decimal,
  rootHash: hash,
  checkpoint: z.string(),
  /** The witnesses (cosigner vkeys) whose quorum /checkpoint waits for, when configured. */
  witnesses: z
    .strictObject({
      quorum: z.int().describe("the fewest cosignatures that can meet the quorum"),
      vkeys: z.array(z.string()),
      policy: z.string().optional().describe("the C2SP tlog-policy the log was given (LEDGER_WITNESSES as a file): its groups are the quorum"),
    })
    .optional(),
});

export const EntryResponse = z.strictObject({ index: decimal, entry: base64, leafHash: hash });
export const EntriesResponse = z.strictObject({ entries: z.array(EntryResponse) });

export const InclusionProofResponse = z.strictObject({
  index: decimal,
  treeSize: decimal,
  leafHash: hash,
  proof: z.array(hash),
});

export const ConsistencyProofResponse = z.strictObject({
  size1: decimal,
  size2: decimal,
  proof: z.array(hash),
});

export const AppendResponse = z.strictObject({
  index: decimal,
  leafHash: hash,
  /** Present with ?wait=checkpoint: the covering signed checkpoint and the inclusion proof in it. */
  treeSize: decimal.optional(),
  checkpoint: z.string().optional(),
  proof: z.array(hash).optional(),
  /** The same as a C2SP tlog-proof document. */
  tlogProof: z.string().optional(),
});

export const ErrorResponse = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});

export const HealthResponse = z.strictObject({
  status: z.enum(["ok", "failing"]),
  treeSize: decimal.optional(),
  reason: z.string().optional(),
});

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/** A key as a namespace's state holds it: registered and revoked at these log indices. */
const KeyState = z.strictObject({
  keyId: hex64,
  publicKey: base64,
  role: z.enum(["publish", "approve", "admin"]),
  label: z.string().optional(),
  registeredAt: decimal,
  revokedAt: decimal.nullable(),
  breakGlass: z.boolean(),
  /** A passkey's credential (its publicKey is a SubjectPublicKeyInfo). */
  webauthn: z.strictObject({ credentialId: z.string(), rpId: z.string(), alg: z.int() }).optional(),
});

export const NamespaceResponse = z.strictObject({
  namespace: z.string(),
  keys: z.array(KeyState),
  policy: z
    .strictObject({
      adminThreshold: z.int(),
      groups: z.array(z.strictObject({ name: z.string(), members: z.array(hex64), threshold: z.int(), excludeRequester: z.boolean(), userVerification: z.enum(["required", "preferred"]).optional() })),
      index: decimal,
    })
    .nullable(),
  releaseCount: z.int(),
  recentReleases: z.array(
    z.strictObject({
      package: z.string(),
      version: z.string(),
      index: decimal,
      signedBy: z.array(hex64),
      approved: z.boolean(),
      approvalIndex: decimal.nullable(),
      policyIndex: decimal.nullable(),
      revoked: z.boolean(),
    }),
  ),
  /** Log indices of the break-glass records applied to this namespace. */
  breakGlass: z.array(decimal),
});

export const NamespaceEntriesResponse = z.strictObject({
  namespace: z.string(),
  treeSize: decimal,
  entries: z.array(EntryResponse),
  /** Pass as `after` for the next page; null on the last page. */
  next: decimal.nullable(),
});

export const KeyResponse = z.strictObject({
  keyId: hex64,
  registrations: z.array(KeyState.extend({ namespace: z.string() })),
});

export const GrowthResponse = z.strictObject({
  points: z.array(z.strictObject({ time: z.string(), treeSize: decimal })),
});

export const ReleaseResponse = z.strictObject({
  namespace: z.string(),
  package: z.string(),
  version: z.string(),
  artifacts: z.array(z.strictObject({ name: z.string(), sha256: hex64, sha512: z.string().regex(/^[0-9a-f]{128}$/).optional() })),
  index: decimal,
  leafHash: hash,
  signedBy: z.array(hex64),
  approved: z.boolean(),
  approvalIndex: decimal.nullable(),
  /** The policy.set in force at the release's index, by which it is judged (null: none, so no approval needed). */
  policyIndex: decimal.nullable(),
  /** The requester the release names, if any; an approval outcome must name the same. */
  requester: hex64.optional(),
  /** A rejection is logged: never approved afterwards. */
  rejected: z.boolean(),
  /** Who signed the logged decision, and the groups each counted in. */
  approvers: z.array(z.strictObject({ keyId: hex64, passkey: z.boolean(), userVerified: z.boolean().nullable(), groups: z.array(z.string()) })),
  revoked: z.boolean(),
  treeSize: decimal,
  proof: z.array(hash),
});

export const EvidenceResponse = z.strictObject({
  evidence: z.array(
    z.strictObject({
      id: z.int(),
      detectedAt: z.string(),
      peer: z.string(),
      note1: z.string(),
      note2: z.string(),
      proof: z.array(hash),
      root1: hash.optional(),
    }),
  ),
});

/** The wire types, for readers that must not load zod (client/, explorer/): `import type` only. */
export type LogInfo = z.infer<typeof LogInfoResponse>;
export type EntryJson = z.infer<typeof EntryResponse>;
export type EntriesJson = z.infer<typeof EntriesResponse>;
export type InclusionProofJson = z.infer<typeof InclusionProofResponse>;
export type ConsistencyProofJson = z.infer<typeof ConsistencyProofResponse>;
export type AppendJson = z.infer<typeof AppendResponse>;
export type ErrorJson = z.infer<typeof ErrorResponse>;
export type NamespaceJson = z.infer<typeof NamespaceResponse>;
export type NamespaceEntriesJson = z.infer<typeof NamespaceEntriesResponse>;
export type KeyJson = z.infer<typeof KeyResponse>;
export type GrowthJson = z.infer<typeof GrowthResponse>;
export type ReleaseJson = z.infer<typeof ReleaseResponse>;
