/**
 * The one storage contract of the ledger, implemented over Kysely for
 * PostgreSQL and PGlite. Contracts are written as MUST / MUST NOT.
 *
 * - Entries, tree nodes, checkpoints and the log identity MUST never be
 *   updated or deleted (the database refuses it with triggers).
 * - Everything a sequencing transaction writes MUST become visible
 *   together or not at all.
 * - Integers that are indices or sizes are bigint; hashes are Uint8Array.
 */
import type { NodeId } from "../../client/merkle-tree.js";
import { parseBase64 } from "../../client/bytes.js";
import { keyIdOf, recordHash } from "../../client/entry.js";
import type { LedgerRecord } from "../../schema/records.js";

/** A node the stored tree must have is absent: the stored state is inconsistent. */
export class MissingNodeError extends Error {
  constructor(key: string) {
    super(`tree node ${key} is missing from the store`);
    this.name = "MissingNodeError";
  }
}

export type StoreKind = "postgres" | "pglite";

export interface LogMeta {
  origin: string;
  verifierKey: string;
}

export interface StoredEntry {
  index: bigint;
  leafHash: Uint8Array;
  entry: Uint8Array;
}

export interface StoredCheckpoint {
  treeSize: bigint;
  rootHash: Uint8Array;
  note: string;
}

export interface NewEntry extends StoredEntry {
  recordHash: Uint8Array;
  type: string;
  namespace: string;
  /** For a key.register entry: the registered key's ID, indexed for GET /v1/keys/<id>. */
  registersKey?: string;
}

export interface StoredNode extends NodeId {
  hash: Uint8Array;
}

export interface WriterToken {
  id: number;
  name: string;
  tokenHash: string;
  namespaces: string[];
  createdAt: Date;
  revokedAt: Date | null;
}

/** Reads that both the store and a sequencing transaction offer. */
export interface StoreReader {
  /** The latest checkpoint; undefined only before the first is committed. */
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /** Nodes by id; every id asked for MUST be present in the map or the call throws. */
  readNodes(ids: NodeId[]): Promise<Map<string, Uint8Array>>;
  /** Entries already logged with these record hashes, by hex record hash. */
  findRecords(recordHashes: Uint8Array[]): Promise<Map<string, { index: bigint; leafHash: Uint8Array }>>;
  /** Entries with start <= index < end, in index order. */
  entriesBetween(start: bigint, end: bigint): Promise<StoredEntry[]>;
  /** Entries of one namespace with index > afterIndex, in index order (for state replay); at most `limit` if given. */
  namespaceEntries(namespace: string, afterIndex: bigint, limit?: number): Promise<StoredEntry[]>;
}

/** A sequencing transaction: MUST call lock() first; all writes commit together. */
export interface SequencerTx extends StoreReader {
  /** Takes the sequencer lock (one sequencer at a time, across processes). */
  lock(): Promise<void>;
  insertEntries(entries: NewEntry[]): Promise<void>;
  insertNodes(nodes: StoredNode[]): Promise<void>;
  insertCheckpoint(c: StoredCheckpoint): Promise<void>;
}

export interface Store extends StoreReader {
  readonly kind: StoreKind;
  /** Runs the migrations; MUST be idempotent. */
  migrate(): Promise<void>;
  /** Records the log's identity on first use and returns what is recorded. */
  initMeta(meta: LogMeta): Promise<LogMeta>;
  getEntry(index: bigint): Promise<StoredEntry | undefined>;
  /** Entries [start, start+limit) that exist, in index order. */
  getEntries(start: bigint, limit: number): Promise<StoredEntry[]>;
  findLeafHash(leafHash: Uint8Array): Promise<bigint | undefined>;
  /** key.register entries that register this key ID (hex), at most 100, from an index (never a scan). */
  findKeyRegistrations(keyId: string): Promise<StoredEntry[]>;
  /** Tree size over time: at each of `points` evenly spaced instants, the newest checkpoint by then (deduplicated, oldest first); index probes only. */
  growth(points: number): Promise<Array<{ at: Date; treeSize: bigint }>>;
  getCheckpoint(treeSize: bigint): Promise<StoredCheckpoint | undefined>;
  /** True when some checkpoint has lo <= treeSize < hi (tiles only serve widths a checkpoint justified). */
  hasCheckpointIn(lo: bigint, hi: bigint): Promise<boolean>;
  /** Hashes of nodes (level, start..start+count-1), in order; MUST throw MissingNodeError if one is absent. */
  readNodeRange(level: number, start: bigint, count: number): Promise<Uint8Array[]>;
  /** The number of entries stored (max index + 1); a mirror's entries may run ahead of its checkpoint. */
  entryCount(): Promise<bigint>;
  /** Runs `fn` in one transaction; rolls back everything if it throws. */
  sequence<T>(fn: (tx: SequencerTx) => Promise<T>): Promise<T>;
  createToken(t: { name: string; tokenHash: string; namespaces: string[] }): Promise<WriterToken>;
  /** The token with this hash, revoked or not. */
  findToken(tokenHash: string): Promise<WriterToken | undefined>;
  listTokens(): Promise<WriterToken[]>;
  /** Revokes every unrevoked token of that name; returns how many. */
  revokeToken(name: string): Promise<number>;
  addCosignature(treeSize: bigint, witness: string, line: string): Promise<void>;
  /** The largest checkpoint with at least `quorum` cosignatures, with those lines. */
  /** The newest checkpoint with `quorum` cosignatures, or whose witnesses (`name+keyId`) the predicate accepts (a policy). */
  latestCosigned(quorum: number | ((witnesses: string[]) => boolean)): Promise<{ checkpoint: StoredCheckpoint; lines: string[] } | undefined>;
  addEvidence(peer: string, body: string): Promise<void>;
  /** A push mirror's pending checkpoint (C2SP tlog-mirror); one per size, a repeat is ignored. */
  addPendingCheckpoint(c: StoredCheckpoint): Promise<void>;
  /** The newest pending checkpoints, largest first. */
  pendingCheckpoints(limit: number): Promise<StoredCheckpoint[]>;
  listEvidence(): Promise<Array<{ id: number; detectedAt: Date; peer: string; body: string }>>;
  /** Checks the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The row of an entry: every column derived from the record, in one place for the sequencer and the mirror. */
export function newEntry(index: bigint, leafHash: Uint8Array, entry: Uint8Array, record: LedgerRecord): NewEntry {
  const row: NewEntry = { index, leafHash, entry, recordHash: recordHash(record), type: record.type, namespace: record.namespace };
  if (record.type === "key.register") {
    try {
      row.registersKey = keyIdOf(parseBase64(record.statement.publicKey));
    } catch {
      // Not base64: the rules refused this record, so it is never stored.
    }
  }
  return row;
}
