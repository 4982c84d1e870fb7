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
const NOT_YET = ["LEDGER_CORE_KEYS", "LEDGER_WITNESSES", "LEDGER_WRITER_TOKENS"];

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
  const batchMaxAgeMs = int("BATCH_MAX_AGE_MS", 100, 0, 60_000);
  const maxPending = int("LEDGER_MAX_PENDING", 20_000, 1, 10_000_000);
  const maxBodyBytes = int("LEDGER_MAX_BODY_BYTES", 65_536, 1024, 1_048_576);

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push("DATABASE_URL: must be a postgres:// or postgresql:// URL");

  const origin = env.LEDGER_ORIGIN || undefined;
  if (origin !== undefined && (/[\s+]/u.test(origin) || origin.length > 255)) {
    problems.push(`LEDGER_ORIGIN=${JSON.stringify(origin)}: must be a key name without spaces or '+', at most 255 characters`);
  }
  for (const name of NOT_YET) if (env[name]) problems.push(`${name}: not supported by this version of the ledger`);

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
  });
}
