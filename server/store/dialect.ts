/**
 * Kysely instances over PostgreSQL (`pg`) and PGlite. This is the one place
 * where int8 becomes bigint: `pg` returns it as a string and PGlite as a
 * number, so both drivers get the same parser.
 */
import { PGlite } from "@electric-sql/pglite";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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

/**
 * The embedded database's settings. shared_buffers: PostgreSQL's default 128 MB
 * lives inside the server's own memory here (WebAssembly memory that never
 * shrinks); 32 MB holds the hot pages, and the rest is the OS page cache, as
 * with a separate PostgreSQL. (docs/performance.md has the figures.)
 */
export const PGLITE_CONF = ["shared_buffers=32MB"];

/** Runs initdb for a new data directory in a child process (see pglite-init.mjs). */
async function initPgliteDir(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, "PG_VERSION"))) return;
  const script = fileURLToPath(new URL("./pglite-init.mjs", import.meta.url));
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [script, dataDir], { timeout: 120_000 }, (e, _out, err) => (e ? reject(new Error(`initdb of ${dataDir} failed: ${err.trim() || e.message}`, { cause: e })) : resolve()));
  });
}

/** PGlite in `dataDir`, or in memory when dataDir is undefined. */
export async function createPgliteDb(dataDir?: string): Promise<Kysely<Database>> {
  if (dataDir) await initPgliteDir(dataDir);
  const db = await PGlite.create(dataDir ?? "memory://", { parsers: { [INT8_OID]: (v: string) => parseInt8(v) }, postgresqlconf: PGLITE_CONF });
  return new Kysely<Database>({ dialect: new PGliteDialect(db) });
}
