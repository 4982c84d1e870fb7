/**
 * The commit protocol: one batch of records becomes contiguous entries, tree
 * nodes and a signed checkpoint inside ONE database transaction. The comment
 * at each write says what a crash right there leaves behind.
 */
import { bytesEqual, encodeHex } from "../../client/bytes.js";
import { ZERO_HASH } from "../../client/entry.js";
import { RuleError } from "../../client/errors.js";
import { LogBuilder } from "../../client/log-builder.js";
import { formatCheckpoint } from "../../client/checkpoint.js";
import { EMPTY_ROOT } from "../../client/hash.js";
import { CompactRange, nodeKey, rangeNodes } from "../../client/merkle-tree.js";
import type { LedgerRecord } from "../../schema/records.js";
import { InvariantError } from "./errors.js";
import { MissingNodeError, newEntry, type NewEntry, type SequencerTx, type StoredCheckpoint, type StoredNode, type Store } from "../store/store.js";
import type { LogSigner } from "./signer.js";

export interface PendingRecord {
  record: LedgerRecord;
  recordHash: Uint8Array;
  /** Signatures the request path already verified (see rules.ts). */
  verified?: Set<string>;
}

export type SequenceOutcome =
  | { ok: true; index: bigint; leafHash: Uint8Array; duplicate: boolean }
  | { ok: false; error: RuleError };

/** State rules applied in log order while sequencing (see server/log/rules.ts). */
export interface BatchRules {
  /** Throws RuleError when `record` may not be appended at `index` given all before it. */
  check(tx: SequencerTx, record: LedgerRecord, index: bigint, verified?: Set<string>): Promise<void>;
  /** Called under the lock with the log's size before any check. */
  begin(treeSize: bigint, tx: SequencerTx): Promise<void>;
  /** The transaction committed; the log now has `treeSize` entries. */
  committed(treeSize: bigint): void;
  /** The transaction rolled back: forget in-memory changes of this batch. */
  rollback(): void;
}

export interface SequenceDeps {
  store: Store;
  signer: LogSigner;
  origin: string;
  now: () => Date;
  rules: () => BatchRules;
}

export interface SequenceResult {
  outcomes: SequenceOutcome[];
  /** The checkpoint covering every successful outcome. */
  checkpoint: StoredCheckpoint;
}

export async function sequenceBatch(deps: SequenceDeps, batch: PendingRecord[]): Promise<SequenceResult> {
  const rules = deps.rules();
  try {
    const result = await commitBatch(deps, rules, batch);
    rules.committed(result.checkpoint.treeSize);
    return result;
  } catch (e) {
    rules.rollback();
    throw e;
  }
}

async function commitBatch(deps: SequenceDeps, rules: BatchRules, batch: PendingRecord[]): Promise<SequenceResult> {
  return deps.store.sequence(async (tx) => {
    // One sequencer at a time, across processes. Nothing written yet: a crash
    // anywhere before COMMIT leaves the log exactly as it was.
    await tx.lock();

    const head = await tx.latestCheckpoint();
    const size = head?.treeSize ?? 0n;
    // Invariant: the stored nodes must reproduce the signed root.
    const log = await loadLog(tx, size, head?.rootHash ?? EMPTY_ROOT);

    await rules.begin(size, tx);
    const existing = await tx.findRecords(batch.map((p) => p.recordHash));
    const time = deps.now().toISOString();
    const outcomes: SequenceOutcome[] = [];
    const entries: NewEntry[] = [];
    const nodes: StoredNode[] = [];
    const seenInBatch = new Map<string, { index: bigint; leafHash: Uint8Array }>();

    for (const p of batch) {
      const hex = encodeHex(p.recordHash);
      const dup = existing.get(hex) ?? seenInBatch.get(hex);
      if (dup) {
        outcomes.push({ ok: true, ...dup, duplicate: true });
        continue;
      }
      try {
        await rules.check(tx, p.record, log.size, p.verified);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        outcomes.push({ ok: false, error: e });
        continue;
      }
      const { index, entry, leafHash } = log.appendRecord(p.record, time, (id, hash) => nodes.push({ ...id, hash }));
      entries.push(newEntry(index, leafHash, entry, p.record));
      seenInBatch.set(hex, { index, leafHash });
      outcomes.push({ ok: true, index, leafHash, duplicate: false });
    }

    if (entries.length === 0) {
      // Nothing new: no write, no new checkpoint.
      return { outcomes, checkpoint: head ?? (await publishEmpty(deps, tx)) };
    }

    // Writes below are uncommitted until this function returns: a crash at
    // any of them rolls the whole batch back and no client has been answered.
    await tx.insertEntries(entries);
    await tx.insertNodes(nodes);
    const checkpoint = await signCheckpoint(deps, log.size, log.root());
    // The signed note exists only in memory until COMMIT: if COMMIT fails it
    // was never served, and the next batch signs the same size afresh.
    await tx.insertCheckpoint(checkpoint);
    return { outcomes, checkpoint };
  });
  // After COMMIT returns, the batch is durable; only then are clients answered.
}

/**
 * The stored log of `size` entries as a LogBuilder: its right border and last
 * leaf from the stored nodes, which MUST give `rootHash` when one is signed
 * for this size (InvariantError otherwise). A mirror's entries stored past its
 * checkpoint have no signed root yet: the next chunk's proof checks them.
 */
export async function loadLog(reader: Pick<SequencerTx, "readNodes">, size: bigint, rootHash: Uint8Array | undefined): Promise<LogBuilder> {
  const ids = rangeNodes(0n, size);
  let log: LogBuilder;
  try {
    const got = await reader.readNodes([...ids, ...(size > 0n ? [{ level: 0, index: size - 1n }] : [])]);
    log = new LogBuilder(new CompactRange(size, ids.map((id) => got.get(nodeKey(id))!)), size === 0n ? ZERO_HASH : got.get(`0/${size - 1n}`)!);
  } catch (e) {
    if (e instanceof MissingNodeError) throw new InvariantError(`checkpoint ${size} is not backed by stored nodes`, { cause: e });
    throw e;
  }
  if (rootHash && !bytesEqual(log.root(), rootHash)) throw new InvariantError(`stored tree nodes give a root other than checkpoint ${size}`);
  return log;
}

async function signCheckpoint(deps: SequenceDeps, treeSize: bigint, rootHash: Uint8Array): Promise<StoredCheckpoint> {
  const note = await deps.signer.signNote(formatCheckpoint({ origin: deps.origin, treeSize, rootHash, extensions: [] }));
  return { treeSize, rootHash, note };
}

/** The checkpoint of the empty tree, signed once when the log is created. */
export async function publishEmpty(deps: SequenceDeps, tx: SequencerTx): Promise<StoredCheckpoint> {
  const checkpoint = await signCheckpoint(deps, 0n, EMPTY_ROOT);
  await tx.insertCheckpoint(checkpoint);
  return checkpoint;
}

/** Makes sure a fresh log has its size-0 checkpoint, so /checkpoint always answers. */
export async function initLog(deps: SequenceDeps): Promise<StoredCheckpoint> {
  return deps.store.sequence(async (tx) => {
    await tx.lock();
    return (await tx.latestCheckpoint()) ?? (await publishEmpty(deps, tx));
  });
}
