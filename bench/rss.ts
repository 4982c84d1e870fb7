/**
 * npm run bench:rss — server memory against log size. For each size in
 * BENCH_RSS_SIZES (default 10000,100000,1000000) a fresh PostgreSQL
 * database is seeded through the real commit protocol, `ledger serve` is
 * started on it, and driven for BENCH_RSS_SECONDS (10) with appends, random
 * inclusion proofs and random tiles at once; the server's peak (VmHWM) and
 * final (VmRSS) resident memory are read from /proc. Needs
 * BENCH_DATABASE_URL or TEST_DATABASE_URL.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { tilePath } from "../client/tiles.js";
import { startServer } from "../test/helpers/process.js";
import { httpClient, makeKeys, makeReleases, signed, NAMESPACES } from "./load.js";
import { seed } from "./seed.js";

const SIZES = (process.env.BENCH_RSS_SIZES ?? "10000,100000,1000000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_RSS_SECONDS ?? 10);
const TOKEN = "bench-writer-token-0123456789abcdef";

function rssMb(pid: number): { peak: number; now: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { peak: Math.round(kb("VmHWM") / 1024), now: Math.round(kb("VmRSS") / 1024) };
}

async function one(pgUrl: string, size: number) {
  const name = `ledger_rss_${process.pid}_${size}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(pgUrl);
  u.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), "ledger-rss-"));
  const env = { LEDGER_DATA_DIR: dir, DATABASE_URL: u.toString(), LEDGER_ORIGIN: "bench.example/log", LEDGER_WRITER_TOKENS: `bench:${TOKEN}:*`, LEDGER_WRITER_RATE: "1000000", LEDGER_GLOBAL_RATE: "0" };
  try {
    const t0 = performance.now();
    await seed(env, size, (s) => process.stderr.write(`\r${size}: ${s}   `));
    process.stderr.write(`\n${size}: seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    const server = await startServer(env);
    try {
      const pid = server.child.pid!;
      const atStart = rssMb(pid);
      const http = httpClient(server.url, 128);
      const keys = makeKeys();
      const auth = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
      for (const [i, k] of keys.entries()) {
        await http("POST", "/v1/records", JSON.stringify(signed({ type: "key.register", namespace: `npm:@bench${i}`, statement: { publicKey: k.pubB64, role: "publish" } }, k)), auth);
      }
      const releases = makeReleases(keys, SECONDS * 3000);
      const treeSize = BigInt(size + NAMESPACES);
      const rand = (n: bigint) => BigInt(Math.floor(Math.random() * Number(n)));
      const end = performance.now() + SECONDS * 1000;
      let seq = 0;
      const counts = { appends: 0, proofs: 0, tiles: 0 };
      await Promise.all([
        ...Array.from({ length: 64 }, async () => {
          while (performance.now() < end && seq < releases.length) if ((await http("POST", "/v1/records", releases[seq++]!, auth)).status === 201) counts.appends++;
        }),
        ...Array.from({ length: 32 }, async () => {
          while (performance.now() < end) if ((await http("GET", `/v1/proofs/inclusion?index=${rand(treeSize)}&treeSize=${treeSize}`)).status === 200) counts.proofs++;
        }),
        ...Array.from({ length: 32 }, async () => {
          while (performance.now() < end) if ((await http("GET", "/" + tilePath(0, rand(treeSize / 256n)))).status === 200) counts.tiles++;
        }),
      ]);
      const after = rssMb(pid);
      return { entries: size, rssAtStartMb: atStart.now, rssAfterLoadMb: after.now, peakRssMb: after.peak, ...counts, seconds: SECONDS };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!pgUrl) {
  console.error("bench:rss needs BENCH_DATABASE_URL or TEST_DATABASE_URL (PostgreSQL)");
  process.exit(2);
}
const rows = [];
for (const size of SIZES) rows.push(await one(pgUrl, size));
console.log("\nentries    RSS at start  RSS after load  peak RSS  (MB)   appends  proofs  tiles  in s");
for (const r of rows) {
  console.log(`${String(r.entries).padStart(8)} ${String(r.rssAtStartMb).padStart(13)} ${String(r.rssAfterLoadMb).padStart(15)} ${String(r.peakRssMb).padStart(9)}        ${String(r.appends).padStart(8)} ${String(r.proofs).padStart(7)} ${String(r.tiles).padStart(6)}  ${r.seconds}`);
}
for (const r of rows) console.log(JSON.stringify(r));
