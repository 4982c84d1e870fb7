/** `ledger serve | keygen | migrate | token`: the server's own commands (loaded only when used). */
import { parseArgs } from "node:util";
import { listen } from "./listen.js";
import { formatVerifierKey, parseCosignerKey, parseSignerKey, SIG_TYPE_COSIGNATURE, SIG_TYPE_ED25519 } from "../client/note.js";
import { keyIdOf } from "../client/entry.js";
import { ConfigError, DEFAULT_ORIGIN, loadConfig } from "./config.js";
import { createLedger, openLockedStore, StartupError } from "./ledger.js";
import { ApprovalStore, type RequestState } from "./store/approval-store.js";
import { escapeTerminal } from "../cli/terminal.js";
import { hashToken, newToken } from "./auth.js";
import { NAMESPACE_PATTERN_RE } from "./config.js";
import { KeyFileError, writeNewKeyFile } from "./log/signer.js";
import { parseOptions } from "../cli/args.js";
import type { Out } from "../cli/output.js";
import { dirname, join } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { createLogger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";


const SERVE_HELP = `Usage: ledger serve [options]

Options (each also an environment variable):
  --port <n>            PORT             listen port (default 8080)
  --host <addr>         HOST             listen address (default 127.0.0.1)
  --database-url <url>  DATABASE_URL     PostgreSQL URL; unset = embedded PGlite
  --data-dir <dir>      LEDGER_DATA_DIR  PGlite files and generated key (default ./data)
  --origin <name>       LEDGER_ORIGIN    log origin = key name (default: the key's name,
                                         or ${DEFAULT_ORIGIN} for a new key)
  --key-file <path>     LEDGER_KEY_FILE  signer key; default <data-dir>/log.key, created
                                         on first start
  LEDGER_VKEY_FILE      where the public verifier key is written at start
                        (default <data-dir>/log.vkey), for mirrors started beside the log
Records and writers:
  LEDGER_CORE_KEYS      break-glass core keys, <threshold>:<base64 key>,<base64 key>…
  LEDGER_WRITER_TOKENS  writers without the CLI, name:token:pattern[ pattern…][,…]
  LEDGER_WRITER_RATE    appends per second per writer (5000)
  LEDGER_GLOBAL_RATE    appends per second across all writers (20000; 0 = no limit)
Approval service (docs/approvals.md):
  LEDGER_PUBLIC_URL     where people reach /enroll and /approve/<id> (http://localhost:<port>)
  LEDGER_RP_ID          WebAuthn relying party (localhost)
  LEDGER_APPROVAL_TTL   how long a request stays open at most (72h)
  LEDGER_VAPID_KEY_FILE Web Push key (<data-dir>/vapid.json, created mode 0600)
  LEDGER_VAPID_SUBJECT  VAPID contact (mailto:ledger@<rp id>)
Witnesses:
  LEDGER_WITNESSES      <quorum>:<cosigner vkey>@<url>,…  (see docs/mirrors.md)
  LEDGER_WITNESS_INTERVAL_MS  how often the latest checkpoint is submitted (1000)
  LEDGER_PUSH_MIRRORS   <url>,…: witnesses (by URL) that are push mirrors (C2SP tlog-mirror):
                        the log uploads its entries to them
Tuning: BATCH_MAX_SIZE (1024), BATCH_MAX_AGE_MS (25), LEDGER_MAX_PENDING (20000),
        LEDGER_MAX_BODY_BYTES (65536), LEDGER_VERIFY_THREADS (signature threads:
        cores - 2, at most 4; 0 = on the main thread),
        LEDGER_CACHE_DIR (the embedded database's initdb template: ~/.cache/ledger; off = none)
Operations:
  LEDGER_LOG_LEVEL      JSON logs on stderr: fatal error warn info debug silent (info:
                        a line per request with its X-Request-Id)
  LEDGER_EXPLORER       on | off: the web explorer at / (on)
  GET /metrics          Prometheus metrics; GET /openapi.json the API description
`;

const KEYGEN_HELP = `Usage: ledger keygen --name <name> [--out <file>] [--json] [--cosigner [--alg ed25519|ml-dsa-44]]

Writes a new Ed25519 signer key (Go note format, mode 0600) to --out
(default ./log.key; never overwrites) and prints its verifier key (vkey).
For the log key the name must be the log's origin, e.g. example.com/ledger;
for a namespace key any label (no spaces or '+'). --json also prints the
base64 public key and the keyId that records use. --cosigner prints the
cosignature (type 0x04) vkey of a mirror's key, for LEDGER_WITNESSES and clients;
with --alg ml-dsa-44 the key is an ML-DSA-44 cosigner key (type 0x06 vkey).
`;

const FLAG_ENV: Record<string, string> = {
  port: "PORT",
  host: "HOST",
  "database-url": "DATABASE_URL",
  "data-dir": "LEDGER_DATA_DIR",
  origin: "LEDGER_ORIGIN",
  "key-file": "LEDGER_KEY_FILE",
};

/** A usage problem of a server command (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}


function parse(args: string[], options: Record<string, { type: "string" | "boolean" }>): Record<string, string | boolean | undefined> {
  return parseOptions(args, options);
}

function envWithFlags(values: Record<string, unknown>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [flag, name] of Object.entries(FLAG_ENV)) if (typeof values[flag] === "string") env[name] = values[flag] as string;
  return env;
}

async function serveCommand(args: string[], io: Out): Promise<number> {
  const values = parse(args, Object.fromEntries(Object.keys(FLAG_ENV).map((f) => [f, { type: "string" as const }])));
  if (values.help) return io.out(SERVE_HELP), 0;
  const config = loadConfig(envWithFlags(values));
  const logger = createLogger({ level: config.logLevel });
  const ledger = await createLedger(config, { logger, metrics: new Metrics({ processMetrics: true }), explorer: config.explorer });
  if (ledger.keyCreated) io.err(`ledger: created log key ${join(config.dataDir, "log.key")}\n`);
  // The public verifier key next to the data, for tools started beside the log (docker compose's mirror).
  const vkeyFile = config.vkeyFile ?? join(config.dataDir, "log.vkey");
  try {
    mkdirSync(dirname(vkeyFile), { recursive: true });
    writeFileSync(vkeyFile, ledger.signer.verifierKey + "\n");
  } catch (e) {
    logger.warn({ err: e }, `cannot write ${vkeyFile}`);
  }
  const { server, port } = await listen(ledger.app, config.host, config.port).catch(async (e) => {
    await ledger.close();
    throw new StartupError(`cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`);
  });
  io.err(`ledger: log ${ledger.origin}\nledger: vkey ${ledger.signer.verifierKey}\n`);
  io.err(`ledger: store ${ledger.store.kind}${ledger.store.kind === "pglite" ? ` in ${join(config.dataDir, "pglite")}` : ""}\n`);
  io.out(`ledger: listening on http://${config.host}:${port}\n`);
  logger.info({ origin: ledger.origin, vkey: ledger.signer.verifierKey, store: ledger.store.kind, address: `http://${config.host}:${port}` }, "serving");
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.err("ledger: shutting down\n");
      logger.info("shutting down");
      server.close();
      // Long-polls are answered by ledger.close(); then no connection may keep the process alive.
      ledger.close().finally(() => {
        server.closeAllConnections();
        logger.flush(() => resolve());
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}

function keygenCommand(args: string[], io: Out): number {
  const values = parse(args, { name: { type: "string" }, out: { type: "string" }, json: { type: "boolean" }, cosigner: { type: "boolean" }, alg: { type: "string" } });
  if (values.help) return io.out(KEYGEN_HELP), 0;
  const name = (values.name as string | undefined) ?? process.env.LEDGER_ORIGIN;
  if (!name) throw new UsageError("keygen needs --name <origin>");
  const out = (values.out as string | undefined) ?? "log.key";
  const alg = (values.alg as string | undefined) ?? "ed25519";
  if (alg !== "ed25519" && alg !== "ml-dsa-44") throw new UsageError("--alg must be ed25519 or ml-dsa-44");
  if (alg === "ml-dsa-44") {
    if (!values.cosigner) throw new UsageError("--alg ml-dsa-44 makes a cosigner key: add --cosigner (log and namespace keys are Ed25519)");
    const c = parseCosignerKey(writeNewKeyFile(out, name, "ml-dsa-44"));
    io.err(`ledger: wrote ${out} (mode 0600)\n`);
    const vkey = formatVerifierKey(c.name, c.sigType, c.publicKey);
    io.out((values.json ? JSON.stringify({ vkey, alg, file: out }) : vkey) + "\n");
    return 0;
  }
  const k = parseSignerKey(writeNewKeyFile(out, name));
  io.err(`ledger: wrote ${out} (mode 0600)\n`);
  // A mirror's or witness's key signs cosignatures (type 0x04): its vkey says so.
  const vkey = formatVerifierKey(k.name, values.cosigner ? SIG_TYPE_COSIGNATURE : SIG_TYPE_ED25519, k.publicKey);
  if (values.json) io.out(JSON.stringify({ vkey, publicKey: Buffer.from(k.publicKey).toString("base64"), keyId: keyIdOf(k.publicKey), file: out }) + "\n");
  else io.out(vkey + "\n");
  return 0;
}

async function migrateCommand(args: string[], io: Out): Promise<number> {
  const values = parse(args, { "database-url": { type: "string" }, "data-dir": { type: "string" } });
  if (values.help) return io.out(MIGRATE_HELP), 0;
  const config = loadConfig(envWithFlags(values));
  const { store, unlock } = await openLockedStore(config); // migrations run on open
  await store.close();
  unlock();
  io.err(`ledger: migrations applied (${store.kind})\n`);
  return 0;
}

const MIGRATE_HELP = `Usage: ledger migrate [--database-url <url>] [--data-dir <dir>]

Applies the database migrations and exits ('serve' also applies them at start).
Migrations only add; they are idempotent and safe to run again.

  --database-url <url>  DATABASE_URL     PostgreSQL; unset = embedded PGlite
  --data-dir <dir>      LEDGER_DATA_DIR  PGlite files (default ./data); must not be
                                         held by a running server
`;

const TOKEN_HELP = `Usage: ledger token <create|list|revoke> [options]

  create --name <registry> --namespaces <pattern> [--namespaces <pattern>…]
         prints a new writer token once (only its SHA-256 is stored);
         patterns are namespaces with * wildcards, e.g. 'npm:*' or 'npm:@swc'
  list   shows every token's name, namespaces and state (never the token)
  revoke --name <registry>
         revokes every token of that name (takes effect within 2 seconds)

The store is the server's: DATABASE_URL, or PGlite in LEDGER_DATA_DIR (./data),
which a running server holds: stop it first, or set LEDGER_WRITER_TOKENS.
`;

async function tokenCommand(args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "help") return io.out(TOKEN_HELP), 0;
  let values;
  try {
    values = parseArgs({
      args: rest,
      options: { name: { type: "string" }, namespaces: { type: "string", multiple: true }, "database-url": { type: "string" }, "data-dir": { type: "string" }, help: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return io.out(TOKEN_HELP), 0;
  if (!["create", "list", "revoke"].includes(sub)) throw new UsageError(`unknown token command ${JSON.stringify(sub)}; see 'ledger token --help'`);
  const name = values.name;
  if (sub !== "list" && (!name || !/^[A-Za-z0-9._-]{1,100}$/.test(name))) throw new UsageError("--name <registry> is required (letters, digits, . _ -)");
  const patterns = (values.namespaces ?? []).flatMap((p) => p.split(/[\s,|]+/)).filter(Boolean);
  if (sub === "create") {
    if (patterns.length === 0) throw new UsageError("--namespaces <pattern> is required, e.g. --namespaces 'npm:*'");
    for (const p of patterns) if (!NAMESPACE_PATTERN_RE.test(p)) throw new UsageError(`bad namespace pattern ${JSON.stringify(p)}`);
  }
  const config = loadConfig(envWithFlags(values as Record<string, unknown>));
  const { store, unlock } = await openLockedStore(config);
  try {
    if (sub === "create") {
      const token = newToken();
      await store.createToken({ name: name!, tokenHash: hashToken(token), namespaces: patterns });
      io.err(`ledger: token for ${name} on ${patterns.join(" ")}; it is shown once, keep it secret\n`);
      io.out(token + "\n");
    } else if (sub === "list") {
      for (const t of await store.listTokens()) {
        io.out(`${t.name}\t${t.namespaces.join(" ")}\t${t.createdAt.toISOString()}\t${t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : "active"}\n`);
      }
    } else {
      const n = await store.revokeToken(name!);
      io.err(`ledger: revoked ${n} token(s) of ${name}\n`);
      if (n === 0) return 1;
    }
    return 0;
  } finally {
    await store.close();
    unlock();
  }
}

const APPROVALS_HELP = `Usage: ledger approvals list [--state pending|approved|rejected|expired] [--limit N] [--json]

Lists the approval service's requests, newest first (state, release, times, the
outcome's log index) and, under each, its webhook deliveries (attempt, status or
error). The store is the server's, as for 'ledger token'.
`;

async function approvalsCommand(args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "help") return io.out(APPROVALS_HELP), 0;
  if (sub !== "list") throw new UsageError(`unknown approvals command ${JSON.stringify(sub)}; see 'ledger approvals --help'`);
  let values;
  try {
    values = parseArgs({
      args: rest,
      options: { state: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" }, "database-url": { type: "string" }, "data-dir": { type: "string" }, help: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return io.out(APPROVALS_HELP), 0;
  const state = values.state as RequestState | undefined;
  if (state !== undefined && !["pending", "approved", "rejected", "expired"].includes(state)) throw new UsageError("--state is pending, approved, rejected or expired");
  if (values.limit !== undefined && !/^\d{1,5}$/.test(values.limit)) throw new UsageError("--limit is a number");
  const config = loadConfig(envWithFlags(values as Record<string, unknown>));
  const { store, unlock } = await openLockedStore(config);
  try {
    const approvals = new ApprovalStore(store.db);
    const requests = await approvals.listRequests({ ...(state ? { state } : {}), limit: Number(values.limit ?? 100) });
    const rows = [];
    for (const r of requests) rows.push({ ...r, deliveries: r.callbackUrl ? await approvals.deliveries(r.id) : [] });
    if (values.json) {
      io.out(JSON.stringify(rows, (_k, x) => (typeof x === "bigint" ? x.toString() : x), 2) + "\n");
      return 0;
    }
    for (const r of rows) {
      const outcome = r.outcomeIndex !== null ? ` outcome@${r.outcomeIndex}` : "";
      // Fields from registries (package, version) are escaped one by one: the tabs between them stay tabs.
      const cols = [r.id, r.state, `${r.namespace} ${r.package}@${r.version}`, `opened ${r.createdAt.toISOString()}`, `${r.decidedAt ? `decided ${r.decidedAt.toISOString()}` : `expires ${r.expiresAt.toISOString()}`}${outcome}`];
      io.out(cols.map(escapeTerminal).join("\t") + "\n");
      for (const d of r.deliveries) io.out(escapeTerminal(`  webhook ${d.event} #${d.attempt} ${d.at.toISOString()} ${new URL(d.url).origin}: ${d.status ?? d.error}`) + "\n");
    }
    if (rows.length === 0) io.err("ledger: no approval requests\n");
    return 0;
  } finally {
    await store.close();
    unlock();
  }
}

export const SERVER_COMMANDS: Record<string, (args: string[], io: Out) => Promise<number> | number> = {
  approvals: approvalsCommand,
  serve: serveCommand,
  keygen: keygenCommand,
  migrate: migrateCommand,
  token: tokenCommand,
};
