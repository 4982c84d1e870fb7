/** Sequencer behaviour under failure: pushback, a failing store, a broken invariant. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { recordHash } from "../../client/entry.js";
import { sha256 } from "../../client/hash.js";
import { registerKey, signRelease, testKey } from "../../test/helpers/records.js";
import { loadConfig } from "../config.js";
import { createLedger, type Ledger } from "../ledger.js";
import { sequenceBatch } from "./sequence.js";

let ledger: Ledger | undefined;
let dir: string | undefined;
afterEach(async () => {
  await ledger?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  ledger = dir = undefined;
});

async function start(env: Record<string, string> = {}): Promise<Ledger> {
  dir = mkdtempSync(join(tmpdir(), "ledger-seq-"));
  ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: `test:${TOKEN}:*`, ...env }), { log: () => {} });
  return ledger;
}

const TOKEN = "sequencer-test-token-0123456789";
const post = (l: Ledger, body: unknown) =>
  l.app.request("/v1/records", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });

describe("sequencer", () => {
  it("pushes back with 503 and Retry-After when the pool is full, and writes nothing for it", async () => {
    const l = await start({ LEDGER_MAX_PENDING: "1", BATCH_MAX_AGE_MS: "300" });
    const k = testKey(30);
    const first = post(l, registerKey("npm:push", k));
    const second = await post(l, registerKey("npm:push", testKey(31)));
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("1");
    expect((await second.json()).error.code).toBe("overloaded");
    expect((await first).status).toBe(201);
    expect((await l.store.latestCheckpoint())!.treeSize).toBe(1n);
  });

  it("answers 503 store_failed when the transaction fails, and nothing is written", async () => {
    const l = await start({ BATCH_MAX_AGE_MS: "1" });
    const real = l.store.sequence.bind(l.store);
    l.store.sequence = (fn) =>
      real(async (tx) => {
        await fn(tx); // every write of the batch happens, then the commit fails
        throw new Error("connection lost");
      });
    const res = await post(l, registerKey("npm:fail", testKey(32)));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("store_failed");
    expect((await l.store.latestCheckpoint())!.treeSize).toBe(0n);
    expect(await l.store.getEntry(0n)).toBeUndefined();
    l.store.sequence = real;
    expect((await post(l, registerKey("npm:fail", testKey(32)))).status).toBe(201);
  });

  it.each([
    ["a checkpoint whose root the stored nodes do not give", true],
    ["a checkpoint with no stored nodes behind it", false],
  ])("stops signing on %s: 503 not_signing, /healthz fails with the reason", async (_name, withNode) => {
    const l = await start({ BATCH_MAX_AGE_MS: "1" });
    const k = testKey(33);
    expect((await post(l, registerKey("npm:inv", k, "publish"))).status).toBe(201);
    // Corrupt the stored state behind the sequencer's back (the append-only
    // triggers allow INSERT): a checkpoint that stored nodes cannot back.
    await l.store.sequence(async (tx) => {
      if (withNode) await tx.insertNodes([{ level: 0, index: 1n, hash: sha256(new Uint8Array([1])) }]);
      await tx.insertCheckpoint({ treeSize: withNode ? 2n : 5n, rootHash: sha256(new Uint8Array([2])), note: "bogus" });
    });
    const res = await post(l, signRelease("npm:inv", k, "p", "1.0.0"));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("not_signing");
    const health = await l.app.request("/healthz");
    expect(health.status).toBe(503);
    expect((await health.json()).reason).toMatch(/stopped signing/);
    const later = await post(l, signRelease("npm:inv", k, "p", "1.0.1"));
    expect((await later.json()).error.code).toBe("not_signing");
  });

  it("sequences records identical within one batch once", async () => {
    const l = await start();
    const r = registerKey("npm:dup", testKey(34));
    const deps = { store: l.store, signer: l.signer, origin: l.origin, now: () => new Date(), rules: () => ({ begin: async () => {}, check: async () => {}, committed: () => {}, rollback: () => {} }) };
    const { outcomes } = await sequenceBatch(deps, [r, r].map((record) => ({ record, recordHash: recordHash(record) })));
    expect(outcomes).toMatchObject([{ ok: true, index: 0n, duplicate: false }, { ok: true, index: 0n, duplicate: true }]);
  });
});
