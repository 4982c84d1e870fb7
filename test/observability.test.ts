/**
 * Metrics, structured logs and request IDs, in process: what an operator's
 * Prometheus and log pipeline would see after real appends, refusals, rate
 * limits, an unreachable witness and an unexpected error.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ed25519PublicKey } from "../client/ed25519.js";
import { formatVerifierKey, SIG_TYPE_COSIGNATURE } from "../client/note.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { createLogger } from "../server/observability/logger.js";
import { Metrics } from "../server/observability/metrics.js";
import { postRecord, TEST_TOKEN, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";

/** The value of one sample in the exposition text, or undefined. */
function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("metrics, logs and request IDs", () => {
  let dir: string;
  let ledger: Ledger;
  const lines: Array<Record<string, any>> = [];
  const raw: string[] = [];
  const witnessVkey = formatVerifierKey("witness.test", SIG_TYPE_COSIGNATURE, ed25519PublicKey(new Uint8Array(32).fill(5)));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-obs-"));
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split("\n").filter(Boolean)) {
          raw.push(l);
          lines.push(JSON.parse(l));
        }
        done();
      },
    });
    ledger = await createLedger(
      loadConfig({
        LEDGER_DATA_DIR: dir,
        LEDGER_WRITER_TOKENS: TEST_WRITERS,
        BATCH_MAX_AGE_MS: "1",
        LEDGER_WRITER_RATE: "40",
        // A witness nobody answers for: the log keeps serving, the metrics say so.
        LEDGER_WITNESSES: `1:${witnessVkey}@http://127.0.0.1:9`,
        LEDGER_WITNESS_INTERVAL_MS: "20",
      }),
      { logger: createLogger({ level: "info", destination: sink }), metrics: new Metrics() },
    );
  });

  afterAll(async () => {
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const metrics = async () => (await ledger.app.request("/metrics")).text();
  const req = async (path: string, init?: RequestInit) => ledger.app.request(path, init);

  it("counts appends by outcome, batch sizes, latencies and the tree size", async () => {
    const admin = testKey(500);
    const publish = testKey(501);
    expect((await postRecord(req, registerKey("npm:obs", admin))).status).toBe(201);
    expect((await postRecord(req, registerKey("npm:obs", publish, "publish", admin))).status).toBe(201);
    const releases = Array.from({ length: 10 }, (_, i) => signRelease("npm:obs", publish, "p", `1.0.${i}`));
    const results = await Promise.all(releases.map((r) => postRecord(req, r)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect((await postRecord(req, releases[0])).status).toBe(200); // duplicate
    const m = await metrics();
    expect(sample(m, "ledger_appends_total", 'outcome="logged"')).toBe(12);
    expect(sample(m, "ledger_appends_total", 'outcome="duplicate"')).toBe(1);
    expect(sample(m, "ledger_tree_size")).toBe(12);
    expect(sample(m, "ledger_checkpoint_latency_seconds_count")).toBe(13);
    expect(sample(m, "ledger_batch_size_sum")).toBe(13);
    const batches = sample(m, "ledger_batch_size_count")!;
    expect(batches).toBeGreaterThanOrEqual(3);
    expect(sample(m, "ledger_sequencing_seconds_count")).toBe(batches);
    expect(sample(m, "ledger_signing")).toBe(1);
    expect(m).toContain("# TYPE ledger_checkpoint_latency_seconds histogram");
  });

  it("counts errors by code and rate-limit refusals", async () => {
    const before = await metrics();
    const unknown = await postRecord(req, signRelease("npm:nobody", testKey(502), "p", "1"));
    expect(unknown.status).toBe(422);
    expect((await ledger.app.request("/v1/entries/999999")).status).toBe(404);
    // 40 per second with a burst of 40: 60 at once must hit the limit.
    const burst = await Promise.all(Array.from({ length: 60 }, () => postRecord(req, "{}")));
    const limited = burst.filter((r) => r.status === 429).length;
    expect(limited).toBeGreaterThan(0);
    const after = await metrics();
    const delta = (name: string, labels: string) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(delta("ledger_errors_total", `code="${unknown.body.error.code}"`)).toBe(1);
    expect(delta("ledger_errors_total", 'code="not_found"')).toBe(1);
    expect(delta("ledger_errors_total", 'code="rate_limited"')).toBe(limited);
    expect(delta("ledger_rate_limited_total", 'scope="writer"')).toBe(limited);
    expect(delta("ledger_http_requests_total", 'method="GET",route="/v1/entries/:index",status="404"')).toBe(1);
  });

  it("reports an unreachable witness", async () => {
    let m = "";
    for (let i = 0; i < 100 && !(sample(m, "ledger_witness_failures_total", 'witness="witness.test"')! >= 1); i++) {
      await new Promise((r) => setTimeout(r, 20));
      m = await metrics();
    }
    expect(sample(m, "ledger_witness_failures_total", 'witness="witness.test"')).toBeGreaterThanOrEqual(1);
    expect(sample(m, "ledger_witness_cosigned_tree_size", 'witness="witness.test"')).toBe(-1);
    expect(lines.some((l) => l.level === "warn" && /witness witness.test/.test(l.msg))).toBe(true);
  });

  it("gives every request an ID, echoes a safe one, logs a line per request without secrets", async () => {
    const given = await ledger.app.request("/v1/log", { headers: { "x-request-id": "trace-42.a:b" } });
    expect(given.headers.get("x-request-id")).toBe("trace-42.a:b");
    for (const bad of ["has spaces", "x".repeat(65), "nl\u0001"]) {
      const res = await ledger.app.request("/v1/log", { headers: { "x-request-id": bad } });
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
    const secret = "Bearer very-secret-token-value-123456";
    const denied = await ledger.app.request("/v1/records", { method: "POST", headers: { authorization: secret, "content-type": "application/json" }, body: '{"secret":"body"}' });
    expect(denied.status).toBe(401);
    const id = denied.headers.get("x-request-id")!;
    const line = lines.find((l) => l.reqId === id);
    expect(line).toMatchObject({ level: "info", msg: "request", method: "POST", path: "/v1/records", route: "/v1/records", status: 401, code: "unauthorized", service: "ledger" });
    expect(typeof line!.ms).toBe("number");
    expect(typeof line!.time).toBe("string");
    for (const l of raw) {
      expect(l).not.toContain("very-secret-token");
      expect(l).not.toContain(TEST_TOKEN);
      expect(l).not.toContain('"secret"');
    }
    expect(lines.find((l) => l.reqId === "trace-42.a:b")).toMatchObject({ route: "/v1/log", status: 200 });
  });

  it("logs an unexpected error with the request ID and answers 500 without detail", async () => {
    const original = ledger.store.getEntry.bind(ledger.store);
    ledger.store.getEntry = async () => {
      throw new Error("disk on fire");
    };
    try {
      const res = await ledger.app.request("/v1/entries/0");
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).not.toContain("disk on fire");
      const id = res.headers.get("x-request-id");
      const err = lines.find((l) => l.reqId === id && l.level === "error");
      expect(err).toMatchObject({ msg: "unexpected error", path: "/v1/entries/0" });
      expect(err!.err.message).toBe("disk on fire");
      expect(lines.find((l) => l.reqId === id && l.msg === "request failed")).toMatchObject({ level: "warn", status: 500, code: "internal" });
    } finally {
      ledger.store.getEntry = original;
    }
  });
});
