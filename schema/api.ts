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
