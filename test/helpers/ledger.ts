/**
 * A ledger on a store fixture for one describe block: created before its
 * tests, closed and its store dropped after. `fetch` goes to the app in
 * process; `listen()` also serves it on a loopback port (for the CLI).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type { LedgerRecord } from "../../schema/records.js";
import { loadConfig } from "../../server/config.js";
import { createLedger, type Ledger } from "../../server/ledger.js";
import { listen } from "../../server/listen.js";
import { recordHash } from "../../client/entry.js";
import { createRecordRules } from "../../server/log/rules.js";
import { sequenceBatch } from "../../server/log/sequence.js";
import { NamespaceCache } from "../../server/state/namespaces.js";
import { postRecord, TEST_WRITERS, type Fetch } from "./http.js";
import type { StoreFixture, StoreLocation } from "./stores.js";

export interface LedgerFixture {
  readonly ledger: Ledger;
  readonly fetch: Fetch;
  /** The server's URL once `serve: true` gave it a port. */
  readonly url: string;
  /** Posts a record and expects 201; returns its index. */
  ok(r: LedgerRecord | object): Promise<bigint>;
}

export function useLedger(fixture: StoreFixture, opts: { env?: Record<string, string>; log?: (line: string) => void; serve?: boolean } = {}): LedgerFixture {
  let loc: StoreLocation | undefined;
  let dir: string | undefined;
  let server: Server | undefined;
  const state = { ledger: undefined as Ledger | undefined, url: "" };
  beforeAll(async () => {
    loc = await fixture.create();
    dir = mkdtempSync(join(tmpdir(), "ledger-test-"));
    const env = { LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "2", ...(loc.databaseUrl ? { DATABASE_URL: loc.databaseUrl } : {}), ...opts.env };
    state.ledger = await createLedger(loadConfig(env), { log: opts.log ?? (() => {}) });
    if (opts.serve) {
      const l = await listen(state.ledger.app, "127.0.0.1", 0);
      server = l.server;
      state.url = `http://127.0.0.1:${l.port}`;
    }
  });
  afterAll(async () => {
    server?.close();
    await state.ledger?.close();
    await loc?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const fetch: Fetch = async (p, init) => state.ledger!.app.request(p, init);
  return {
    get ledger() {
      return state.ledger!;
    },
    get url() {
      return state.url;
    },
    fetch,
    async ok(r) {
      const res = await postRecord(fetch, r);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return BigInt(res.body.index);
    },
  };
}

/**
 * A misbehaving log: sequences `records` in one batch with rules that take
 * every signature as valid, so it logs what an honest log refuses.
 */
export async function sequenceUnchecked(ledger: Ledger, records: LedgerRecord[]): Promise<void> {
  const lax = createRecordRules(new NamespaceCache({ breakGlass: "refuse" }), { verify: () => true });
  await sequenceBatch({ ...ledger.sequenceDeps, rules: lax }, records.map((record) => ({ record, recordHash: recordHash(record) })));
}
