/**
 * Writer authentication: bearer tokens of registries, stored as SHA-256
 * hashes, scoped to namespace patterns, revocable, rate limited per token.
 * Tokens never appear in logs or error messages.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { EnvWriter } from "./config.js";
import { ApiError } from "./errors.js";
import type { Store } from "./store/store.js";

export interface Writer {
  name: string;
  namespaces: string[];
  /** Hex SHA-256 of the writer's token: the key its webhooks are signed with (HMAC-SHA256). */
  tokenHash?: string;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function newToken(): string {
  return "ldg_" + randomBytes(32).toString("base64url");
}

/** `*` matches any run of characters; everything else matches itself. */
export function namespaceMatches(pattern: string, namespace: string): boolean {
  const re = new RegExp("^" + pattern.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
  return re.test(namespace);
}

export function checkScope(writer: Writer, namespace: string): void {
  if (!writer.namespaces.some((p) => namespaceMatches(p, namespace))) {
    throw new ApiError("forbidden", `writer ${writer.name} may not write to ${namespace}`);
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface WriterAuthOptions {
  store: Pick<Store, "findToken">;
  envWriters: readonly EnvWriter[];
  ratePerSecond: number;
  /** Appends per second across all writers together (default: unlimited). */
  globalRatePerSecond?: number;
  now?: () => number;
  /** How long a database lookup is trusted (revocation takes effect within this). */
  cacheMs?: number;
  /** Called when a rate limit refuses an append (scope: "writer" or "global"). */
  onRateLimited?: (scope: "writer" | "global") => void;
}

export function createWriterAuth(opts: WriterAuthOptions) {
  const now = opts.now ?? (() => performance.now());
  const cacheMs = opts.cacheMs ?? 2000;
  const env = opts.envWriters.map((w) => ({ writer: { name: w.name, namespaces: w.namespaces }, hash: Buffer.from(hashToken(w.token), "hex") }));
  const cache = new Map<string, { writer: Writer | undefined; at: number }>();
  const buckets = new Map<string, Bucket>();

  async function lookup(token: string): Promise<Writer | undefined> {
    const hashHex = hashToken(token);
    const hash = Buffer.from(hashHex, "hex");
    let found: Writer | undefined;
    for (const e of env) if (timingSafeEqual(e.hash, hash)) found = e.writer; // no early exit
    if (found) return { ...found, tokenHash: hashHex };
    const c = cache.get(hashHex);
    if (c && now() - c.at < cacheMs) return c.writer;
    const t = await opts.store.findToken(hashHex);
    const writer = t && t.revokedAt === null ? { name: t.name, namespaces: t.namespaces, tokenHash: hashHex } : undefined;
    if (cache.size > 10_000) cache.clear();
    cache.set(hashHex, { writer, at: now() });
    return writer;
  }

  /** Token bucket per key: `rate` per second, a burst of one second's worth. */
  function take(key: string, rate: number, what: string, scope: "writer" | "global"): void {
    const t = now();
    const b = buckets.get(key) ?? { tokens: rate, at: t };
    b.tokens = Math.min(rate, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) {
      opts.onRateLimited?.(scope);
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / rate));
      throw new ApiError("rate_limited", `${what} is over its rate of ${rate} appends per second`, { retryAfter: wait });
    }
    b.tokens -= 1;
  }

  const middleware: MiddlewareHandler<{ Variables: { writer: Writer } }> = async function requireWriter(c, next) {
    const header = c.req.header("authorization");
    const m = header ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
    if (!m) {
      c.header("WWW-Authenticate", 'Bearer realm="ledger"');
      throw new ApiError("unauthorized", "a writer token is required: Authorization: Bearer <token>");
    }
    const writer = await lookup(m[1]!);
    if (!writer) {
      c.header("WWW-Authenticate", 'Bearer realm="ledger", error="invalid_token"');
      throw new ApiError("unauthorized", "the writer token is unknown or revoked");
    }
    if (opts.globalRatePerSecond) take("\0all", opts.globalRatePerSecond, "the ledger", "global");
    take(writer.name, opts.ratePerSecond, `writer ${writer.name}`, "writer");
    c.set("writer", writer);
    await next();
  };
  return middleware;
}
