/**
 * End to end over HTTP, in process (app.request), on every store: concurrent
 * appends, then every inclusion and consistency proof verified with client/
 * from HTTP responses alone; bad input refused with codes and nothing written;
 * restart continues the same tree with the same key.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesEqual, encodeBase64, parseBase64 } from "../client/bytes.js";
import { parseCheckpoint } from "../client/checkpoint.js";
import { ZERO_HASH, entryLeafHash, parseEntry } from "../client/entry.js";
import { verifyConsistency, verifyInclusion } from "../client/merkle-verify.js";
import { openNote, createVerifier } from "../client/note.js";
import * as api from "../schema/api.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { fetchCheckpoint, getJson, postRecord, TEST_TOKEN, TEST_WRITERS, type Fetch } from "./helpers/http.js";
import { registerKey, signRecord, signRelease, testKey } from "./helpers/records.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

describe.each(STORES)("end to end over HTTP: $kind", (fixture) => {
  let loc: StoreLocation;
  let dataDir: string;
  let ledger: Ledger;
  let fetch: Fetch;
  let origin: string;
  let vkey: string;
  const checkpoints = new Map<bigint, string>();
  const acknowledged = new Map<string, bigint>();
  const ns = "npm:@e2e";
  const owner = testKey(10);

  const start = async () => {
    const config = loadConfig({ LEDGER_DATA_DIR: dataDir, DATABASE_URL: loc.databaseUrl, LEDGER_ORIGIN: "e2e.example/log", BATCH_MAX_AGE_MS: "5", BATCH_MAX_SIZE: "64", LEDGER_WRITER_TOKENS: `${TEST_WRITERS},scoped:scoped-token-0123456789abcdef:npm:@e2e-other` });
    ledger = await createLedger(config, { log: () => {} });
    fetch = async (path, init) => ledger.app.request(path, init);
  };

  beforeAll(async () => {
    loc = await fixture.create();
    dataDir = mkdtempSync(join(tmpdir(), "ledger-e2e-"));
    await start();
    const info = await getJson(fetch, "/v1/log", api.LogInfoResponse);
    origin = info.origin;
    vkey = info.verifierKey;
    expect(vkey).toBe(ledger.signer.verifierKey);
  });
  afterAll(async () => {
    await ledger?.close();
    await loc?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves the signed empty tree first", async () => {
    const cp = await fetchCheckpoint(fetch, origin, vkey);
    expect(cp.treeSize).toBe(0n);
    expect((await getJson(fetch, "/healthz", api.HealthResponse)).status).toBe("ok");
  });

  it("appends hundreds of records concurrently, each acknowledged once durable", async () => {
    const reg = await postRecord(fetch, registerKey(ns, owner, "publish"), "?wait=checkpoint");
    expect(reg.status).toBe(201);
    acknowledged.set(reg.body.leafHash, BigInt(reg.body.index));
    const records = Array.from({ length: 400 }, (_, i) => signRelease(ns, owner, `pkg${i % 7}`, `1.${i}.0`));
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const cp = await fetchCheckpoint(fetch, origin, vkey);
        checkpoints.set(cp.treeSize, cp.raw);
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    const results = await Promise.all(records.map((r, i) => postRecord(fetch, r, i % 5 === 0 ? "?wait=checkpoint" : "")));
    polling = false;
    await poller;
    for (const r of results) {
      expect(r.status).toBe(201);
      acknowledged.set(r.body.leafHash, BigInt(r.body.index));
      if (r.body.checkpoint) checkpoints.set(BigInt(r.body.treeSize), r.body.checkpoint);
    }
    expect(new Set([...acknowledged.values()].map(String)).size).toBe(401);
    const final = await fetchCheckpoint(fetch, origin, vkey);
    checkpoints.set(final.treeSize, final.raw);
    expect(final.treeSize).toBe(401n);
    expect(checkpoints.size).toBeGreaterThan(3);
  });

  it("?wait=checkpoint returns a checkpoint and proof that verify, also as a tlog-proof", async () => {
    const r = await postRecord(fetch, signRelease(ns, owner, "waited", "1.0.0"), "?wait=checkpoint");
    expect(r.status).toBe(201);
    acknowledged.set(r.body.leafHash, BigInt(r.body.index));
    const cp = parseCheckpoint(openNote(r.body.checkpoint, [createVerifier(vkey)]).text);
    verifyInclusion(BigInt(r.body.index), cp.treeSize, parseBase64(r.body.leafHash), r.body.proof.map(parseBase64), cp.rootHash);
    const [head, rest] = [r.body.tlogProof.split("\n\n")[0], r.body.tlogProof.slice(r.body.tlogProof.indexOf("\n\n") + 2)];
    expect(head.split("\n").slice(0, 2)).toEqual(["c2sp.org/tlog-proof@v1", `index ${r.body.index}`]);
    expect(head.split("\n").slice(2)).toEqual(r.body.proof);
    expect(rest).toBe(r.body.checkpoint);
  });

  it("every entry links the hash chain and its inclusion proof verifies against the latest checkpoint", async () => {
    const cp = await fetchCheckpoint(fetch, origin, vkey);
    const entries: { index: string; entry: string; leafHash: string }[] = [];
    for (let start = 0n; start < cp.treeSize; start += 150n) {
      const page = await getJson(fetch, `/v1/entries?start=${start}&limit=150`, api.EntriesResponse);
      entries.push(...page.entries);
    }
    expect(entries.length).toBe(Number(cp.treeSize));
    let prev: Uint8Array = ZERO_HASH;
    for (const [i, e] of entries.entries()) {
      const bytes = parseBase64(e.entry);
      const leafHash = entryLeafHash(bytes);
      expect(encodeBase64(leafHash)).toBe(e.leafHash);
      const parsed = parseEntry(bytes);
      expect(parsed.index).toBe(BigInt(i));
      expect(bytesEqual(parsed.prev, prev)).toBe(true);
      prev = leafHash;
      const ack = acknowledged.get(e.leafHash);
      expect(ack).toBe(BigInt(i)); // every acknowledged append is at its acknowledged index
      const p = await getJson(fetch, `/v1/proofs/inclusion?index=${i}&treeSize=${cp.treeSize}`, api.InclusionProofResponse);
      verifyInclusion(BigInt(i), cp.treeSize, leafHash, p.proof.map(parseBase64), cp.rootHash);
    }
    expect(acknowledged.size).toBe(entries.length);
    const single = await getJson(fetch, `/v1/entries/7`, api.EntryResponse);
    expect(single).toEqual(entries[7]);
    const byHash = await getJson(fetch, `/v1/proofs/inclusion?leafHash=${encodeURIComponent(entries[9]!.leafHash)}`, api.InclusionProofResponse);
    expect(byHash.index).toBe("9");
  });

  it("every consistency proof between successive checkpoints verifies", async () => {
    const sizes = [...checkpoints.keys()].filter((s) => s > 0n).sort((a, b) => (a < b ? -1 : 1));
    for (let i = 1; i < sizes.length; i++) {
      const [m, n] = [sizes[i - 1]!, sizes[i]!];
      const c1 = parseCheckpoint(openNote(checkpoints.get(m)!, [createVerifier(vkey)]).text);
      const c2 = parseCheckpoint(openNote(checkpoints.get(n)!, [createVerifier(vkey)]).text);
      const p = await getJson(fetch, `/v1/proofs/consistency?size1=${m}&size2=${n}`, api.ConsistencyProofResponse);
      verifyConsistency(m, n, p.proof.map(parseBase64), c1.rootHash, c2.rootHash);
    }
    expect(sizes.length).toBeGreaterThan(3);
  });

  it("answers a duplicate with the original index and 200", async () => {
    const record = signRelease(ns, owner, "pkg1", "1.1.0");
    const r = await postRecord(fetch, record);
    expect(r.status).toBe(200);
    expect(BigInt(r.body.index)).toBe(acknowledged.get(r.body.leafHash));
  });

  describe("bad input gets a code and writes nothing", () => {
    const other = testKey(11);
    const good = () => signRelease(ns, owner, "bad", "9.9.9");
    const cases: Array<[string, () => unknown, number, string]> = [
      ["malformed json", () => "{not json", 400, "invalid_json"],
      ["json that is not an object", () => "[1,2]", 400, "invalid_record"],
      ["unknown record type", () => ({ ...good(), type: "release.delete" }), 400, "invalid_record"],
      ["unknown field", () => ({ ...good(), extra: 1 }), 400, "invalid_record"],
      ["bad namespace", () => ({ ...good(), namespace: "no namespace" }), 400, "invalid_record"],
      ["no signatures", () => ({ ...good(), signatures: [] }), 400, "invalid_record"],
      ["bad base64 signature", () => ({ ...good(), signatures: [{ keyId: owner.keyId, sig: "!!" }] }), 400, "invalid_record"],
      ["huge number", () => signRecord({ type: "policy.set", namespace: ns, statement: { adminThreshold: 1e300, groups: [] } }, owner), 400, "invalid_record"],
      ["wrong type", () => ({ ...good(), statement: { ...good().statement, version: 7 } }), 400, "invalid_record"],
      ["deep nesting", () => "[".repeat(100_000) + "]".repeat(100_000), 413, "too_large"],
      ["tampered statement", () => ({ ...good(), statement: { ...good().statement, version: "9.9.10" } }), 422, "bad_signature"],
      ["signature by another key", () => ({ ...good(), signatures: [{ ...signRelease(ns, other, "bad", "9.9.9").signatures[0]!, keyId: owner.keyId }] }), 422, "bad_signature"],
      ["short signature", () => ({ ...good(), signatures: [{ keyId: owner.keyId, sig: encodeBase64(new Uint8Array(63)) }] }), 422, "bad_signature"],
      ["unknown key", () => signRelease(ns, other, "bad", "9.9.9"), 422, "unknown_key"],
      ["key of another namespace", () => signRelease("npm:@elsewhere", owner, "bad", "9.9.9"), 422, "unknown_key"],
      ["same key twice", () => ({ ...good(), signatures: [good().signatures[0], good().signatures[0]] }), 400, "invalid_record"],
      ["register without proof of possession", () => signRecord({ type: "key.register", namespace: ns, statement: { publicKey: other.publicKeyB64, role: "publish" } }, owner), 422, "no_proof_of_possession"],
      ["register with a key that is not 32 bytes", () => signRecord({ type: "key.register", namespace: ns, statement: { publicKey: encodeBase64(new Uint8Array(31)), role: "publish" } }, owner), 400, "invalid_record"],
      ["register an existing key", () => signRecord({ type: "key.register", namespace: ns, statement: { publicKey: owner.publicKeyB64, role: "publish", label: "again" } }, owner), 409, "key_exists"],
      ["register a second key without an admin", () => registerKey(ns, other, "publish"), 422, "threshold_not_met"],
      ["release signed by a key of the wrong role", () => signRecord({ type: "policy.set", namespace: ns, statement: { adminThreshold: 1, groups: [] } }, owner), 422, "threshold_not_met"],
      ["version already released with other digests", () => signRecord({ type: "release.sign", namespace: ns, statement: { package: "pkg1", version: "1.1.0", artifacts: [{ name: "x.tgz", sha256: "a".repeat(64) }] } }, owner), 409, "release_exists"],
      ["oversized body", () => JSON.stringify({ ...good(), pad: "x".repeat(70_000) }), 413, "too_large"],
    ];
    it.each(cases)("%s", async (_name, make, status, code) => {
      const before = await fetchCheckpoint(fetch, origin, vkey);
      const r = await postRecord(fetch, make());
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).not.toMatch(/\n\s+at /); // no stack trace
      const after = await fetchCheckpoint(fetch, origin, vkey);
      expect(after.treeSize).toBe(before.treeSize);
    });

    it("refuses writes without a valid token, out of scope, and nothing is written", async () => {
      const before = await fetchCheckpoint(fetch, origin, vkey);
      const none = await postRecord(fetch, good(), "", null);
      expect([none.status, none.body.error.code]).toEqual([401, "unauthorized"]);
      expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const wrong = await postRecord(fetch, good(), "", "not-a-token-of-this-ledger");
      expect([wrong.status, wrong.body.error.code]).toEqual([401, "unauthorized"]);
      expect(JSON.stringify(wrong.body)).not.toContain("not-a-token-of-this-ledger");
      const scoped = await postRecord(fetch, good(), "", "scoped-token-0123456789abcdef");
      expect([scoped.status, scoped.body.error.code]).toEqual([403, "forbidden"]);
      expect((await fetchCheckpoint(fetch, origin, vkey)).treeSize).toBe(before.treeSize);
    });

    it("refuses non-JSON content types and bad wait values", async () => {
      const r = await fetch("/v1/records", { method: "POST", headers: { "content-type": "text/plain", authorization: `Bearer ${TEST_TOKEN}` }, body: JSON.stringify(good()) });
      expect(r.status).toBe(415);
      expect((await postRecord(fetch, good(), "?wait=forever")).body.error.code).toBe("invalid_parameter");
    });

    it.each([
      ["/v1/entries/999999", 404, "not_found"],
      ["/v1/entries/01", 400, "invalid_parameter"],
      ["/v1/entries/-1", 400, "invalid_parameter"],
      ["/v1/entries?start=0&limit=1001", 400, "invalid_parameter"],
      ["/v1/entries?start=x", 400, "invalid_parameter"],
      ["/v1/proofs/inclusion?index=0&treeSize=999999", 400, "invalid_parameter"],
      ["/v1/proofs/inclusion?index=5&treeSize=5", 400, "invalid_parameter"],
      ["/v1/proofs/inclusion?treeSize=5", 400, "invalid_parameter"],
      ["/v1/proofs/inclusion?index=1&leafHash=AAAA", 400, "invalid_parameter"],
      [`/v1/proofs/inclusion?leafHash=${encodeURIComponent(encodeBase64(new Uint8Array(32)))}`, 404, "not_found"],
      ["/v1/proofs/inclusion?leafHash=bm90IGEgaGFzaA==", 400, "invalid_parameter"],
      ["/v1/proofs/consistency?size1=0&size2=5", 400, "invalid_parameter"],
      ["/v1/proofs/consistency?size1=6&size2=5", 400, "invalid_parameter"],
      ["/v1/proofs/consistency?size1=1&size2=999999", 400, "invalid_parameter"],
      ["/v1/proofs/consistency?size1=1", 400, "invalid_parameter"],
      ["/nope", 404, "not_found"],
    ])("GET %s → %i %s", async (path, status, code) => {
      const res = await fetch(path);
      expect(res.status).toBe(status);
      expect(api.ErrorResponse.parse(await res.json()).error.code).toBe(code);
    });
  });

  it("restart on the same store continues the same tree with the same key", async () => {
    const before = await fetchCheckpoint(fetch, origin, vkey);
    await ledger.close();
    await start();
    expect(ledger.signer.verifierKey).toBe(vkey);
    const again = await fetchCheckpoint(fetch, origin, vkey);
    expect(again.raw).toBe(before.raw);
    const r = await postRecord(fetch, signRelease(ns, owner, "after-restart", "1.0.0"));
    expect(r.status).toBe(201);
    expect(BigInt(r.body.index)).toBe(before.treeSize);
    const after = await fetchCheckpoint(fetch, origin, vkey);
    const p = await getJson(fetch, `/v1/proofs/consistency?size1=${before.treeSize}&size2=${after.treeSize}`, api.ConsistencyProofResponse);
    verifyConsistency(before.treeSize, after.treeSize, p.proof.map(parseBase64), before.rootHash, after.rootHash);
  });
});
