/**
 * The Kysely view of the database. Columns that must never change are typed
 * `ColumnType<…, …, never>` so that an UPDATE of them does not compile; the
 * database triggers refuse it at run time as well.
 */
import type { ColumnType, Generated } from "kysely";

type Immutable<T> = ColumnType<T, T, never>;
type Int8 = ColumnType<bigint, bigint, never>;

export interface EntriesTable {
  idx: Int8;
  leaf_hash: Immutable<Uint8Array>;
  record_hash: Immutable<Uint8Array>;
  type: Immutable<string>;
  namespace: Immutable<string>;
  entry: Immutable<Uint8Array>;
}

export interface TreeNodesTable {
  level: Immutable<number>;
  idx: Int8;
  hash: Immutable<Uint8Array>;
}

export interface CheckpointsTable {
  tree_size: Int8;
  root_hash: Immutable<Uint8Array>;
  note: Immutable<string>;
  created_at: ColumnType<Date, never, never>;
}

export interface LogMetaTable {
  id: Immutable<number>;
  origin: Immutable<string>;
  verifier_key: Immutable<string>;
  created_at: ColumnType<Date, never, never>;
}

export interface WriterTokensTable {
  id: Generated<number>;
  name: string;
  /** Lowercase hex SHA-256 of the token; the token itself is never stored. */
  token_hash: string;
  /** Namespace patterns, space-separated (`npm:*`, `npm:@swc`). */
  namespaces: string;
  created_at: ColumnType<Date, never, never>;
  revoked_at: ColumnType<Date | null, never, Date>;
}

export interface CosignaturesTable {
  tree_size: Int8;
  witness: Immutable<string>;
  /** The whole signature line, "— name base64\n". */
  line: Immutable<string>;
}

export interface EvidenceTable {
  id: Generated<number>;
  detected_at: ColumnType<Date, never, never>;
  peer: Immutable<string>;
  /** JSON of client/evidence.ts EquivocationEvidence. */
  body: Immutable<string>;
}

/** A push mirror's pending checkpoints (C2SP tlog-mirror), each consistent with the one before. */
export interface MirrorPendingTable {
  tree_size: Int8;
  root_hash: Immutable<Uint8Array>;
  /** The log-signed checkpoint note as received. */
  note: Immutable<string>;
  received_at: ColumnType<Date, never, never>;
}

/** Which entries register which key (GET /v1/keys/<id>); written with the entries. */
export interface KeyRegistrationsTable {
  key_id: Immutable<string>;
  idx: Int8;
}

/** The approval service's tables (mutable; every decision that matters is also logged). */
export interface ApprovalRequestsTable {
  id: Immutable<string>;
  namespace: Immutable<string>;
  package: Immutable<string>;
  version: Immutable<string>;
  /** JSON of the release's artifacts. */
  artifacts: Immutable<string>;
  requester: Immutable<string>;
  release_index: ColumnType<bigint, bigint, never>;
  state: "pending" | "approved" | "rejected" | "expired";
  writer: Immutable<string>;
  callback_url: Immutable<string | null>;
  callback_key: Immutable<string | null>;
  created_at: Immutable<Date>;
  expires_at: Immutable<Date>;
  decided_at: Date | null;
  outcome_index: bigint | null;
}

export interface ApprovalDecisionsTable {
  request_id: Immutable<string>;
  key_id: Immutable<string>;
  decision: Immutable<"approve" | "reject">;
  /** JSON {keyId, sig} or {keyId, webauthn}. */
  signature: Immutable<string>;
  assertion_digest: Immutable<string>;
  user_verified: Immutable<boolean | null>;
  created_at: Immutable<Date>;
}

export interface PushSubscriptionsTable {
  key_id: Immutable<string>;
  endpoint: Immutable<string>;
  p256dh: string;
  auth: string;
  created_at: Date;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  request_id: Immutable<string>;
  url: Immutable<string>;
  event: Immutable<string>;
  attempt: Immutable<number>;
  status: Immutable<number | null>;
  error: Immutable<string | null>;
  at: Immutable<Date>;
}

export interface EnrollmentsTable {
  id: Immutable<string>;
  namespace: Immutable<string>;
  label: Immutable<string>;
  challenge: Immutable<string>;
  state: "ceremony" | "unsigned" | "pending" | "logged";
  key_id: string | null;
  /** JSON of the key.register record with the signatures gathered so far. */
  record: string | null;
  logged_index: bigint | null;
  created_at: Immutable<Date>;
  expires_at: Immutable<Date>;
}

export interface Database {
  entries: EntriesTable;
  tree_nodes: TreeNodesTable;
  checkpoints: CheckpointsTable;
  log_meta: LogMetaTable;
  writer_tokens: WriterTokensTable;
  cosignatures: CosignaturesTable;
  evidence: EvidenceTable;
  mirror_pending: MirrorPendingTable;
  key_registrations: KeyRegistrationsTable;
  approval_requests: ApprovalRequestsTable;
  approval_decisions: ApprovalDecisionsTable;
  push_subscriptions: PushSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  enrollments: EnrollmentsTable;
}
