/**
 * Mirror catch-up and the full audit: seeds a log with N entries
 * (BENCH_ENTRIES, default 100,000), serves it from a real process, then
 * times `ledger mirror` as another process until it has verified, stored and
 * cosigned them all — on PGlite, and on PostgreSQL when an admin URL is
 * given (BENCH_DATABASE_URL / TEST_DATABASE_URL; a fresh database, dropped
 * after) — and `ledger verify-log` auditing the same log.
 */
import { join } from "node:path";
import { freePort, runLedger, startLedger } from "../test/helpers/process.js";
import { withBenchDatabase } from "./pg.js";
import { withSeededLog } from "./seed.js";

const N = Number(process.env.BENCH_ENTRIES ?? 100_000);

export interface MirrorRun {
  store: "pglite" | "postgres";
  entries: number;
  seconds: number;
  mirrorEntriesPerSecond: number;
}

async function catchUp(log: { url: string; vkey: string; dir: string }, n: number, store: MirrorRun["store"], databaseUrl?: string): Promise<MirrorRun> {
  const t0 = performance.now();
  const nodeArgs = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const db = databaseUrl ? ["--database-url", databaseUrl] : [];
  const m = await startLedger(["mirror", "--source", log.url, "--log-key", log.vkey, "--port", String(await freePort()), "--data-dir", join(log.dir, `mirror-${store}`), "--interval", "50", ...db], { LEDGER_LOG_LEVEL: "warn" }, 30_000, nodeArgs);
  try {
    if (process.env.BENCH_VERBOSE) process.stderr.write(`mirror (${store}) up after ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    for (;;) {
      const size = await fetch(`${m.url}/v1/log`).then(async (r) => Number((await r.json()).treeSize), () => NaN); // a reset connection: ask again
      if (process.env.BENCH_VERBOSE) process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${size}\n`);
      if (size >= n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    return { store, entries: n, seconds: Math.round(seconds * 10) / 10, mirrorEntriesPerSecond: Math.round(n / seconds) };
  } finally {
    await m.stop();
  }
}

/** `ledger verify-log` against a served log, with the real CLI (BENCH_PROFILE_DIR profiles it). */
export async function verifyLog(log: { url: string; vkey: string }): Promise<{ entries: number; seconds: number; entriesPerSecond: number }> {
  const nodeArgs = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const r = await runLedger(["verify-log", "--server", log.url, "--log-key", log.vkey, "--json"], {}, nodeArgs);
  if (r.code !== 0) throw new Error(`verify-log failed (${r.code}): ${r.stdout} ${r.stderr}`);
  const s = JSON.parse(r.stdout);
  return { entries: Number(s.treeSize), seconds: s.seconds, entriesPerSecond: s.entriesPerSecond };
}

/** One seeded log: mirror catch-up on PGlite (and PostgreSQL with `pgAdminUrl`), then verify-log. */
export async function auditBench(n = N, pgAdminUrl?: string): Promise<{ mirrors: MirrorRun[]; verifyLog: { entries: number; seconds: number; entriesPerSecond: number } }> {
  return withSeededLog(n, "auditbench", async (log) => {
    const mirrors = [await catchUp(log, n, "pglite")];
    if (pgAdminUrl) mirrors.push(await withBenchDatabase(pgAdminUrl, "mirror", (url) => catchUp(log, n, "postgres", url)));
    return { mirrors, verifyLog: await verifyLog(log) };
  });
}

/** Mirror catch-up alone (PGlite, or the PostgreSQL database BENCH_MIRROR_DATABASE_URL names). */
export async function mirrorBench(n = N): Promise<MirrorRun> {
  return withSeededLog(n, "mirrorbench", (log) => catchUp(log, n, process.env.BENCH_MIRROR_DATABASE_URL ? "postgres" : "pglite", process.env.BENCH_MIRROR_DATABASE_URL));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await mirrorBench();
  console.log(`mirror caught up ${r.entries} entries in ${r.seconds} s: ${r.mirrorEntriesPerSecond} entries/s (process start included)`);
  console.log(JSON.stringify(r));
}
