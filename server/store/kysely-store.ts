/** The Store over Kysely: the same SQL for PostgreSQL and PGlite. */
import { Migrator, sql, type Kysely, type Transaction } from "kysely";
import { encodeHex } from "../../client/bytes.js";
import { nodeKey, type NodeId } from "../../client/merkle-tree.js";
import type { Database } from "../../schema/database.js";
import { migrations } from "../../migrations/index.js";
import { PgliteSync } from "./pglite-sync.js";
import { createPgliteDb, createPostgresDb, parseInt8 } from "./dialect.js";
import {
  MissingNodeError,
  type LogMeta,
  type NewEntry,
  type SequencerTx,
  type Store,
  type StoreKind,
  type StoreReader,
  type StoredCheckpoint,
  type StoredEntry,
  type StoredNode,
  type WriterToken,
} from "./store.js";

/** Arbitrary constant naming the sequencer's advisory lock ("LEDG"). */
const SEQUENCER_LOCK = 0x4c454447;
/** Rows per multi-row INSERT, well under PostgreSQL's 65,535 bind parameters. */
const INSERT_CHUNK = 2000;

type Db = Kysely<Database> | Transaction<Database>;

function bytes(v: Uint8Array): Uint8Array {
  // pg returns Buffers; hand out plain Uint8Array views of the same memory.
  return v instanceof Uint8Array && v.constructor !== Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v;
}

function reader(db: Db): StoreReader {
  return {
    async latestCheckpoint() {
      const row = await db.selectFrom("checkpoints").select(["tree_size", "root_hash", "note"]).orderBy("tree_size", "desc").limit(1).executeTakeFirst();
      return row && toCheckpoint(row);
    },
    async readNodes(ids: NodeId[]) {
      const out = new Map<string, Uint8Array>();
      for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
        const chunk = ids.slice(i, i + INSERT_CHUNK);
        const rows = await db
          .selectFrom("tree_nodes")
          .select(["level", "idx", "hash"])
          .where((eb) => eb(eb.refTuple("level", "idx"), "in", chunk.map((id) => eb.tuple(id.level, id.index))))
          .execute();
        for (const r of rows) out.set(nodeKey({ level: r.level, index: parseInt8(r.idx) }), bytes(r.hash));
      }
      for (const id of ids) if (!out.has(nodeKey(id))) throw new MissingNodeError(nodeKey(id));
      return out;
    },
    async findRecords(recordHashes: Uint8Array[]) {
      const out = new Map<string, { index: bigint; leafHash: Uint8Array }>();
      if (recordHashes.length === 0) return out;
      const rows = await db.selectFrom("entries").select(["idx", "leaf_hash", "record_hash"]).where("record_hash", "in", recordHashes).execute();
      for (const r of rows) out.set(encodeHex(bytes(r.record_hash)), { index: parseInt8(r.idx), leafHash: bytes(r.leaf_hash) });
      return out;
    },
    async entriesBetween(start: bigint, end: bigint) {
      const rows = await db.selectFrom("entries").select(["idx", "leaf_hash", "entry"]).where("idx", ">=", start).where("idx", "<", end).orderBy("idx").execute();
      return rows.map(toEntry);
    },
    async namespaceEntries(namespace: string, afterIndex: bigint, limit?: number) {
      let q = db.selectFrom("entries").select(["idx", "leaf_hash", "entry"]).where("namespace", "=", namespace).where("idx", ">", afterIndex).orderBy("idx");
      if (limit !== undefined) q = q.limit(limit);
      return (await q.execute()).map(toEntry);
    },
  };
}

function toCheckpoint(r: { tree_size: bigint; root_hash: Uint8Array; note: string }): StoredCheckpoint {
  return { treeSize: parseInt8(r.tree_size), rootHash: bytes(r.root_hash), note: r.note };
}

function toToken(r: { id: number; name: string; token_hash: string; namespaces: string; created_at: Date; revoked_at: Date | null }): WriterToken {
  return { id: r.id, name: r.name, tokenHash: r.token_hash, namespaces: r.namespaces.split(" ").filter(Boolean), createdAt: r.created_at, revokedAt: r.revoked_at };
}

function toEntry(r: { idx: bigint; leaf_hash: Uint8Array; entry: Uint8Array }): StoredEntry {
  return { index: parseInt8(r.idx), leafHash: bytes(r.leaf_hash), entry: bytes(r.entry) };
}

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insert(rows.slice(i, i + INSERT_CHUNK));
}

function sequencerTx(trx: Transaction<Database>): SequencerTx {
  return {
    ...reader(trx),
    async lock() {
      await sql`select pg_advisory_xact_lock(${SEQUENCER_LOCK})`.execute(trx);
    },
    async insertEntries(entries: NewEntry[]) {
      await insertChunked(entries, (chunk) =>
        trx
          .insertInto("entries")
          .values(chunk.map((e) => ({ idx: e.index, leaf_hash: e.leafHash, record_hash: e.recordHash, type: e.type, namespace: e.namespace, entry: e.entry })))
          .execute(),
      );
      const keys = entries.filter((e) => e.registersKey !== undefined);
      if (keys.length > 0) {
        await insertChunked(keys, (chunk) => trx.insertInto("key_registrations").values(chunk.map((e) => ({ key_id: e.registersKey!, idx: e.index }))).execute());
      }
    },
    async insertNodes(nodes: StoredNode[]) {
      await insertChunked(nodes, (chunk) =>
        trx.insertInto("tree_nodes").values(chunk.map((n) => ({ level: n.level, idx: n.index, hash: n.hash }))).execute(),
      );
    },
    async insertCheckpoint(c: StoredCheckpoint) {
      await trx.insertInto("checkpoints").values({ tree_size: c.treeSize, root_hash: c.rootHash, note: c.note }).execute();
    },
  };
}

/**
 * The public lookups, exported so that a test can EXPLAIN them: each MUST be
 * answered from an index, whatever the log's size (they are unauthenticated).
 */
export function keyRegistrationsQuery(db: Kysely<Database>, keyId: string) {
  // key_registrations' primary key, then entries by idx: never a scan of the entries.
  return db
    .selectFrom("key_registrations as k")
    .innerJoin("entries as e", "e.idx", "k.idx")
    .select(["e.idx", "e.leaf_hash", "e.entry"])
    .where("k.key_id", "=", keyId)
    .orderBy("k.idx")
    .limit(100);
}

export function growthQuery(points: number) {
  // `points` evenly spaced instants from the first checkpoint to the last, and at each the
  // newest checkpoint by then: points + 2 probes of checkpoints_created_at, never a scan.
  return sql<{ tree_size: bigint; at: Date }>`
    with span as (select (select min(created_at) from checkpoints) as lo, (select max(created_at) from checkpoints) as hi)
    select distinct c.tree_size, c.created_at as at
    from span, generate_series(1, ${points}::int) as g(i),
    lateral (
      select tree_size, created_at from checkpoints
      where created_at <= span.lo + (span.hi - span.lo) * g.i / ${points}::int
      order by created_at desc limit 1
    ) c
    where span.lo is not null
    order by 1`;
}

export class KyselyStore implements Store {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
  readonly #reader: StoreReader;

  /** The embedded database's fsync (see pglite-sync.ts); PostgreSQL syncs at COMMIT itself. */
  readonly #durable: PgliteSync | undefined;

  constructor(kind: StoreKind, db: Kysely<Database>, durable?: PgliteSync) {
    this.kind = kind;
    this.db = db;
    this.#reader = reader(db);
    this.#durable = durable;
  }

  latestCheckpoint() {
    return this.#reader.latestCheckpoint();
  }
  readNodes(ids: NodeId[]) {
    return this.#reader.readNodes(ids);
  }
  findRecords(hashes: Uint8Array[]) {
    return this.#reader.findRecords(hashes);
  }
  namespaceEntries(namespace: string, afterIndex: bigint, limit?: number) {
    return this.#reader.namespaceEntries(namespace, afterIndex, limit);
  }
  entriesBetween(start: bigint, end: bigint) {
    return this.#reader.entriesBetween(start, end);
  }

  async findKeyRegistrations(keyId: string): Promise<StoredEntry[]> {
    if (!/^[0-9a-f]{64}$/.test(keyId)) return [];
    return (await keyRegistrationsQuery(this.db, keyId).execute()).map(toEntry);
  }

  async growth(points: number): Promise<Array<{ at: Date; treeSize: bigint }>> {
    const { rows } = await growthQuery(points).execute(this.db);
    return rows.map((r) => ({ at: new Date(r.at), treeSize: parseInt8(r.tree_size) }));
  }

  async createToken(t: { name: string; tokenHash: string; namespaces: string[] }): Promise<WriterToken> {
    const r = await this.db
      .insertInto("writer_tokens")
      .values({ name: t.name, token_hash: t.tokenHash, namespaces: t.namespaces.join(" ") })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(r);
  }

  async findToken(tokenHash: string): Promise<WriterToken | undefined> {
    const r = await this.db.selectFrom("writer_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    return r && toToken(r);
  }

  async listTokens(): Promise<WriterToken[]> {
    return (await this.db.selectFrom("writer_tokens").selectAll().orderBy("id").execute()).map(toToken);
  }

  async revokeToken(name: string): Promise<number> {
    const r = await this.db.updateTable("writer_tokens").set({ revoked_at: new Date() }).where("name", "=", name).where("revoked_at", "is", null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => migrations } });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === "Error");
      throw new Error(`migration ${failed?.migrationName ?? "(unknown)"} failed: ${(error as Error).message ?? error}`);
    }
  }

  async initMeta(meta: LogMeta): Promise<LogMeta> {
    await this.db
      .insertInto("log_meta")
      .values({ id: 1, origin: meta.origin, verifier_key: meta.verifierKey })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const row = await this.db.selectFrom("log_meta").select(["origin", "verifier_key"]).where("id", "=", 1).executeTakeFirstOrThrow();
    return { origin: row.origin, verifierKey: row.verifier_key };
  }

  async getEntry(index: bigint): Promise<StoredEntry | undefined> {
    const r = await this.db.selectFrom("entries").select(["idx", "leaf_hash", "entry"]).where("idx", "=", index).executeTakeFirst();
    return r && toEntry(r);
  }

  async getEntries(start: bigint, limit: number): Promise<StoredEntry[]> {
    const rows = await this.db
      .selectFrom("entries")
      .select(["idx", "leaf_hash", "entry"])
      .where("idx", ">=", start)
      .orderBy("idx")
      .limit(limit) // not `idx < start + limit`: that overflows int8 near its end
      .execute();
    return rows.map(toEntry);
  }

  async findLeafHash(leafHash: Uint8Array): Promise<bigint | undefined> {
    const r = await this.db.selectFrom("entries").select("idx").where("leaf_hash", "=", leafHash).executeTakeFirst();
    return r && parseInt8(r.idx);
  }

  async getCheckpoint(treeSize: bigint): Promise<StoredCheckpoint | undefined> {
    const r = await this.db.selectFrom("checkpoints").select(["tree_size", "root_hash", "note"]).where("tree_size", "=", treeSize).executeTakeFirst();
    return r && toCheckpoint(r);
  }

  async hasCheckpointIn(lo: bigint, hi: bigint): Promise<boolean> {
    const r = await this.db.selectFrom("checkpoints").select("tree_size").where("tree_size", ">=", lo).where("tree_size", "<", hi).limit(1).executeTakeFirst();
    return r !== undefined;
  }

  async readNodeRange(level: number, start: bigint, count: number): Promise<Uint8Array[]> {
    const rows = await this.db
      .selectFrom("tree_nodes")
      .select(["idx", "hash"])
      .where("level", "=", level)
      .where("idx", ">=", start)
      .where("idx", "<", start + BigInt(count))
      .orderBy("idx")
      .execute();
    if (rows.length !== count) throw new MissingNodeError(`${level}/${start}+${count}`);
    return rows.map((r) => bytes(r.hash));
  }

  async addCosignature(treeSize: bigint, witness: string, line: string): Promise<void> {
    await this.db.insertInto("cosignatures").values({ tree_size: treeSize, witness, line }).onConflict((oc) => oc.columns(["tree_size", "witness"]).doNothing()).execute();
  }

  async latestCosigned(quorum: number | ((witnesses: string[]) => boolean)): Promise<{ checkpoint: StoredCheckpoint; lines: string[] } | undefined> {
    let size: bigint | undefined;
    if (typeof quorum === "number") {
      const best = await this.db
        .selectFrom("cosignatures")
        .select("tree_size")
        .groupBy("tree_size")
        .having((eb) => eb.fn.countAll(), ">=", quorum)
        .orderBy("tree_size", "desc")
        .limit(1)
        .executeTakeFirst();
      if (best) size = parseInt8(best.tree_size);
    } else {
      // A policy (k-of-n groups): the newest of the last 200 cosigned sizes whose witnesses meet it.
      const sizes = this.db.selectFrom("cosignatures").select("tree_size").groupBy("tree_size").orderBy("tree_size", "desc").limit(200);
      const rows = await this.db.selectFrom("cosignatures").select(["tree_size", "witness"]).where("tree_size", "in", sizes).orderBy("tree_size", "desc").execute();
      const by = new Map<bigint, string[]>();
      for (const r of rows) {
        const t = parseInt8(r.tree_size);
        by.set(t, [...(by.get(t) ?? []), r.witness]);
      }
      for (const [t, ws] of by) {
        if (quorum(ws)) {
          size = t;
          break;
        }
      }
    }
    if (size === undefined) return undefined;
    const checkpoint = await this.getCheckpoint(size);
    if (!checkpoint) return undefined;
    const rows = await this.db.selectFrom("cosignatures").select("line").where("tree_size", "=", size).orderBy("witness").execute();
    return { checkpoint, lines: rows.map((r) => r.line) };
  }

  async addEvidence(peer: string, body: string): Promise<void> {
    await this.db.insertInto("evidence").values({ peer, body }).execute();
  }

  async addPendingCheckpoint(c: StoredCheckpoint): Promise<void> {
    await this.db.insertInto("mirror_pending").values({ tree_size: c.treeSize, root_hash: c.rootHash, note: c.note }).onConflict((oc) => oc.column("tree_size").doNothing()).execute();
  }

  async pendingCheckpoints(limit: number): Promise<StoredCheckpoint[]> {
    const rows = await this.db.selectFrom("mirror_pending").select(["tree_size", "root_hash", "note"]).orderBy("tree_size", "desc").limit(limit).execute();
    return rows.map(toCheckpoint);
  }

  async listEvidence() {
    const rows = await this.db.selectFrom("evidence").selectAll().orderBy("id").execute();
    return rows.map((r) => ({ id: r.id, detectedAt: r.detected_at, peer: r.peer, body: r.body }));
  }

  async entryCount(): Promise<bigint> {
    const r = await this.db.selectFrom("entries").select((eb) => eb.fn.max("idx").as("m")).executeTakeFirst();
    return r?.m === null || r?.m === undefined ? 0n : parseInt8(r.m) + 1n;
  }

  /** How many times the embedded database was synced to disk after a commit (undefined on PostgreSQL). */
  get fsyncs(): Readonly<{ syncs: number; full: number }> | undefined {
    return this.#durable?.counts;
  }

  /** A sequencer or mirror transaction; it resolves only once its commit is on disk. */
  async sequence<T>(fn: (tx: SequencerTx) => Promise<T>): Promise<T> {
    const result = await this.db.transaction().execute((trx) => fn(sequencerTx(trx)));
    await this.#durable?.sync();
    return result;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Opens the store named by the configuration: PostgreSQL when a URL is given, else PGlite. */
export async function openStore(opts: { databaseUrl?: string; pgliteDir?: string }): Promise<KyselyStore> {
  const store = opts.databaseUrl
    ? new KyselyStore("postgres", createPostgresDb(opts.databaseUrl))
    : new KyselyStore("pglite", await createPgliteDb(opts.pgliteDir), opts.pgliteDir ? new PgliteSync(opts.pgliteDir) : undefined);
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}
