/** POST /v1/records: validate, verify signatures, pool for sequencing, answer when durable. */
import { Hono, type MiddlewareHandler } from "hono";
import { checkScope, type Writer } from "../auth.js";
import { encodeBase64 } from "../../client/bytes.js";
import { recordHash, formatEntry, ZERO_HASH } from "../../client/entry.js";
import { RecordSchema, type LedgerRecord } from "../../schema/records.js";
import { ed25519VerifyNode } from "../crypto.js";
import { registeredKey, verifySignatures } from "../../client/replay.js";
import { requireCanonicalNamespace } from "./params.js";
import { limitBody, parseJsonBody, requireJsonContent } from "./body.js";
import { ApiError } from "../errors.js";
import { verifiedKey, type VerifiedSignatures } from "../log/rules.js";
import type { NamespaceCache } from "../state/namespaces.js";
import { inclusionProof } from "../log/proofs.js";
import { formatTlogProof } from "../../client/tlog-proof.js";
import type { Sequencer } from "../log/sequencer.js";
import type { StoreReader } from "../store/store.js";
import type { VerifyItem, VerifyPool } from "../../cli/verify-pool.js";

export interface RecordDeps {
  store: StoreReader;
  namespaces: NamespaceCache;
  requireWriter: MiddlewareHandler<{ Variables: { writer: Writer } }>;
  sequencer: Sequencer;
  maxBodyBytes: number;
  nodes?: Pick<StoreReader, "readNodes">;
  /** Signature verification threads (default: in process). */
  verifyPool?: VerifyPool;
}

/** untrusted: a request body into a record, or a 400 that says what is wrong. */
export function parseRecordBody(text: string): LedgerRecord {
  const record = parseJsonBody(text, RecordSchema, "invalid_record", "record");
  requireCanonicalNamespace(record.namespace);
  try {
    // Refuse what could never be logged: an entry over 64 KiB or non-canonicalizable JSON.
    formatEntry({ index: 0xffff_ffff_ffff_ffffn, prev: ZERO_HASH, time: "2000-01-01T00:00:00.000Z", record });
  } catch (e) {
    throw new ApiError("too_large", `record cannot be logged: ${(e as Error).message}`);
  }
  return record;
}

/**
 * Request-path check of every signature with the key its keyId names (the
 * key being registered, a key of the namespace, or a core key for
 * break-glass). The rules pick the keys; the signatures are then verified
 * together, on the verification threads when there are any. The sequencer
 * re-applies every rule in log order and skips re-verifying the
 * (key, message, signature) triples returned here.
 */
export async function verifyRequestSignatures(cache: NamespaceCache, store: StoreReader, record: LedgerRecord, pool?: VerifyPool): Promise<VerifiedSignatures> {
  if (record.type === "key.register") {
    // The key must decode (Ed25519 key, or a passkey's SPKI for its algorithm) and sign its own registration.
    const own = registeredKey(record.statement);
    if (!record.signatures.some((s) => s.keyId === own.keyId)) {
      throw new ApiError("no_proof_of_possession", "a key.register record must be signed by the key it registers");
    }
  }
  const ns = await cache.get(record.namespace, store);
  // RuleError when a key is unknown or a signature fails; routes map it to its status.
  const rules = (verify: (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean) => verifySignatures(ns, record, { ...cache.opts, verify });
  // First pass: which key checks which signature (unknown keys are refused here).
  const items: VerifyItem[] = [];
  rules((pub, msg, sig) => (items.push([pub, msg, sig]), true));
  const results = pool ? await pool.verify(items) : items.map(([p, m, s]) => ed25519VerifyNode(p, m, s));
  const verified: VerifiedSignatures = new Set();
  items.forEach(([p, m, s], i) => results[i] && verified.add(verifiedKey(p, m, s)));
  // A signature failed: the rules again, with the results, name the error exactly as they would have.
  if (results.some((ok) => !ok)) rules((p, m, s) => verified.has(verifiedKey(p, m, s)));
  return verified;
}

export function recordRoutes(deps: RecordDeps): Hono<{ Variables: { writer: Writer } }> {
  const app = new Hono<{ Variables: { writer: Writer } }>();
  app.post(
    "/",
    deps.requireWriter,
    limitBody(deps.maxBodyBytes),
    async function appendRecord(c) {
      const wait = c.req.query("wait");
      if (wait !== undefined && wait !== "checkpoint") throw new ApiError("invalid_parameter", "wait must be 'checkpoint'");
      requireJsonContent(c.req.header("content-type"), "records");
      const record = parseRecordBody(await c.req.text());
      checkScope(c.get("writer"), record.namespace);
      const verified = await verifyRequestSignatures(deps.namespaces, deps.store, record, deps.verifyPool);
      const r = await deps.sequencer.submit({ record, recordHash: recordHash(record), verified });
      const body: Record<string, unknown> = { index: r.index.toString(), leafHash: encodeBase64(r.leafHash) };
      if (wait === "checkpoint") {
        const proof = await inclusionProof(deps.nodes ?? deps.store, r.index, r.checkpoint.treeSize);
        Object.assign(body, {
          treeSize: r.checkpoint.treeSize.toString(),
          checkpoint: r.checkpoint.note,
          proof: proof.map(encodeBase64),
          tlogProof: formatTlogProof({ index: r.index, proof, checkpoint: r.checkpoint.note }),
        });
      }
      return c.json(body, r.duplicate ? 200 : 201);
    },
  );
  return app;
}
