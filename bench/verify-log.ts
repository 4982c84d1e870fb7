/**
 * `ledger verify-log` over N entries (BENCH_ENTRIES, default 100,000): seeds a
 * PGlite store through the commit protocol, serves it from a real server
 * process, and runs the real CLI audit against it over loopback.
 */
import { verifyLog } from "./mirror.js";
import { withSeededLog } from "./seed.js";

const N = Number(process.env.BENCH_ENTRIES ?? 100_000);

export async function verifyLogBench(): Promise<{ entries: number; seconds: number; entriesPerSecond: number }> {
  return withSeededLog(N, "verifylog", verifyLog);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await verifyLogBench();
  console.log(`verify-log audited ${r.entries} entries in ${r.seconds} s: ${r.entriesPerSecond} entries/s`);
  console.log(JSON.stringify(r));
}
