/**
 * Kysely instances over PostgreSQL (`pg`) and PGlite. This is the one place
 * where int8 becomes bigint: `pg` returns it as a string and PGlite as a
 * number, so both drivers get the same parser.
 */
import { PGlite } from "@electric-sql/pglite";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
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
function initdb(dataDir: string): Promise<void> {
  const script = fileURLToPath(new URL("./pglite-init.mjs", import.meta.url));
  return new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [script, dataDir], { timeout: 120_000 }, (e, _out, err) => (e ? reject(new Error(`initdb of ${dataDir} failed: ${err.trim() || e.message}`, { cause: e })) : resolve()));
  });
}

/** PGlite's version, which names its initdb template (a template is only for the PGlite that made it). */
function pgliteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve("@electric-sql/pglite")));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@electric-sql/pglite" && pkg.version) return pkg.version;
    } catch {
      // not this directory
    }
  }
  throw new Error("cannot find @electric-sql/pglite's version");
}

/**
 * The freshly initdb'd data directory new stores are copied from, made once
 * per user and PGlite version (initdb takes ~5 s here; a copy ~0.1 s): in
 * LEDGER_CACHE_DIR, else $XDG_CACHE_HOME/ledger or ~/.cache/ledger, a
 * directory of the user's own (mode 0700; one writable by anyone else is not
 * used). LEDGER_CACHE_DIR=off makes every store run initdb. Undefined when
 * there is no usable cache.
 */
async function initdbTemplate(): Promise<string | undefined> {
  const setting = process.env.LEDGER_CACHE_DIR;
  if (setting === "off") return undefined;
  try {
    const root = setting || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "ledger");
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const st = statSync(root);
    if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return undefined;
    const template = join(root, `pglite-${pgliteVersion()}-initdb`);
    if (existsSync(join(template, "PG_VERSION"))) return template;
    const tmp = `${template}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    await initdb(tmp);
    try {
      renameSync(tmp, template); // atomic: another process may have made it meanwhile
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
    return existsSync(join(template, "PG_VERSION")) ? template : undefined;
  } catch {
    return undefined;
  }
}

/** Makes `dataDir` a new PGlite data directory: a copy of the initdb template (renamed into place whole), or initdb. */
async function initPgliteDir(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, "PG_VERSION"))) return;
  const empty = !existsSync(dataDir) || readdirSync(dataDir).length === 0;
  const template = empty ? await initdbTemplate() : undefined;
  if (template) {
    const tmp = `${dataDir}.init-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      cpSync(template, tmp, { recursive: true });
      if (existsSync(dataDir)) rmdirSync(dataDir);
      renameSync(tmp, dataDir); // a crash before this leaves no half-made data directory
      return;
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // initdb below
    }
  }
  await initdb(dataDir);
}

/** PGlite in `dataDir`, or in memory when dataDir is undefined. */
export async function createPgliteDb(dataDir?: string): Promise<Kysely<Database>> {
  if (dataDir) await initPgliteDir(dataDir);
  const db = await PGlite.create(dataDir ?? "memory://", { parsers: { [INT8_OID]: (v: string) => parseInt8(v) }, postgresqlconf: PGLITE_CONF });
  return new Kysely<Database>({ dialect: new PGliteDialect(db) });
}
