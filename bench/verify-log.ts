/**
 * `ledger verify-log` over N entries (BENCH_ENTRIES, default 100,000): seeds a
 * PGlite store through the commit protocol, serves it from a real server
 * process, and runs the real CLI audit against it over loopback.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLedger, startServer } from "../test/helpers/process.js";
import { seed } from "./seed.js";

const N = Number(process.env.BENCH_ENTRIES ?? 100_000);

export async function verifyLogBench(): Promise<{ entries: number; seconds: number; entriesPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), "ledger-verifylog-"));
  const env = { LEDGER_DATA_DIR: dir, LEDGER_ORIGIN: "bench.example/log", DATABASE_URL: "", LEDGER_WRITER_TOKENS: "" };
  try {
    const t0 = performance.now();
    await seed(env, N, (s) => process.stderr.write(`\r${s}`));
    process.stderr.write(`\nseeded ${N} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const server = await startServer(env);
    try {
      const vkey = (await (await fetch(`${server.url}/v1/log`)).json()).verifierKey;
      const r = await runLedger(["verify-log", "--server", server.url, "--log-key", vkey, "--json"]);
      if (r.code !== 0) throw new Error(`verify-log failed: ${r.stderr}`);
      const s = JSON.parse(r.stdout);
      return { entries: Number(s.treeSize), seconds: s.seconds, entriesPerSecond: s.entriesPerSecond };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await verifyLogBench();
  console.log(`verify-log audited ${r.entries} entries in ${r.seconds} s: ${r.entriesPerSecond} entries/s`);
  console.log(JSON.stringify(r));
}
