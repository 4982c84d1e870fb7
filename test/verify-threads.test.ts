/** The append path with signatures verified on a thread gives the same answers and codes as in process. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeBase64, parseBase64 } from "../client/bytes.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";

describe.each(["1", "0"])("appends with LEDGER_VERIFY_THREADS=%s", (threads) => {
  const dirs: string[] = [];
  let ledger: Ledger;
  afterAll(async () => {
    await ledger?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("accepts good signatures and refuses bad ones with the same codes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ledger-vt-"));
    dirs.push(dir);
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1", LEDGER_VERIFY_THREADS: threads }));
    const req = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
    const k = testKey(700);
    expect((await postRecord(req, registerKey("npm:vt", k, "publish"))).status).toBe(201);
    const good = signRelease("npm:vt", k, "p", "1.0.0");
    const tampered = { ...good, statement: { ...good.statement, version: "1.0.1" } };
    const flipped = structuredClone(good);
    const sig = parseBase64((flipped.signatures[0] as { sig: string }).sig);
    sig[10]! ^= 4;
    (flipped.signatures[0] as { sig: string }).sig = encodeBase64(sig);
    const stranger = signRelease("npm:vt", testKey(701), "p", "1.0.2");
    const results = await Promise.all([good, tampered, flipped, stranger].map((r) => postRecord(req, r)));
    expect(results.map((r) => r.status)).toEqual([201, 422, 422, 422]);
    expect(results.slice(1).map((r) => r.body.error.code)).toEqual(["bad_signature", "bad_signature", "unknown_key"]);
    // A forged key.register (signature by the key, over another statement) is refused too.
    const reg = registerKey("npm:vt2", testKey(702), "admin");
    const forged = { ...reg, statement: { ...reg.statement, role: "publish" } };
    expect((await postRecord(req, forged)).body.error.code).toBe("bad_signature");
  });
});
