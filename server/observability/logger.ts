/**
 * Structured JSON logs (pino): one line per event, written asynchronously to
 * stderr by the serving process. Nothing secret is logged: no headers, no
 * bodies, no query strings; the redact list guards fields a caller might
 * pass by mistake.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

// Top-level paths only: wildcard paths cost measurably on every request line.
const REDACT = ["authorization", "token", "headers"];

export function createLogger(opts: { level?: LogLevel; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? "info",
      base: { service: opts.name ?? "ledger", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** The logger of apps built without one (tests, tools): discards everything. */
export const silentLogger: Logger = pino({ level: "silent" });

/** Request IDs a client may choose: short and printable, so they are safe to log and echo. */
export const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
