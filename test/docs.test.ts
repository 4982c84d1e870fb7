/** The worked example in docs/records.md is real: its values verify and a server accepts the record. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeBase64, parseBase64, utf8 } from "../client/bytes.js";
import { ed25519PublicKey, ed25519Verify } from "../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { loadConfig } from "../server/config.js";
import { createLedger } from "../server/ledger.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";

const doc = readFileSync(join(import.meta.dirname, "../docs/records.md"), "utf8");

describe("docs/records.md worked example", () => {
  const record = JSON.parse(/```json\n([\s\S]*?)```/.exec(doc)![1]!);
  const message = JSON.parse(/signed bytes are \(as a JSON string\):\n\n```\n(.*)\n```/.exec(doc)![1]!);

  it("states the right key, keyId, signing bytes and signature", () => {
    const pub = ed25519PublicKey(new Uint8Array(32).fill(1));
    expect(record.statement.publicKey).toBe(encodeBase64(pub));
    expect(record.signatures[0].keyId).toBe(keyIdOf(pub));
    expect(doc).toContain(keyIdOf(pub));
    expect(new TextDecoder().decode(recordSigningMessage(record))).toBe(message);
    expect(ed25519Verify(pub, utf8(message), parseBase64(record.signatures[0].sig))).toBe(true);
  });

  it("is accepted by a server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ledger-docs-"));
    const ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1" }), { log: () => {} });
    try {
      const r = await postRecord(async (p, init) => ledger.app.request(p, init), record, "?wait=checkpoint");
      expect(r.status).toBe(201);
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
