/** In-process append cost (no HTTP client, no network): appends/s and server CPU per append. DB=postgres://… or PGlite. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../server/config.js";
import { createLedger } from "../server/ledger.js";
import { registerKey, signRelease, testKey } from "../test/helpers/records.js";
const dir = mkdtempSync(join(tmpdir(), "pc-"));
const l = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, DATABASE_URL: process.env.DB, LEDGER_WRITER_TOKENS: "t:token-0123456789abcdef:*", BATCH_MAX_AGE_MS: "20" }), { log: () => {} });
const k = testKey(1);
const post = async (r: unknown) => l.app.request("/v1/records", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer token-0123456789abcdef" }, body: JSON.stringify(r) });
await post(registerKey("npm:@p", k, "publish"));
const N = 5000;
const recs = Array.from({ length: N }, (_, i) => signRelease("npm:@p", k, "p", `1.0.${i}`));
const cpu0 = process.cpuUsage(); const t0 = performance.now();
let inflight = 0; let i = 0;
await new Promise<void>((resolve) => {
  const next = () => { while (inflight < 512 && i < N) { inflight++; post(recs[i++]).then(() => { inflight--; if (i >= N && inflight === 0) resolve(); else next(); }); } };
  next();
});
const wall = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
console.log(`${N} appends in ${wall.toFixed(2)} s = ${(N / wall).toFixed(0)}/s; cpu ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms per append`);
await l.close();
