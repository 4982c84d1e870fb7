/**
 * Fault injection at every write step of the commit protocol (Sunlight
 * style): a step fails before it runs ("failed and not persisted") or after
 * ("failed but persisted", which inside one transaction only COMMIT can
 * be). After each fault the whole log is re-verified from scratch and the
 * same record is submitted again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesEqual } from "../client/bytes.js";
import { openCheckpoint } from "../client/checkpoint.js";
import { ZERO_HASH, entryLeafHash, parseEntry } from "../client/entry.js";
import { rootFromLeafHashes } from "../client/merkle-tree.js";
import { createVerifier } from "../client/note.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import type { SequencerTx } from "../server/store/store.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

const STEPS = ["lock", "latestCheckpoint", "readNodes", "findRecords", "insertEntries", "insertNodes", "insertCheckpoint"] as const;

describe.each(STORES)("faults in the commit protocol: $kind", (fixture) => {
  let loc: StoreLocation;
  let dir: string;
  let ledger: Ledger;
  let fault: { step: string; when: "before" | "after" | "commit" } | undefined;
  const k = testKey(900);
  let n = 0;
  const post = (r: unknown) => postRecord(async (p, i) => ledger.app.request(p, i), r);

  beforeAll(async () => {
    loc = await fixture.create();
    dir = mkdtempSync(join(tmpdir(), "ledger-faults-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, DATABASE_URL: loc.databaseUrl, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), { log: () => {} });
    const real = ledger.store.sequence.bind(ledger.store);
    ledger.store.sequence = async (fn) => {
      const result = await real((tx) =>
        fn(
          new Proxy(tx, {
            get(target, prop, receiver) {
              const v = Reflect.get(target, prop, receiver);
              if (typeof v !== "function" || !fault || fault.step !== prop) return v;
              return async (...args: unknown[]) => {
                if (fault!.when === "before") throw new Error(`injected fault before ${String(prop)}`);
                const out = await (v as (...a: unknown[]) => unknown).apply(target, args);
                throw new Error(`injected fault after ${String(prop)}`);
                return out;
              };
            },
          }) as SequencerTx,
        ),
      );
      if (fault?.when === "commit") throw new Error("injected fault after COMMIT: durable, but the caller is told it failed");
      return result;
    };
    expect((await post(registerKey("npm:@faults", k, "publish"))).status).toBe(201);
  });
  afterAll(async () => {
    await ledger?.close();
    await loc?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Re-verifies everything from the stored entries: chain, indices, root, signed checkpoint. */
  async function verifyLog(): Promise<bigint> {
    const cp = (await ledger.store.latestCheckpoint())!;
    const signed = openCheckpoint(cp.note, { origin: ledger.origin, logVerifier: createVerifier(ledger.signer.verifierKey) });
    expect(signed.treeSize).toBe(cp.treeSize);
    const entries = await ledger.store.getEntries(0n, 100_000);
    expect(BigInt(entries.length)).toBe(cp.treeSize);
    expect(await ledger.store.entryCount()).toBe(cp.treeSize);
    let prev: Uint8Array = ZERO_HASH;
    entries.forEach((e, i) => {
      const parsed = parseEntry(e.entry);
      expect(parsed.index).toBe(BigInt(i));
      expect(bytesEqual(parsed.prev, prev)).toBe(true);
      prev = entryLeafHash(e.entry);
      expect(bytesEqual(prev, e.leafHash)).toBe(true);
    });
    expect(bytesEqual(rootFromLeafHashes(entries.map((e) => e.leafHash)), cp.rootHash)).toBe(true);
    return cp.treeSize;
  }

  const cases = [...STEPS.flatMap((step) => (["before", "after"] as const).map((when) => ({ step, when }))), { step: "commit", when: "commit" as const }];
  it.each(cases)("$when $step: nothing half-written, the log verifies, the retry lands once", async ({ step, when }) => {
    const size = await verifyLog();
    const record = signRelease("npm:@faults", k, "f", `1.0.${n++}`);
    fault = { step, when };
    const failed = await post(record);
    fault = undefined;
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("store_failed");
    const afterFault = await verifyLog();
    expect(afterFault).toBe(when === "commit" ? size + 1n : size); // only a fault after COMMIT leaves the batch persisted
    const retry = await post(record);
    expect(retry.status).toBe(when === "commit" ? 200 : 201); // the persisted one is found as a duplicate
    expect(retry.body.index).toBe(String(size));
    expect(await verifyLog()).toBe(size + 1n);
  });
});
