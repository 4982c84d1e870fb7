/**
 * Several server processes on one PostgreSQL: each sequences under the
 * advisory lock, so exactly one commits at a time; appends to both at once
 * give one tree with unique indices; killing one leaves the other going,
 * with no fork.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bytesEqual, parseBase64 } from "../client/bytes.js";
import { LedgerClient } from "../client/ledger-client.js";
import { formatSignerKey } from "../client/note.js";
import { rootFromLeafHashes } from "../client/merkle-tree.js";
import { postRecord, TEST_WRITERS, type Fetch } from "./helpers/http.js";
import { startServer } from "./helpers/process.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { STORES } from "./helpers/stores.js";

const pg = STORES.find((s) => s.kind === "postgres");

describe.runIf(pg)("several server processes on one PostgreSQL", () => {
  it("share one tree, and survive the loss of one without a fork", { timeout: 120_000 }, async () => {
    const loc = await pg!.create();
    const dir = mkdtempSync(join(tmpdir(), "ledger-multi-"));
    writeFileSync(join(dir, "log.key"), formatSignerKey("multi.test/log", new Uint8Array(32).fill(9)), { mode: 0o600 });
    const env = (n: string) => ({ LEDGER_DATA_DIR: join(dir, n), DATABASE_URL: loc.databaseUrl, LEDGER_KEY_FILE: join(dir, "log.key"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "3", LEDGER_ORIGIN: "" });
    const a = await startServer(env("a"));
    const b = await startServer(env("b"));
    try {
      const via = (url: string): Fetch => (p, i) => fetch(url + p, i);
      const k = testKey(800);
      expect((await postRecord(via(a.url), registerKey("npm:@multi", k, "publish"))).status).toBe(201);
      let n = 0;
      const burst = (url: string, count: number) => Array.from({ length: count }, () => postRecord(via(url), signRelease("npm:@multi", k, "m", `1.0.${n++}`)));
      const results = await Promise.all([...burst(a.url, 150), ...burst(b.url, 150)]);
      expect(results.every((r) => r.status === 201)).toBe(true);
      const indices = results.map((r) => r.body.index);
      expect(new Set(indices).size).toBe(300);
      // Kill one in the middle of more load; the other keeps answering.
      // Handlers attach at once: requests to the killed process reject while it dies.
      const more = Promise.allSettled([...burst(a.url, 100), ...burst(b.url, 100)]);
      await new Promise((r) => setTimeout(r, 50));
      await a.stop("SIGKILL");
      const settled = await more;
      const fromB = settled.filter((s, i) => i >= 100 && s.status === "fulfilled" && s.value.status === 201);
      expect(fromB.length).toBe(100);
      // One tree: a client that verifies everything from B agrees with the entries' root.
      const client = new LedgerClient({ url: b.url, logKey: (await (await fetch(`${b.url}/v1/log`)).json()).verifierKey, breakGlass: "refuse" });
      const cp = await client.sync();
      expect(client.stats.refused).toBe(0);
      const page = await (await fetch(`${b.url}/v1/entries?start=0&limit=1000`)).json();
      expect(BigInt(page.entries.length)).toBe(cp.treeSize);
      expect(bytesEqual(rootFromLeafHashes(page.entries.map((e: { leafHash: string }) => parseBase64(e.leafHash))), cp.rootHash)).toBe(true);
      // A restarted process continues the same tree.
      const a2 = await startServer(env("a"));
      try {
        expect((await postRecord(via(a2.url), signRelease("npm:@multi", k, "m", "2.0.0"))).body.index).toBe(String(cp.treeSize));
      } finally {
        await a2.stop();
      }
    } finally {
      await a.stop();
      await b.stop();
      await loc.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
