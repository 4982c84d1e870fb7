/**
 * The open letter's example, end to end over HTTP on every store: npm:@swc
 * requires three approval groups (the owner; one core member, not the owner;
 * one colleague, not the owner). Then a stolen publish credential, and the
 * owner's compromised key revoked. A client replays the log from HTTP alone
 * and reaches the same verdicts as the server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64, parseBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { parseEntry } from "../client/entry.js";
import { verifyInclusion } from "../client/merkle-verify.js";
import { approvalSigningMessage, releaseStatus, Replayer } from "../client/replay.js";
import * as api from "../schema/api.js";
import type { LedgerRecord } from "../schema/records.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { fetchCheckpoint, getJson, postRecord, TEST_WRITERS, type Fetch } from "./helpers/http.js";
import { signRecord, testKey, type TestKey } from "./helpers/records.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

const NS = "npm:@swc";
const PKG = "@swc/core";
const ownerAdmin = testKey(200);
const ownerPublish = testKey(201); // the credential that gets stolen
const ownerApprove = testKey(202);
const coreA = testKey(203);
const coreB = testKey(204);
const colleague = testKey(205);
const ART = (v: string) => [{ name: `swc-core-${v}.tgz`, sha256: Buffer.from(`swc ${v}`).toString("hex").padEnd(64, "0").slice(0, 64) }];

const reg = (k: TestKey, role: "admin" | "publish" | "approve", label: string) =>
  signRecord<LedgerRecord>({ type: "key.register", namespace: NS, statement: { publicKey: k.publicKeyB64, role, label } } as never, k, ...(k === ownerAdmin ? [] : [ownerAdmin]));
const approve = (k: TestKey, version: string) => ({
  keyId: k.keyId,
  sig: encodeBase64(ed25519Sign(k.seed, approvalSigningMessage({ namespace: NS, package: PKG, version, artifacts: ART(version), requester: ownerApprove.keyId }))),
});
const releaseRec = (v: string, by: TestKey) =>
  signRecord<LedgerRecord>({ type: "release.sign", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), requester: ownerApprove.keyId } } as never, by);
const outcomeRec = (v: string, approvals: unknown[], by: TestKey) =>
  signRecord<LedgerRecord>(
    { type: "approval.outcome", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), requester: ownerApprove.keyId, approvals, decision: "approved" } } as never,
    by,
  );

describe.each(STORES)("scenario npm:@swc: $kind", (fixture) => {
  let loc: StoreLocation;
  let dir: string;
  let ledger: Ledger;
  let fetch: Fetch;

  beforeAll(async () => {
    loc = await fixture.create();
    dir = mkdtempSync(join(tmpdir(), "ledger-swc-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, DATABASE_URL: loc.databaseUrl, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "2" }), { log: () => {} });
    fetch = async (p, init) => ledger.app.request(p, init);
  });
  afterAll(async () => {
    await ledger?.close();
    await loc?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const ok = async (r: LedgerRecord) => {
    const res = await postRecord(fetch, r);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return BigInt(res.body.index);
  };

  it("plays out: approved release verifies; stolen-credential release never counts; revoked key refused", async () => {
    // The namespace: the owner's admin key on the registry's authority, then the others by the owner.
    await ok(reg(ownerAdmin, "admin", "owner admin"));
    for (const [k, role, label] of [[ownerPublish, "publish", "owner publish"], [ownerApprove, "approve", "owner"], [coreA, "approve", "core A"], [coreB, "approve", "core B"], [colleague, "approve", "colleague"]] as const) {
      await ok(reg(k, role, label));
    }
    await ok(
      signRecord<LedgerRecord>(
        {
          type: "policy.set",
          namespace: NS,
          statement: {
            adminThreshold: 1,
            groups: [
              { name: "owner", members: [ownerApprove.keyId], threshold: 1, excludeRequester: false },
              { name: "core", members: [coreA.keyId, coreB.keyId, ownerApprove.keyId], threshold: 1, excludeRequester: true },
              { name: "colleague", members: [colleague.keyId, ownerApprove.keyId], threshold: 1, excludeRequester: true },
            ],
          },
        } as never,
        ownerAdmin,
      ),
    );

    // 1.0.0: signed, then approved by all three groups.
    const signedAt = await ok(releaseRec("1.0.0", ownerPublish));
    const onlyOwner = await postRecord(fetch, outcomeRec("1.0.0", [approve(ownerApprove, "1.0.0")], ownerPublish));
    expect([onlyOwner.status, onlyOwner.body.error.code]).toEqual([422, "threshold_not_met"]); // the owner cannot stand in for core or colleague
    const approvedAt = await ok(outcomeRec("1.0.0", [approve(ownerApprove, "1.0.0"), approve(coreA, "1.0.0"), approve(colleague, "1.0.0")], ownerPublish));

    // 1.0.1: pushed with the stolen publish credential and no approvals: logged, never approved.
    const stolenAt = await ok(releaseRec("1.0.1", ownerPublish));
    const replayed = await postRecord(fetch, outcomeRec("1.0.1", [approve(ownerApprove, "1.0.0"), approve(coreA, "1.0.0"), approve(colleague, "1.0.0")], ownerPublish));
    expect([replayed.status, replayed.body.error.code]).toEqual([422, "bad_approval"]); // 1.0.0's approvals do not carry over

    // The owner revokes the compromised publish key; later signatures by it are refused.
    const revokedAt = await ok(signRecord<LedgerRecord>({ type: "key.revoke", namespace: NS, statement: { keyId: ownerPublish.keyId, reason: "credential stolen" } } as never, ownerAdmin));
    const after = await postRecord(fetch, releaseRec("1.0.2", ownerPublish));
    expect([after.status, after.body.error.code]).toEqual([422, "not_authorized"]);

    // The server's view.
    const cp = await fetchCheckpoint(fetch, ledger.origin, ledger.signer.verifierKey);
    const good = await getJson(fetch, `/v1/releases/${NS}/${PKG}/1.0.0`, api.ReleaseResponse);
    expect(good).toMatchObject({ approved: true, revoked: false, index: String(signedAt), approvalIndex: String(approvedAt), signedBy: [ownerPublish.keyId] });
    verifyInclusion(BigInt(good.index), BigInt(good.treeSize), parseBase64(good.leafHash), good.proof.map(parseBase64), cp.rootHash);
    const bad = await getJson(fetch, `/v1/releases/${NS}/${encodeURIComponent(PKG)}/1.0.1`, api.ReleaseResponse);
    expect(bad).toMatchObject({ approved: false, approvalIndex: null, index: String(stolenAt) });
    expect((await fetch(`/v1/releases/${NS}/${PKG}/1.0.2`)).status).toBe(404);
    const nsView = await getJson(fetch, `/v1/namespaces/${NS}`, api.NamespaceResponse);
    expect(nsView.keys.find((k) => k.keyId === ownerPublish.keyId)).toMatchObject({ revokedAt: String(revokedAt), breakGlass: false });
    expect(nsView.policy!.groups.map((g) => g.name)).toEqual(["owner", "core", "colleague"]);
    expect(nsView.releaseCount).toBe(2);

    // A client that trusts nothing replays the log from HTTP and agrees.
    const page = await getJson(fetch, `/v1/entries?start=0&limit=1000`, api.EntriesResponse);
    const replayer = new Replayer({ breakGlass: "refuse" });
    for (const e of page.entries) {
      const entry = parseEntry(parseBase64(e.entry));
      expect(replayer.apply(entry.record, entry.index).result).toBe("applied");
    }
    const ns = replayer.namespace(NS);
    expect(releaseStatus(ns, PKG, "1.0.0")).toMatchObject({ approved: true, approvalIndex: approvedAt });
    expect(releaseStatus(ns, PKG, "1.0.1")).toMatchObject({ approved: false });
    expect(ns.keys.get(ownerPublish.keyId)!.revokedAt).toBe(revokedAt);
  });

  it("answers 404 and 400 for unknown namespaces and bad paths", async () => {
    expect((await fetch("/v1/namespaces/npm:@nobody")).status).toBe(404);
    expect((await fetch("/v1/namespaces/not-a-namespace")).status).toBe(400);
    expect((await fetch(`/v1/releases/${NS}/only-one-part`)).status).toBe(400);
  });
});
