/**
 * Record rules applied at sequencing time. For now: a key is registered at
 * most once per namespace, and registrations populate the key table that
 * signature checks resolve key IDs from. Authorization rules build on this.
 */
import { parseBase64 } from "../../client/bytes.js";
import { keyIdOf } from "../../client/entry.js";
import type { LedgerRecord } from "../../schema/records.js";
import { ApiError } from "../errors.js";
import type { NamespaceKey, SequencerTx } from "../store/store.js";
import type { BatchRules } from "./sequence.js";

export function createKeyRules(): BatchRules {
  const added = new Map<string, NamespaceKey>();
  return {
    async check(tx: SequencerTx, record: LedgerRecord, index: bigint) {
      if (record.type !== "key.register") return;
      const publicKey = parseBase64(record.statement.publicKey);
      const keyId = keyIdOf(publicKey);
      const k = `${record.namespace} ${keyId}`;
      if (added.has(k) || (await tx.findKey(record.namespace, keyId))) {
        throw new ApiError("key_exists", `key ${keyId} is already registered in ${record.namespace}`);
      }
      added.set(k, { namespace: record.namespace, keyId, publicKey, role: record.statement.role, registeredAt: index, revokedAt: null });
    },
    async commit(tx: SequencerTx) {
      await tx.insertKeys([...added.values()]);
    },
  };
}
