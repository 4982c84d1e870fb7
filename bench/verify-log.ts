/**
 * `ledger verify-log` over N entries (BENCH_ENTRIES, default 100,000): seeds a
 * PGlite store through the commit protocol, serves it from a real server
 * process, and runs the real CLI audit against it over loopback.
 */
import { runLedger } from "../test/helpers/process.js";
import { withSeededLog } from "./seed.js";

const N = Number(process.env.BENCH_ENTRIES ?? 100_000);

export async function verifyLogBench(): Promise<{ entries: number; seconds: number; entriesPerSecond: number }> {
  return withSeededLog(N, "verifylog", async ({ url, vkey }) => {
    const nodeArgs = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const r = await runLedger(["verify-log", "--server", url, "--log-key", vkey, "--json"], {}, nodeArgs);
    if (r.code !== 0) throw new Error(`verify-log failed (${r.code}): ${r.stdout} ${r.stderr}`);
    const s = JSON.parse(r.stdout);
    return { entries: Number(s.treeSize), seconds: s.seconds, entriesPerSecond: s.entriesPerSecond };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await verifyLogBench();
  console.log(`verify-log audited ${r.entries} entries in ${r.seconds} s: ${r.entriesPerSecond} entries/s`);
  console.log(JSON.stringify(r));
}
