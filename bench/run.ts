/**
 * npm run bench: starts `ledger serve` as its own process on PGlite and on
 * PostgreSQL (when BENCH_DATABASE_URL or TEST_DATABASE_URL is set), drives it
 * over loopback from this process for a bounded time, and prints a table and
 * one JSON object per store. BENCH_SECONDS sets the append phase (default 20).
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { tilePath } from "../client/tiles.js";
import { encodeBase64 } from "../client/bytes.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { privateKeyFromSeed } from "../server/crypto.js";
import { startServer } from "../test/helpers/process.js";
import { replayBench } from "./replay.js";
import { httpClient, makeKeys, makeReleases, signed, NAMESPACES } from "./load.js";
import { auditBench } from "./mirror.js";
import { availableParallelism } from "node:os";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const TOKEN = "bench-writer-token-0123456789abcdef";

function ceiling() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const msg = Buffer.alloc(600, 7);
  const sig = sign(null, msg, privateKey);
  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    for (let i = 0; i < 100; i++) verify(null, msg, publicKey, sig);
    n += 100;
  }
  const ed25519VerifyPerSecond = Math.round(n / ((performance.now() - t0) / 1000));
  n = 0;
  t0 = performance.now();
  const leaf = Buffer.alloc(600, 1);
  while (performance.now() - t0 < 1000) {
    for (let i = 0; i < 1000; i++) createHash("sha256").update(leaf).digest();
    n += 1000;
  }
  return { ed25519VerifyPerSecond, sha256PerSecond: Math.round(n / ((performance.now() - t0) / 1000)) };
}

/** C2SP tile index path (x001/234) in Lua, for wrk scripts. */
const LUA_TILE_INDEX = `local function tileIndex(n) local s = string.format("%03d", n % 1000); n = math.floor(n / 1000); while n > 0 do s = string.format("x%03d/", n % 1000) .. s; n = math.floor(n / 1000) end return s end`;

function haveWrk(): boolean {
  return spawnSync("wrk", ["--version"], { encoding: "utf8" }).error === undefined;
}

/** Successful requests per second from wrk (64 connections, one thread) running `lua` for `seconds`. */
function wrk(url: string, seconds: number, lua: string): number {
  const script = join(mkdtempSync(join(tmpdir(), "ledger-wrk-")), "script.lua");
  writeFileSync(script, lua);
  const r = spawnSync("wrk", ["-t1", "-c64", `-d${seconds}s`, "-s", script, url], { encoding: "utf8" });
  rmSync(dirname(script), { recursive: true, force: true });
  const total = Number(/(\d+) requests in/.exec(r.stdout)?.[1] ?? NaN);
  const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0) + Number(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.stdout)?.slice(1).reduce((a, b) => a + Number(b), 0) ?? 0);
  const secs = Number(/requests in ([\d.]+)s/.exec(r.stdout)?.[1] ?? seconds);
  if (!Number.isFinite(total)) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  return Math.round((total - failed) / secs);
}

/** CPU time (user + system, all threads) a process has used, in ms, from /proc/<pid>/stat. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

async function runStore(store: "pglite" | "postgres", releases: string[], databaseUrl?: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "ledger-bench-"));
  const nodeArgs = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const server = await startServer(
    { LEDGER_DATA_DIR: dataDir, DATABASE_URL: databaseUrl ?? "", LEDGER_ORIGIN: "bench.example/log", LEDGER_MAX_PENDING: "100000", LEDGER_WRITER_TOKENS: `bench:${TOKEN}:*`, LEDGER_WRITER_RATE: "1000000", LEDGER_GLOBAL_RATE: "0", LEDGER_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info" },
    30_000,
    nodeArgs,
  );
  const url = server.url;
  const keys = makeKeys();
  const http = httpClient(url, CONCURRENCY);
  const auth = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
  try {
    for (const [i, k] of keys.entries()) {
      const r = await http("POST", "/v1/records", JSON.stringify(signed({ type: "key.register", namespace: `npm:@bench${i}`, statement: { publicKey: k.pubB64, role: "publish" } }, k)), auth);
      if (r.status !== 201) throw new Error(`register failed: ${r.status}`);
    }
    // Append phase: realistic release.sign records (~650 bytes), 64 namespaces, signed in advance.
    let seq = 0;
    const latencies: number[] = [];
    const checkpointLatencies: number[] = [];
    let ok = 0;
    let refused = 0;
    const deadline = performance.now() + SECONDS * 1000;
    const cpu0 = processCpuMs(server.child.pid!);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline && seq < releases.length) {
          const n = seq++;
          const wait = n % 10 === 0;
          const r = await http("POST", wait ? "/v1/records?wait=checkpoint" : "/v1/records", releases[n]!, auth);
          if (r.status === 201) {
            ok++;
            (wait ? checkpointLatencies : latencies).push(r.ms);
          } else refused++;
        }
      }),
    );
    const appendSeconds = (performance.now() - t0) / 1000;
    // The server process's CPU (all its threads) per append, from /proc: what the per-layer table (bench/append-layers.ts) breaks down.
    const appendCpuMsPerEntry = Math.round(((processCpuMs(server.child.pid!) - cpu0) / Math.max(ok, 1)) * 1000) / 1000;
    if (seq >= releases.length) console.error(`bench: all ${releases.length} prepared records were sent before the deadline; raise BENCH_RECORDS`);
    latencies.sort((a, b) => a - b);
    checkpointLatencies.sort((a, b) => a - b);
    const treeSize = BigInt(((await (await fetch(`${url}/v1/log`)).json()) as { treeSize: string }).treeSize);

    /** Runs `next()` requests from 64 concurrent readers for `ms`; returns successful reads per second. */
    const readPhase = async (ms: number, next: () => string): Promise<number> => {
      let reads = 0;
      const end = performance.now() + ms;
      const r0 = performance.now();
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (performance.now() < end) if ((await http("GET", next())).status === 200) reads++;
        }),
      );
      return Math.round(reads / ((performance.now() - r0) / 1000));
    };
    const rand = (n: bigint) => BigInt(Math.floor(Math.random() * Number(n)));
    // Read phases: random inclusion proofs, then random full hash tiles and entry bundles. With wrk
    // on the machine (a C load generator, Debian package wrk) the reads are driven by it, so the
    // load generator takes less of the two cores the server shares; otherwise by node:http.
    const fullTiles = treeSize / 256n;
    let readsPerSecond: number;
    let tileReadsPerSecond: number;
    let readLoad = "node:http";
    const skipReads = (process.env.BENCH_SKIP ?? "").split(",").includes("reads");
    if (skipReads) {
      readsPerSecond = tileReadsPerSecond = 0;
    } else if (haveWrk() && process.env.BENCH_WRK !== "0") {
      readLoad = "wrk";
      readsPerSecond = wrk(url, 5, `request = function() return wrk.format("GET", "/v1/proofs/inclusion?index=" .. math.random(0, ${treeSize - 1n}) .. "&treeSize=${treeSize}") end`);
      tileReadsPerSecond = fullTiles > 0n ? wrk(url, 3, `${LUA_TILE_INDEX}\nrequest = function() local n = math.random(0, ${fullTiles - 1n}); if math.random() < 0.5 then return wrk.format("GET", "/tile/0/" .. tileIndex(n)) else return wrk.format("GET", "/tile/entries/" .. tileIndex(n)) end end`) : 0;
    } else {
      readsPerSecond = await readPhase(5000, () => `/v1/proofs/inclusion?index=${rand(treeSize)}&treeSize=${treeSize}`);
      tileReadsPerSecond = fullTiles > 0n ? await readPhase(3000, () => "/" + (Math.random() < 0.5 ? tilePath(0, rand(fullTiles)) : tilePath("entries", rand(fullTiles)))) : 0;
    }
    const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
    const serverPeakRssMb = Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    return {
      store,
      appendsPerSecond: Math.round(ok / appendSeconds),
      appendCpuMsPerEntry,
      appendLatencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
      checkpointLatencyMs: { p50: pct(checkpointLatencies, 50), p99: pct(checkpointLatencies, 99) },
      readsPerSecond,
      tileReadsPerSecond,
      readLoad,
      mirrorEntriesPerSecond: 0, // filled in by main() from the mirror run
      serverPeakRssMb,
      treeSize: Number(treeSize),
      refused,
      concurrency: CONCURRENCY,
      seconds: SECONDS,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const hw = ceiling();
  // BENCH_SKIP=replay,mirror (and reads, postgres) leaves those out while iterating.
  const skip = new Set((process.env.BENCH_SKIP ?? "").split(","));
  const replay = skip.has("replay") ? { records: 0, replayRecordsPerSecond: 0, replayNobleRecordsPerSecond: 0, replayRulesOnlyRecordsPerSecond: 0, replayPasskeyMixRecordsPerSecond: 0, passkeyMixOutcomes: 0 } : replayBench();
  // Mirror catch-up (PGlite, and PostgreSQL when there is one) and verify-log over one seeded log.
  const pgAdmin = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const audit = skip.has("mirror") ? undefined : await auditBench(Number(process.env.BENCH_MIRROR_ENTRIES ?? 100_000), skip.has("postgres") ? undefined : pgAdmin);
  const mirror = audit?.mirrors[0] ?? { entries: 0, seconds: 0, mirrorEntriesPerSecond: 0 };
  const keys = makeKeys();
  const releases = makeReleases(keys, Number(process.env.BENCH_RECORDS ?? SECONDS * 6000));
  const results: Array<Awaited<ReturnType<typeof runStore>>> = [];
  const stores = (process.env.BENCH_STORES ?? "pglite,postgres").split(",");
  if (stores.includes("pglite")) results.push(await runStore("pglite", releases));
  const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (pgUrl && stores.includes("postgres")) {
    const name = `ledger_bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const u = new URL(pgUrl);
    u.pathname = `/${name}`;
    try {
      results.push(await runStore("postgres", releases, u.toString()));
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
  console.log(`\nreads driven by ${results[0]?.readLoad ?? "-"}`);
  console.log("store     appends/s  p50 ms  p99 ms  ckpt p99 ms  proofs/s  tiles/s  peak RSS MB  entries");
  for (const r of results) {
    console.log(
      `${r.store.padEnd(9)} ${String(r.appendsPerSecond).padStart(9)} ${String(r.appendLatencyMs.p50).padStart(7)} ${String(r.appendLatencyMs.p99).padStart(7)} ${String(r.checkpointLatencyMs.p99).padStart(12)} ${String(r.readsPerSecond).padStart(9)} ${String(r.tileReadsPerSecond).padStart(8)} ${String(r.serverPeakRssMb).padStart(12)} ${String(r.treeSize).padStart(8)}`,
    );
  }
  for (const r of results) r.mirrorEntriesPerSecond = mirror.mirrorEntriesPerSecond;
  const cores = availableParallelism();
  const ceilingAll = cores * hw.ed25519VerifyPerSecond; // anything that verifies every record's signature: every core verifying
  const ratio = (x: number, of: number) => Math.round((x / of) * 1000) / 1000;
  for (const m of audit?.mirrors ?? []) {
    console.log(`mirror (${m.store}): caught up ${m.entries} entries in ${m.seconds} s (${m.mirrorEntriesPerSecond}/s, process start included) = ${ratio(m.mirrorEntriesPerSecond, ceilingAll)} of ${cores} cores x the verify ceiling (target 0.6)`);
  }
  if (audit) console.log(`verify-log: audited ${audit.verifyLog.entries} entries in ${audit.verifyLog.seconds} s (${audit.verifyLog.entriesPerSecond}/s) = ${ratio(audit.verifyLog.entriesPerSecond, ceilingAll)} of ${cores} cores x the verify ceiling (target 0.6)`);
  for (const r of results) console.log(`appends (${r.store}): ${r.appendsPerSecond}/s = ${ratio(r.appendsPerSecond, hw.ed25519VerifyPerSecond)} of one core's verify ceiling (target 0.3); server CPU ${r.appendCpuMsPerEntry} ms per append`);
  console.log(`replay: ${replay.records} records at ${replay.replayRecordsPerSecond}/s (node:crypto), ${replay.replayNobleRecordsPerSecond}/s (noble), rules alone ${replay.replayRulesOnlyRecordsPerSecond}/s; with 20% passkey outcomes ${replay.replayPasskeyMixRecordsPerSecond}/s`);
  console.log(`ceiling: ed25519 verify ${hw.ed25519VerifyPerSecond}/s, sha256 ${hw.sha256PerSecond}/s per core`);
  // One JSON object ends the output (DESIGN): the PostgreSQL figures when measured, else PGlite's,
  // with every store's figures under `stores`.
  const withRatios = results.map((r) => ({ ...r, ratioToVerifyCeiling: ratio(r.appendsPerSecond, hw.ed25519VerifyPerSecond) }));
  const primary = withRatios.find((r) => r.store === "postgres") ?? withRatios[0];
  const mirrorPrimary = audit?.mirrors.find((m) => m.store === "postgres") ?? audit?.mirrors[0];
  console.log(
    JSON.stringify({
      ...primary,
      replayRecordsPerSecond: replay.replayRecordsPerSecond,
      mirrorEntriesPerSecond: mirrorPrimary?.mirrorEntriesPerSecond ?? 0,
      mirrorRatioToCeiling: mirrorPrimary ? ratio(mirrorPrimary.mirrorEntriesPerSecond, ceilingAll) : 0,
      mirrors: audit?.mirrors.map((m) => ({ ...m, ratioToCeiling: ratio(m.mirrorEntriesPerSecond, ceilingAll) })) ?? [],
      verifyLogEntriesPerSecond: audit?.verifyLog.entriesPerSecond ?? 0,
      verifyLogRatioToCeiling: audit ? ratio(audit.verifyLog.entriesPerSecond, ceilingAll) : 0,
      ceiling: { ...hw, cores },
      stores: withRatios,
    }),
  );
}

await main();
