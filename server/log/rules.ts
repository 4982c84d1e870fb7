import { createHash } from "node:crypto";
/**
 * Record rules at sequencing time: the client's state machine (client/replay.ts)
 * applied in log order, so the server refuses exactly what clients would
 * ignore. Signatures already verified on the request path are not verified again.
 */
import { encodeBase64, encodeHex } from "../../client/bytes.js";
import { RuleError } from "../../client/errors.js";
import { applyRecord, type NamespaceState } from "../../client/replay.js";
import type { LedgerRecord } from "../../schema/records.js";
import { ed25519VerifyNode } from "../crypto.js";
import { ApiError } from "../errors.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { SequencerTx } from "../store/store.js";
import type { BatchRules } from "./sequence.js";

/** "<hex public key>:<base64 signature>" pairs that verified over the record's message. */
export type VerifiedSignatures = Set<string>;

/** A verified (key, message, signature): the message is part of it, so a pair verified for one message never vouches for another. */
export function verifiedKey(publicKey: Uint8Array, message: Uint8Array, sig: Uint8Array): string {
  return `${encodeHex(publicKey)}:${encodeBase64(sig)}:${createHash("sha256").update(message).digest("base64")}`;
}

export function ruleToApiError(e: RuleError): ApiError {
  return new ApiError(e.code, e.message);
}

/**
 * The record rules for one batch. `opts.verify` replaces signature
 * verification (the mirror defers it to threads and checks the results
 * before storing); by default signatures verified on the request path are
 * skipped and the rest verified here.
 */
export function createRecordRules(
  cache: NamespaceCache,
  opts: {
    verify?: (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean;
    /** States of a batch checked but not yet stored: looked up before the cache, which may have evicted them. */
    pending?: Map<string, NamespaceState>;
  } = {},
): () => BatchRules & { states: Map<string, NamespaceState> } {
  return () => {
    const states = new Map<string, NamespaceState>();
    return {
      states,
      async begin(treeSize: bigint, tx: SequencerTx) {
        await cache.begin(treeSize, tx);
      },
      async check(tx: SequencerTx, record: LedgerRecord, index: bigint, verified?: VerifiedSignatures) {
        let ns = states.get(record.namespace) ?? opts.pending?.get(record.namespace);
        if (ns) states.set(record.namespace, ns);
        else {
          ns = await cache.get(record.namespace, tx);
          states.set(record.namespace, ns);
        }
        const verify = opts.verify ?? ((pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => verified?.has(verifiedKey(pub, msg, sig)) || ed25519VerifyNode(pub, msg, sig));
        try {
          applyRecord(ns, record, index, { ...cache.opts, verify });
        } catch (e) {
          if (e instanceof RuleError) throw ruleToApiError(e);
          throw e;
        }
      },
      committed(treeSize: bigint) {
        cache.committed(treeSize);
      },
      rollback() {
        cache.evict(states.keys());
      },
    };
  };
}
