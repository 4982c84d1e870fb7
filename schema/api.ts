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

export const NamespaceResponse = z.strictObject({
  namespace: z.string(),
  keys: z.array(
    z.strictObject({
      keyId: hex64,
      publicKey: base64,
      role: z.enum(["publish", "approve", "admin"]),
      label: z.string().optional(),
      registeredAt: decimal,
      revokedAt: decimal.nullable(),
      breakGlass: z.boolean(),
    }),
  ),
  policy: z
    .strictObject({
      adminThreshold: z.int(),
      groups: z.array(z.strictObject({ name: z.string(), members: z.array(hex64), threshold: z.int(), excludeRequester: z.boolean() })),
      index: decimal,
    })
    .nullable(),
  releaseCount: z.int(),
});

export const ReleaseResponse = z.strictObject({
  namespace: z.string(),
  package: z.string(),
  version: z.string(),
  artifacts: z.array(z.strictObject({ name: z.string(), sha256: hex64 })),
  index: decimal,
  leafHash: hash,
  signedBy: z.array(hex64),
  approved: z.boolean(),
  approvalIndex: decimal.nullable(),
  revoked: z.boolean(),
  treeSize: decimal,
  proof: z.array(hash),
});
