/**
 * Hostile input over the HTTP API (fast-check, in process): malformed JSON,
 * deep nesting, huge numbers, non-canonical encodings, unicode tricks, wrong
 * types, bad base64, oversized bodies, signature malleability, small-order
 * keys, replayed and cross-namespace signatures, bad auth. Every request is
 * answered with a 4xx and a code, the server stays up, and nothing is written.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64, parseBase64 } from "../client/bytes.js";
import type { LedgerRecord } from "../schema/records.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { postRecord, TEST_TOKEN, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRecord, signRelease, testKey } from "./helpers/records.js";

const RUNS = process.env.LEDGER_LONG ? 20_000 : 600;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const owner = testKey(700);
const other = testKey(701);
const NS = "npm:@fuzz";

function malleate(sig: string): string {
  const b = parseBase64(sig);
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(b[32 + i]!);
  s += L;
  for (let i = 0; i < 32; i++, s >>= 8n) b[32 + i] = Number(s & 0xffn);
  return encodeBase64(b);
}

const weird = fc.oneof(
  fc.constantFrom(1e308, -0, 2 ** 53 + 1, -1, 0.5, 1e-300, Number.MAX_SAFE_INTEGER),
  fc.constantFrom("npm:@fuzz\u202e", "npm:@fu\u200bzz", "npm:@fuzz\u0000", "NPM:@fuzz", "npm:@fuzz ", "\ud800", "ａｄｍｉｎ", "admin\u0000", ""),
  fc.constantFrom("AB==", "AAA", "A===", "=AAA", "AA==\n", "AA AA", "AAAA".repeat(40_000)),
  fc.constantFrom(null, true, [], {}, [[[[[]]]]], { __proto__: { role: "admin" } }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
);

/** A valid record of this namespace, then one damage. */
const damaged = fc.tuple(fc.constantFrom("type", "namespace", "statement", "signatures", "statement.version", "statement.artifacts", "statement.package", "signatures.0.sig", "signatures.0.keyId", "extra"), weird, fc.nat(1000)).map(([path, v, n]) => {
  const r: any = JSON.parse(JSON.stringify(signRelease(NS, owner, "fuzz", `9.9.${n}`)));
  const parts = path.split(".");
  let t = r;
  for (const p of parts.slice(0, -1)) t = t[p];
  t[parts.at(-1)!] = v;
  return JSON.stringify(r);
});

/** Well-formed records that break a signature rule. */
const crafted = fc.nat(1000).map((n) => {
  const good = signRelease(NS, owner, "crafted", `8.8.${n}`) as LedgerRecord;
  const elsewhere = signRelease("npm:@other", owner, "crafted", `8.8.${n}`);
  const identity = encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)));
  const trivialSig = encodeBase64(Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0)));
  const choices = [
    { ...good, signatures: [{ ...good.signatures[0]!, sig: malleate((good.signatures[0] as { sig: string }).sig) }] }, // non-canonical S
    { ...good, statement: { ...good.statement, version: `8.8.${n + 1}` } }, // replayed onto another version
    { ...good, namespace: "npm:@other", signatures: elsewhere.signatures }, // cross-namespace
    { ...good, signatures: [{ keyId: other.keyId, sig: (good.signatures[0] as { sig: string }).sig }] }, // another key's name on it
    { type: "key.register", namespace: NS, statement: { publicKey: identity, role: "admin" }, signatures: [{ keyId: "a".repeat(64), sig: trivialSig }] }, // small-order key
    signRecord({ type: "key.register", namespace: NS, statement: { publicKey: other.publicKeyB64, role: "admin" } } as never, other), // no admin signature
  ];
  return JSON.stringify(choices[n % choices.length]);
});

const bodies = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc.nat(200_000).map((d) => "[".repeat(d) + "]".repeat(d)),
  fc.constantFrom("{", "}", "null", '{"type":"release.sign"}', '{"a":1,"a":2}', "\ufeff{}", "{}".padEnd(70_000, " ")),
  damaged,
  crafted,
);

/** Mostly well-formed envelopes, so most cases reach the record checks. */
const mostly = <T>(good: T, bad: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(good), weight: 9 }, { arbitrary: bad, weight: 1 });
const requests = fc.record({
  body: bodies,
  auth: mostly(`Bearer ${TEST_TOKEN}`, fc.constantFrom("", "Bearer", "Basic abc", `Bearer ${TEST_TOKEN} extra`, `bearer ${TEST_TOKEN}x`)),
  type: mostly("application/json", fc.constantFrom("application/json; charset=utf-8", "text/plain", "", "application/x-www-form-urlencoded")),
  query: mostly("", fc.constantFrom("?wait=checkpoint", "?wait=%00", "?wait=checkpoint&wait=checkpoint")),
});

describe("hostile input", () => {
  let dir: string;
  let ledger: Ledger;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-fuzz-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), { log: () => {} });
    const fetch = async (p: string, i?: RequestInit) => ledger.app.request(p, i);
    expect((await postRecord(fetch, registerKey(NS, owner, "publish"))).status).toBe(201);
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${RUNS} hostile requests with 4xx and a code, and writes nothing`, { timeout: 600_000 }, async () => {
    const before = (await ledger.store.latestCheckpoint())!.treeSize;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const headers: Record<string, string> = {};
        if (r.auth) headers.authorization = r.auth;
        if (r.type) headers["content-type"] = r.type;
        const res = await ledger.app.request(`/v1/records${r.query}`, { method: "POST", headers, body: r.body });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        const body = await res.json();
        expect(typeof body.error.code).toBe("string");
        expect(body.error.message).not.toMatch(/\n\s+at |TypeError|ReferenceError/);
        expect(JSON.stringify(body)).not.toContain(TEST_TOKEN);
      }),
      { numRuns: RUNS, seed: process.env.LEDGER_LONG ? undefined : 7 },
    );
    expect((await ledger.store.latestCheckpoint())!.treeSize).toBe(before);
    expect((await ledger.app.request("/healthz")).status).toBe(200);
    console.log(`[fuzz] ${RUNS} hostile requests, 0 accepted; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  it("GET routes survive hostile parameters", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/v1/entries/", "/v1/entries?start=", "/v1/proofs/inclusion?index=", "/v1/proofs/inclusion?leafHash=", "/v1/proofs/consistency?size1=1&size2=", "/tile/0/", "/tile/entries/", "/v1/namespaces/", "/v1/releases/npm:@fuzz/"),
        fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("-1", "1e3", "18446744073709551616", "99999999999999999999999", "x001/000", "000.p/0", "%00", "..%2f..%2f", "0x10")),
        async (path, v) => {
          const res = await ledger.app.request(path + encodeURIComponent(v).replaceAll("%2F", "/"));
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });
});
