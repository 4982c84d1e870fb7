/**
 * Mirror catch-up: seeds a log with N entries (BENCH_ENTRIES, default
 * 100,000), serves it from a real process, starts `ledger mirror` as another
 * process and times it until it has verified, stored and cosigned them all.
 */
import { join } from "node:path";
import { freePort, startLedger } from "../test/helpers/process.js";
import { withSeededLog } from "./seed.js";

const N = Number(process.env.BENCH_ENTRIES ?? 100_000);

export async function mirrorBench(n = N): Promise<{ entries: number; seconds: number; mirrorEntriesPerSecond: number }> {
  return withSeededLog(n, "mirrorbench", async (log) => {
    const t0 = performance.now();
    const nodeArgs = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    // BENCH_MIRROR_DATABASE_URL: the mirror stores into that (empty) PostgreSQL database instead of PGlite.
    const db = process.env.BENCH_MIRROR_DATABASE_URL ? ["--database-url", process.env.BENCH_MIRROR_DATABASE_URL] : [];
    const m = await startLedger(["mirror", "--source", log.url, "--log-key", log.vkey, "--port", String(await freePort()), "--data-dir", join(log.dir, "mirror"), "--interval", "50", ...db], { LEDGER_LOG_LEVEL: "warn" }, 30_000, nodeArgs);
    try {
      for (;;) {
        const size = Number((await (await fetch(`${m.url}/v1/log`)).json()).treeSize);
        if (size >= n) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = (performance.now() - t0) / 1000;
      return { entries: n, seconds: Math.round(seconds * 10) / 10, mirrorEntriesPerSecond: Math.round(n / seconds) };
    } finally {
      await m.stop();
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await mirrorBench();
  console.log(`mirror caught up ${r.entries} entries in ${r.seconds} s: ${r.mirrorEntriesPerSecond} entries/s (process start included)`);
  console.log(JSON.stringify(r));
}
