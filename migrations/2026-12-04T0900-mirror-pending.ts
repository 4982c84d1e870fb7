/**
 * C2SP tlog-mirror pending checkpoints: the log-signed checkpoints a push
 * mirror accepted through add-checkpoint (each consistent with the one
 * before), kept so entries uploaded against any recent one can be checked
 * and a restart loses none. Frozen in time: typed Kysely<any>, never edited
 * once released.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("mirror_pending")
    .addColumn("tree_size", "int8", (c) => c.primaryKey())
    .addColumn("root_hash", "bytea", (c) => c.notNull().check(sql`length(root_hash) = 32`))
    .addColumn("note", "text", (c) => c.notNull())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create trigger mirror_pending_no_change before update or delete on mirror_pending
    for each row execute function ledger_append_only()`.execute(db);
}
