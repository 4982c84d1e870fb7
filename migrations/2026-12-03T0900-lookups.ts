/**
 * Indexes for the public lookups that scanned: which entries register a key
 * (GET /v1/keys/<id>), and checkpoints by time (GET /v1/growth). Frozen in
 * time: typed Kysely<any>, never edited once released.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // One row per key.register entry: the registered key's ID (hex SHA-256 of the public key).
  await db.schema
    .createTable("key_registrations")
    .addColumn("key_id", "text", (c) => c.notNull().check(sql`key_id ~ '^[0-9a-f]{64}$'`))
    .addColumn("idx", "int8", (c) => c.notNull()) // no foreign key: TRUNCATE of entries must meet the append-only trigger, not a constraint
    .addPrimaryKeyConstraint("key_registrations_pk", ["key_id", "idx"])
    .execute();
  await sql`create trigger key_registrations_no_change before update or delete on key_registrations
    for each row execute function ledger_append_only()`.execute(db);
  await sql`create trigger key_registrations_no_truncate before truncate on key_registrations
    for each statement execute function ledger_append_only()`.execute(db);
  // Entries logged before this migration: every key.register entry passed the record schema, so its publicKey is base64.
  await sql`
    insert into key_registrations (key_id, idx)
    select encode(sha256(decode(convert_from(entry, 'UTF8')::jsonb #>> '{record,statement,publicKey}', 'base64')), 'hex'), idx
    from entries where type = 'key.register'
    on conflict do nothing`.execute(db);

  await db.schema.createIndex("checkpoints_created_at").on("checkpoints").column("created_at").execute();
}
