import { createHash } from "node:crypto";
/**
 * Record rules at sequencing time: the client's state machine (client/replay.ts)
 * applied in log order, so the server refuses exactly what clients would
 * ignore. Signatures already verified on the request path are not verified again.
 */
import { encodeBase64, encodeHex } from "../../client/bytes.js";
import { applyRecord, type NamespaceState } from "../../client/replay.js";
import type { LedgerRecord } from "../../schema/records.js";
import { ed25519VerifyNode } from "../crypto.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { SequencerTx } from "../store/store.js";
import type { BatchRules } from "./sequence.js";

/** "<hex public key>:<base64 signature>" pairs that verified over the record's message. */
export type VerifiedSignatures = Set<string>;

/** A verified (key, message, signature): the message is part of it, so a pair verified for one message never vouches for another. */
export function verifiedKey(publicKey: Uint8Array, message: Uint8Array, sig: Uint8Array): string {
  return `${encodeHex(publicKey)}:${encodeBase64(sig)}:${createHash("sha256").update(message).digest("base64")}`;
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
    /** Forks of a batch checked but not yet stored (the mirror's pipeline): this batch forks them instead of the cache's states. */
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
        // The batch works on forks: the cached state changes only at commit, after COMMIT.
        let ns = states.get(record.namespace);
        if (!ns) {
          ns = (opts.pending?.get(record.namespace) ?? (await cache.get(record.namespace, tx))).fork();
          states.set(record.namespace, ns);
        }
        const verify = opts.verify ?? ((pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => verified?.has(verifiedKey(pub, msg, sig)) || ed25519VerifyNode(pub, msg, sig));
        applyRecord(ns, record, index, { ...cache.opts, verify }); // RuleError: refused, the state unchanged
      },
      committed(treeSize: bigint) {
        cache.commit(states.values(), treeSize);
      },
      rollback() {
        // The forks go; the cached states never saw the batch. They are forgotten all the same:
        // a failure reported after COMMIT leaves entries they lack, which a reload reads.
        cache.forget(states.keys());
        states.clear();
      },
    };
  };
}
