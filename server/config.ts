import { parseCoreKeys, type CoreKeys } from "../client/replay.js";
import { markPushMirrors, parseWitnesses, type WitnessConfig } from "./log/witnesses.js";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./observability/logger.js";
import { defaultVerifyThreads } from "../cli/verify-pool.js";

/**
 * Configuration from the environment (each also a `ledger serve` flag),
 * checked all at once: a bad value stops start-up with every problem named.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly origin: string | undefined;
  readonly keyFile: string | undefined;
  readonly batchMaxSize: number;
  readonly batchMaxAgeMs: number;
  readonly maxPending: number;
  readonly maxBodyBytes: number;
  /** Break-glass core keys; undefined = break-glass records are refused. */
  readonly coreKeys: CoreKeys | undefined;
  /** Writers configured in the environment (the CLI stores others in the database). */
  readonly writerTokens: readonly EnvWriter[];
  /** Appends per second per writer token (burst: one second's worth). */
  readonly writerRate: number;
  /** Appends per second across all writers (0 = no global limit). */
  readonly globalRate: number;
  /** Witnesses (mirrors) the log submits checkpoints to, with the quorum /checkpoint waits for. */
  readonly witnesses: WitnessConfig | undefined;
  readonly witnessIntervalMs: number;
  /** Level of the JSON logs on stderr (LEDGER_LOG_LEVEL, default info: a line per request). */
  readonly logLevel: LogLevel;
  /** Serve the web explorer at / (LEDGER_EXPLORER=off turns it off). */
  readonly explorer: boolean;
  /** Where `serve` writes the public verifier key (default <dataDir>/log.vkey). */
  readonly vkeyFile: string | undefined;
  /** Threads verifying append signatures (LEDGER_VERIFY_THREADS; default cores − 2, at most 4; 0 = in process). */
  readonly verifyThreads: number;
  /** The WebAuthn relying party of enrolments and approvals (LEDGER_RP_ID, default localhost). */
  readonly rpId: string;
  /** Where people reach this ledger's pages (LEDGER_PUBLIC_URL, default http://localhost:<port>). */
  readonly publicUrl: string;
  /** How long an approval request stays open at most (LEDGER_APPROVAL_TTL, default 72h). */
  readonly approvalTtlMs: number;
  /** The VAPID key pair's file (LEDGER_VAPID_KEY_FILE, default <dataDir>/vapid.json, created mode 0600). */
  readonly vapidKeyFile: string | undefined;
  /** The VAPID `sub` claim (LEDGER_VAPID_SUBJECT, default mailto:ledger@<rpId>). */
  readonly vapidSubject: string;
}

/** untrusted: `72h`, `30m`, `45s`, `3d` or plain seconds, as milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d{1,9})(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new Error("must be a duration like 72h, 30m, 45s, 3d or whole seconds");
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s"] * 1000;
  if (n < 1000 || n > 365 * 86400 * 1000) throw new Error("must be from 1 second to 365 days");
  return n;
}

const HOST_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export interface EnvWriter {
  name: string;
  token: string;
  namespaces: string[];
}

export const DEFAULT_ORIGIN = "localhost/ledger";

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Names a later version will accept; refused now rather than silently ignored. */
const NOT_YET: string[] = [];

export const NAMESPACE_PATTERN_RE = /^[a-z0-9*][a-z0-9*-]{0,31}:[A-Za-z0-9@._/*-]{1,200}$|^\*$/;

/** `name:token:pattern[ pattern…]`, writers separated by commas. Patterns may use `*`. */
export function parseWriterTokens(s: string): EnvWriter[] {
  return s
    .split(",")
    .map((w) => w.trim())
    .filter(Boolean)
    .map((w) => {
      const m = /^([A-Za-z0-9._-]{1,100}):([A-Za-z0-9._~+/=-]{16,256}):(.+)$/.exec(w);
      if (!m) throw new Error("each writer must be name:token:namespacePattern (token of 16+ characters)");
      const namespaces = m[3]!.split(/[\s|]+/).filter(Boolean);
      for (const p of namespaces) if (!NAMESPACE_PATTERN_RE.test(p)) throw new Error(`bad namespace pattern ${JSON.stringify(p)}`);
      return { name: m[1]!, token: m[2]!, namespaces };
    });
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = env[name];
    if (v === undefined || v === "") return def;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name}=${JSON.stringify(v)}: must be an integer from ${min} to ${max}`);
      return def;
    }
    return Number(v);
  };
  const port = int("PORT", 8080, 0, 65535);
  const batchMaxSize = int("BATCH_MAX_SIZE", 1024, 1, 100_000);
  // 25 ms: under a closed-loop load of 256 writers it measured ~10 % more appends/s than 100 ms at the
  // same checkpoint p99 (docs/performance.md, Round 2); a lone append waits at most this long.
  const batchMaxAgeMs = int("BATCH_MAX_AGE_MS", 25, 0, 60_000);
  const maxPending = int("LEDGER_MAX_PENDING", 20_000, 1, 10_000_000);
  const maxBodyBytes = int("LEDGER_MAX_BODY_BYTES", 65_536, 1024, 1_048_576);

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push("DATABASE_URL: must be a postgres:// or postgresql:// URL");

  const origin = env.LEDGER_ORIGIN || undefined;
  if (origin !== undefined && (/[\s+]/u.test(origin) || origin.length > 255)) {
    problems.push(`LEDGER_ORIGIN=${JSON.stringify(origin)}: must be a key name without spaces or '+', at most 255 characters`);
  }
  for (const name of NOT_YET) if (env[name]) problems.push(`${name}: not supported by this version of the ledger`);
  const writerRate = int("LEDGER_WRITER_RATE", 5000, 1, 1_000_000);
  const globalRate = int("LEDGER_GLOBAL_RATE", 20_000, 0, 10_000_000);
  const witnessIntervalMs = int("LEDGER_WITNESS_INTERVAL_MS", 1000, 10, 3_600_000);
  // Measured on 2 cores: a thread there competes with the main thread, the database and the load
  // (PGlite 1,139 -> 875 appends/s), so threads start from the third core.
  const verifyThreads = int("LEDGER_VERIFY_THREADS", defaultVerifyThreads(2), 0, 64);
  const logLevel = env.LEDGER_LOG_LEVEL || "info";
  if (!isLogLevel(logLevel)) problems.push(`LEDGER_LOG_LEVEL=${JSON.stringify(env.LEDGER_LOG_LEVEL)}: must be one of ${LOG_LEVELS.join(", ")}`);
  const explorerSetting = env.LEDGER_EXPLORER || "on";
  if (explorerSetting !== "on" && explorerSetting !== "off") problems.push(`LEDGER_EXPLORER=${JSON.stringify(explorerSetting)}: must be on or off`);
  /** A structured setting, parsed when set; a parse error is a problem named by the setting (never its value: some hold secrets). */
  const structured = <T>(name: string, parse: (v: string) => T): T | undefined => {
    const v = env[name];
    if (!v) return undefined;
    try {
      return parse(v);
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
      return undefined;
    }
  };
  let witnesses: WitnessConfig | undefined = structured("LEDGER_WITNESSES", parseWitnesses);
  const pushMirrors = structured("LEDGER_PUSH_MIRRORS", (v) => v.split(",").map((u) => u.trim().replace(/\/+$/, "")).filter(Boolean));
  if (pushMirrors && witnesses) {
    try {
      witnesses = markPushMirrors(witnesses, pushMirrors);
    } catch (e) {
      problems.push(`LEDGER_PUSH_MIRRORS: ${(e as Error).message}`);
    }
  } else if (pushMirrors && !env.LEDGER_WITNESSES) {
    problems.push("LEDGER_PUSH_MIRRORS: names witnesses of LEDGER_WITNESSES, which is not set");
  }
  const coreKeys: CoreKeys | undefined = structured("LEDGER_CORE_KEYS", parseCoreKeys);
  const writerTokens: EnvWriter[] = structured("LEDGER_WRITER_TOKENS", parseWriterTokens) ?? [];

  const rpId = env.LEDGER_RP_ID || "localhost";
  if (!HOST_RE.test(rpId)) problems.push(`LEDGER_RP_ID=${JSON.stringify(rpId)}: must be a lowercase host name`);
  const publicUrl = (env.LEDGER_PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, "");
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== "https:" && !(u.protocol === "http:" && (u.hostname === "localhost" || u.hostname === "127.0.0.1"))) throw new Error();
    if (u.hostname !== rpId && !u.hostname.endsWith("." + rpId) && rpId !== "localhost") problems.push(`LEDGER_PUBLIC_URL: its host must be LEDGER_RP_ID (${rpId}) or a subdomain of it`);
  } catch {
    problems.push(`LEDGER_PUBLIC_URL=${JSON.stringify(publicUrl)}: must be an https:// URL (http:// only for localhost)`);
  }
  const approvalTtlMs = structured("LEDGER_APPROVAL_TTL", parseDuration) ?? 72 * 3600 * 1000;
  const vapidSubject = env.LEDGER_VAPID_SUBJECT || `mailto:ledger@${rpId}`;
  if (!/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/.test(vapidSubject)) problems.push(`LEDGER_VAPID_SUBJECT=${JSON.stringify(vapidSubject)}: must be a mailto: address or an https:// URL`);

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port,
    host: env.HOST || "127.0.0.1",
    databaseUrl,
    dataDir: env.LEDGER_DATA_DIR || "./data",
    origin,
    keyFile: env.LEDGER_KEY_FILE || undefined,
    batchMaxSize,
    batchMaxAgeMs,
    maxPending,
    maxBodyBytes,
    coreKeys,
    writerTokens: Object.freeze(writerTokens),
    writerRate,
    globalRate,
    witnesses,
    witnessIntervalMs,
    logLevel: logLevel as LogLevel,
    explorer: explorerSetting !== "off",
    vkeyFile: env.LEDGER_VKEY_FILE || undefined,
    verifyThreads,
    rpId,
    publicUrl,
    approvalTtlMs,
    vapidKeyFile: env.LEDGER_VAPID_KEY_FILE || undefined,
    vapidSubject,
  });
}
