import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createWriterAuth, hashToken, namespaceMatches } from "./auth.js";
import { ApiError } from "./errors.js";
import type { WriterToken } from "./store/store.js";

function app(opts: { rate?: number; global?: number; tokens?: WriterToken[]; now?: () => number }) {
  const lookups: string[] = [];
  const store = {
    findToken: async (h: string) => {
      lookups.push(h);
      return opts.tokens?.find((t) => t.tokenHash === h);
    },
  };
  const a = new Hono<{ Variables: { writer: { name: string } } }>();
  a.onError((e, c) => c.json({ code: (e as ApiError).code }, (e as ApiError).status, e instanceof ApiError && e.retryAfter ? { "Retry-After": String(e.retryAfter) } : {}));
  a.post("/", createWriterAuth({ store, envWriters: [{ name: "env", token: "env-token-0123456789", namespaces: ["npm:*"] }], ratePerSecond: opts.rate ?? 100, globalRatePerSecond: opts.global, now: opts.now }), (c) => c.json({ writer: c.get("writer").name }));
  const call = (token?: string) => a.request("/", { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { call, lookups };
}

const dbToken = (token: string, revoked = false): WriterToken => ({ id: 1, name: "db", tokenHash: hashToken(token), namespaces: ["pypi:*"], createdAt: new Date(0), revokedAt: revoked ? new Date(0) : null });

describe("writer auth", () => {
  it("accepts environment and database tokens, refuses others with 401", async () => {
    const { call } = app({ tokens: [dbToken("db-token-0123456789"), { ...dbToken("old-token-0123456789", true), id: 2 }] });
    expect(await (await call("env-token-0123456789")).json()).toEqual({ writer: "env" });
    expect(await (await call("db-token-0123456789")).json()).toEqual({ writer: "db" });
    for (const t of [undefined, "nope", "old-token-0123456789"]) {
      const r = await call(t);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    const basic = await app({}).call();
    expect(basic.status).toBe(401);
  });

  it("rate limits per writer with 429 and Retry-After, refilling over time", async () => {
    let t = 0;
    const { call } = app({ rate: 2, now: () => t });
    expect((await call("env-token-0123456789")).status).toBe(200);
    expect((await call("env-token-0123456789")).status).toBe(200);
    const limited = await call("env-token-0123456789");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    t = 600;
    expect((await call("env-token-0123456789")).status).toBe(200);
  });

  it("limits all writers together with the global rate", async () => {
    const t = 0;
    const { call } = app({ rate: 100, global: 2, tokens: [dbToken("db-token-0123456789")], now: () => t });
    expect((await call("env-token-0123456789")).status).toBe(200);
    expect((await call("db-token-0123456789")).status).toBe(200);
    const limited = await call("env-token-0123456789");
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ code: "rate_limited" });
  });

  it("caches database lookups briefly, so revocation takes effect within the cache time", async () => {
    let t = 0;
    const tokens = [dbToken("db-token-0123456789")];
    const { call, lookups } = app({ tokens, now: () => t });
    await call("db-token-0123456789");
    await call("db-token-0123456789");
    expect(lookups).toHaveLength(1);
    tokens[0] = { ...tokens[0]!, revokedAt: new Date() };
    t = 2500;
    expect((await call("db-token-0123456789")).status).toBe(401);
  });

  it.each([
    ["npm:*", "npm:@swc", true],
    ["npm:@swc", "npm:@swc", true],
    ["npm:@swc", "npm:@swc2", false],
    ["npm:@swc*", "npm:@swc-plugins", true],
    ["npm:*", "pypi:requests", false],
    ["*", "composer:phpunit", true],
    ["npm:a.b", "npm:aXb", false],
  ])("pattern %s matches %s: %s", (p, ns, want) => {
    expect(namespaceMatches(p, ns)).toBe(want);
  });
});
