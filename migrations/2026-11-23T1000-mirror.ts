/** Witness cosignatures collected by the log, and equivocation evidence found by mirrors. */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("cosignatures")
    .addColumn("tree_size", "int8", (c) => c.notNull())
    .addColumn("witness", "text", (c) => c.notNull())
    .addColumn("line", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cosignatures_pk", ["tree_size", "witness"])
    .execute();
  await db.schema
    .createTable("evidence")
    .addColumn("id", "serial", (c) => c.primaryKey())
    .addColumn("detected_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("peer", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .execute();
  for (const table of ["cosignatures", "evidence"]) {
    await sql`create trigger ${sql.raw(`${table}_no_change`)} before update or delete on ${sql.table(table)}
      for each row execute function ledger_append_only()`.execute(db);
  }
}
