/**
 * Kysely instances over PostgreSQL (`pg`) and PGlite. This is the one place
 * where int8 becomes bigint: `pg` returns it as a string and PGlite as a
 * number, so both drivers get the same parser.
 */
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import type { Database } from "../../schema/database.js";

const INT8_OID = 20;

/** int8 values as they arrive from either driver, parsed to bigint. */
export function parseInt8(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  throw new Error(`not an int8 value: ${String(v)}`);
}

export function createPostgresDb(connectionString: string, poolSize = 10): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID ? (v: string) => parseInt8(v) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** PGlite in `dataDir`, or in memory when dataDir is undefined. */
export async function createPgliteDb(dataDir?: string): Promise<Kysely<Database>> {
  const db = await PGlite.create(dataDir ?? "memory://", { parsers: { [INT8_OID]: (v: string) => parseInt8(v) } });
  return new Kysely<Database>({ dialect: new PGliteDialect(db) });
}
