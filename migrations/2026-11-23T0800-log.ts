/**
 * The log: entries, tree nodes, checkpoints and the log's identity.
 * Frozen in time: typed Kysely<any>, never edited once released.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("log_meta")
    .addColumn("id", "int2", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("origin", "text", (c) => c.notNull())
    .addColumn("verifier_key", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("entries")
    .addColumn("idx", "int8", (c) => c.primaryKey().check(sql`idx >= 0`))
    .addColumn("leaf_hash", "bytea", (c) => c.notNull().check(sql`length(leaf_hash) = 32`))
    .addColumn("record_hash", "bytea", (c) => c.notNull().check(sql`length(record_hash) = 32`))
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("namespace", "text", (c) => c.notNull())
    .addColumn("entry", "bytea", (c) => c.notNull().check(sql`length(entry) <= 65535`))
    .execute();
  await db.schema.createIndex("entries_leaf_hash").unique().on("entries").column("leaf_hash").execute();
  await db.schema.createIndex("entries_record_hash").unique().on("entries").column("record_hash").execute();
  await db.schema.createIndex("entries_namespace").on("entries").columns(["namespace", "idx"]).execute();

  // Every completed perfect subtree: (level, idx) covers leaves [idx·2^level, (idx+1)·2^level).
  await db.schema
    .createTable("tree_nodes")
    .addColumn("level", "int2", (c) => c.notNull().check(sql`level >= 0 and level < 64`))
    .addColumn("idx", "int8", (c) => c.notNull().check(sql`idx >= 0`))
    .addColumn("hash", "bytea", (c) => c.notNull().check(sql`length(hash) = 32`))
    .addPrimaryKeyConstraint("tree_nodes_pk", ["level", "idx"])
    .execute();

  await db.schema
    .createTable("checkpoints")
    .addColumn("tree_size", "int8", (c) => c.primaryKey().check(sql`tree_size >= 0`))
    .addColumn("root_hash", "bytea", (c) => c.notNull().check(sql`length(root_hash) = 32`))
    .addColumn("note", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Append-only: the log's history is never updated, deleted or truncated.
  await sql`
    create function ledger_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger: % on % refused: the table is append-only', tg_op, tg_table_name
        using errcode = 'restrict_violation';
    end $$`.execute(db);
  for (const table of ["entries", "tree_nodes", "checkpoints", "log_meta"]) {
    await sql`create trigger ${sql.raw(`${table}_no_change`)} before update or delete on ${sql.table(table)}
      for each row execute function ledger_append_only()`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
      for each statement execute function ledger_append_only()`.execute(db);
  }
}
