/** The worked example in docs/records.md is real: its values verify and a server accepts the record. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeBase64, parseBase64, utf8 } from "../client/bytes.js";
import { ed25519PublicKey, ed25519Verify } from "../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { WebAuthnError } from "../client/errors.js";
import { verifyWebAuthn, webauthnChallenge } from "../client/webauthn.js";
import { loadConfig } from "../server/config.js";
import { createLedger } from "../server/ledger.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";

const doc = readFileSync(join(import.meta.dirname, "../docs/records.md"), "utf8");

describe("docs/records.md worked example", () => {
  const record = JSON.parse(/the record to post is:\n\n```json\n([\s\S]*?)```/.exec(doc)![1]!);
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

describe("docs/records.md passkey example", () => {
  const [statement, approval] = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].slice(0, 2).map((m) => JSON.parse(m[1]!));
  const message = JSON.parse(/To approve\n`@swc\/core@1.0.0` requested by the owner, M is \(as a JSON string\)\n\n```\n(.*)\n```/.exec(doc)![1]!);

  it("states the right keyId, message and challenge, and the approval verifies", () => {
    const spki = parseBase64(statement.publicKey);
    expect(approval.keyId).toBe(keyIdOf(spki));
    expect(doc).toContain(`its keyId is \`${keyIdOf(spki)}\``);
    expect(doc).toContain(webauthnChallenge(utf8(message)));
    const key = { spki, passkey: statement.webauthn };
    expect(verifyWebAuthn(key, utf8(message), approval.webauthn, { requireUserVerification: true })).toEqual({ userVerified: true });
    expect(() => verifyWebAuthn(key, utf8(message.replace("1.0.0", "1.0.1")), approval.webauthn, { requireUserVerification: true })).toThrow(WebAuthnError);
  });
});
