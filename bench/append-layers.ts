/**
 * Where an append's main-thread CPU goes, layer by layer: each step of
 * POST /v1/records run on its own over the same pre-signed records (as the
 * bench's load sends them), timed with process.cpuUsage. The store's share
 * is the CPU of committing real batches of 1,024 into a fresh PostgreSQL
 * database (created from BENCH_DATABASE_URL or TEST_DATABASE_URL, dropped
 * after) or else PGlite, the database server's own CPU not included.
 * What the layers do not explain of the whole server's CPU per append
 * (`appendCpuMsPerEntry` from `npm run bench`) is HTTP parsing, Hono's
 * routing and Fetch adapter, the event loop and garbage collection.
 *
 *   npx tsx bench/append-layers.ts        # prints a table and one JSON object
 */
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { encodeBase64 } from "../client/bytes.js";
import { recordHash } from "../client/entry.js";
import { LogBuilder } from "../client/log-builder.js";
import { applyRecord, NamespaceState, verifySignatures } from "../client/replay.js";
import { RecordSchema, type LedgerRecord } from "../schema/records.js";
import { ed25519VerifyNode } from "../cli/node-ed25519.js";
import { loadConfig } from "../server/config.js";
import { createLedger } from "../server/ledger.js";
import { verifiedKey } from "../server/log/rules.js";
import { sequenceBatch } from "../server/log/sequence.js";
import { parseRecordBody } from "../server/routes/records.js";
import { makeKeys, makeReleases, signed } from "./load.js";
import { withBenchDatabase } from "./pg.js";

const N = Number(process.env.BENCH_LAYER_RECORDS ?? 20_000);

/** CPU ms per record of `fn` over every item (best of 3 rounds: the least disturbed). */
function perRecord<T>(items: T[], fn: (x: T, i: number) => void): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < items.length; i++) fn(items[i]!, i);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000 / items.length);
  }
  return best;
}

export async function appendLayers(n = N): Promise<{ layers: Array<{ layer: string; ms: number }>; totalMs: number }> {
  const keys = makeKeys();
  const bodies = makeReleases(keys, n);
  const parsedJson = bodies.map((b) => JSON.parse(b) as unknown);
  const records = bodies.map((b) => parseRecordBody(b));
  // The namespace states the records are checked against: each key registered in its namespace.
  const states = new Map<string, NamespaceState>();
  keys.forEach((k, i) => {
    const ns = new NamespaceState(`npm:@bench${i}`);
    applyRecord(ns, signed({ type: "key.register", namespace: ns.namespace, statement: { publicKey: k.pubB64, role: "publish" } }, k) as LedgerRecord, BigInt(i), { breakGlass: "refuse", verify: ed25519VerifyNode });
    states.set(ns.namespace, ns);
  });
  const opts = { breakGlass: "refuse" as const };
  const items = records.map((r) => {
    const out: Array<[Uint8Array, Uint8Array, Uint8Array]> = [];
    verifySignatures(states.get(r.namespace)!, r, { ...opts, verify: (p, m, s) => (out.push([p, m, s]), true) });
    return out;
  });
  const verified = items.map((its) => new Set(its.map(([p, m, s]) => verifiedKey(p, m, s))));
  const devNull = pino({ level: "info" }, pino.destination({ fd: openSync("/dev/null", "w"), sync: true }));

  const layers: Array<{ layer: string; ms: number }> = [];
  const add = (layer: string, ms: number) => layers.push({ layer, ms: Math.round(ms * 10_000) / 10_000 });
  add("JSON.parse of the body", perRecord(bodies, (b) => JSON.parse(b)));
  add("zod RecordSchema", perRecord(parsedJson, (j) => RecordSchema.parse(j)));
  add("size/canonical check (a trial formatEntry, JCS)", perRecord(bodies, (b, i) => void (parseRecordBody(b) && i)) - layers[0]!.ms - layers[1]!.ms);
  add("recordHash (JCS + SHA-256)", perRecord(records, (r) => recordHash(r)));
  add("request rules: keys and signing messages (JCS)", perRecord(records, (r) => verifySignatures(states.get(r.namespace)!, r, { ...opts, verify: () => true })));
  add("Ed25519 verify (node:crypto)", perRecord(items, (its) => its.forEach(([p, m, s]) => ed25519VerifyNode(p, m, s))));
  add("sequencer rules (on forks, verified set)", perRecord(records, (r, i) => applyRecord(states.get(r.namespace)!.fork(), r, BigInt(1_000 + i), { ...opts, verify: (p, m, s) => verified[i]!.has(verifiedKey(p, m, s)) })));
  add("entry: formatEntry (JCS), leaf hash, tree nodes", perRecord(records, (r) => new LogBuilder().appendRecord(r, "2026-12-04T00:00:00.000Z", () => {})));
  add("response JSON", perRecord(records, (_r, i) => JSON.stringify({ index: String(i), leafHash: encodeBase64(new Uint8Array(32)) })));
  add("request log line (pino, info)", perRecord(records, (r, i) => devNull.info({ reqId: "0b5c7e1e-2c1f-4f5e-9a57-2f3f0c1b9d00", method: "POST", path: "/v1/records", route: "/v1/records/", status: 201, ms: i % 100 }, "request")));

  // The store: real batches of 1,024 through the commit protocol (rules included, so they are subtracted).
  const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const commit = async (databaseUrl: string) => {
    const dir = mkdtempSync(join(tmpdir(), "ledger-layers-"));
    const ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, DATABASE_URL: databaseUrl, LEDGER_ORIGIN: "layers.example/log", LEDGER_WRITER_TOKENS: "" }), { log: () => {}, explorer: false });
    try {
      const reg = keys.map((k, i) => signed({ type: "key.register", namespace: `npm:@bench${i}`, statement: { publicKey: k.pubB64, role: "publish" } }, k) as LedgerRecord);
      await sequenceBatch(ledger.sequenceDeps, reg.map((record) => ({ record, recordHash: recordHash(record) })));
      const batches = Math.floor(Math.min(n, 10_240) / 1024);
      const c0 = process.cpuUsage();
      for (let b = 0; b < batches; b++) {
        const slice = records.slice(b * 1024, (b + 1) * 1024);
        await sequenceBatch(ledger.sequenceDeps, slice.map((record, i) => ({ record, recordHash: recordHash(record), verified: verified[b * 1024 + i] })));
      }
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1000 / (batches * 1024);
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const commitMs = adminUrl ? await withBenchDatabase(adminUrl, "layers", commit) : await commit("");
  const inside = ["sequencer rules", "entry:"].reduce((a, p) => a + layers.find((l) => l.layer.startsWith(p))!.ms, 0);
  add(`store: batch commit of 1,024 (${adminUrl ? "PostgreSQL, pg driver" : "PGlite, in process"}; the checkpoint signature included)`, Math.max(0, commitMs - inside));
  return { layers, totalMs: Math.round(layers.reduce((a, l) => a + l.ms, 0) * 10_000) / 10_000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await appendLayers();
  console.log("main-thread CPU per append, by layer (ms)");
  for (const l of r.layers) console.log(`${l.ms.toFixed(4).padStart(8)}  ${l.layer}`);
  console.log(`${r.totalMs.toFixed(4).padStart(8)}  sum of the layers`);
  console.log(JSON.stringify(r));
}
