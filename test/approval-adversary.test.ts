/**
 * Issue 12's adversary, over HTTP on every store: the @swc policy (owner;
 * one of core, excluding the requester; one colleague, excluding the
 * requester), and one person holding the owner's publish and approve keys.
 * Every requester, approval-order, revocation-order and policy-order trick is
 * tried; the release is never approved, the server refuses each with a code,
 * a client replaying the same records refuses them with the same code, and
 * LedgerClient.verifyRelease (what `ledger verify-release` runs) says
 * not_approved.
 */
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { LedgerClient } from "../client/ledger-client.js";
import { approvalSigningMessage, rejectionSigningMessage, releaseStatus, Replayer } from "../client/replay.js";
import * as api from "../schema/api.js";
import type { LedgerRecord } from "../schema/records.js";
import { getJson, postRecord, type Fetch } from "./helpers/http.js";
import { useLedger } from "./helpers/ledger.js";
import { signRecord, testKey, type TestKey } from "./helpers/records.js";
import { STORES } from "./helpers/stores.js";

const NS = "npm:@swc";
const PKG = "@swc/core";
const [ownerAdmin, ownerPublish, ownerApprove, coreA, coreB, colleague, admin2] = [200, 201, 202, 203, 204, 205, 206].map(testKey) as TestKey[];
const ART = (v: string) => [{ name: `swc-core-${v}.tgz`, sha256: Buffer.from(`swc ${v}`).toString("hex").padEnd(64, "0").slice(0, 64) }];

const reg = (k: TestKey, role: "admin" | "publish" | "approve") =>
  signRecord<LedgerRecord>({ type: "key.register", namespace: NS, statement: { publicKey: k.publicKeyB64, role } } as never, k, ...(k === ownerAdmin ? [] : [ownerAdmin!]));
const groups = (excludeRequester = true) => [
  { name: "owner", members: [ownerApprove!.keyId], threshold: 1, excludeRequester: false },
  { name: "core", members: [coreA!.keyId, coreB!.keyId, ownerApprove!.keyId], threshold: 1, excludeRequester },
  { name: "colleague", members: [colleague!.keyId, ownerApprove!.keyId], threshold: 1, excludeRequester },
];
const setPolicy = (g: unknown[], ...by: TestKey[]) => signRecord<LedgerRecord>({ type: "policy.set", namespace: NS, statement: { adminThreshold: 1, groups: g } } as never, ...by);
const release = (v: string, requester?: string) =>
  signRecord<LedgerRecord>({ type: "release.sign", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), ...(requester ? { requester } : {}) } } as never, ownerPublish!);
const approve = (k: TestKey, v: string, requester: string) => ({
  keyId: k.keyId,
  sig: encodeBase64(ed25519Sign(k.seed, approvalSigningMessage({ namespace: NS, package: PKG, version: v, artifacts: ART(v), requester }))),
});
const reject = (k: TestKey, v: string, requester: string) => ({
  keyId: k.keyId,
  sig: encodeBase64(ed25519Sign(k.seed, rejectionSigningMessage({ namespace: NS, package: PKG, version: v, artifacts: ART(v), requester }))),
});
const outcome = (v: string, requester: string, approvals: unknown[], decision: "approved" | "rejected" = "approved") =>
  signRecord<LedgerRecord>({ type: "approval.outcome", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), requester, approvals, decision } } as never, ownerPublish!);

describe.each(STORES)("approval adversary over HTTP: $kind", (fixture) => {
  const t = useLedger(fixture);
  const fetch: Fetch = (p, init) => t.fetch(p, init);
  /** What the server logged, in order, and the attempts it refused with their codes. */
  const logged: LedgerRecord[] = [];
  /** Each refused attempt with its code and how many records were logged before it. */
  const refused: Array<[LedgerRecord, string, number]> = [];

  const ok = async (r: LedgerRecord) => {
    await t.ok(r);
    logged.push(r);
  };
  const no = async (r: LedgerRecord, code: string) => {
    const res = await postRecord(fetch, r);
    expect(res.body.error?.code, `${r.type} ${JSON.stringify(r.statement).slice(0, 80)}`).toBe(code);
    refused.push([r, code, logged.length]);
  };
  const own = ownerApprove!.keyId;

  it("never approves a release one person pushed, whatever the requester, order or policy", async () => {
    // A release logged before any policy is judged by none (approved, and stays so).
    await ok(reg(ownerAdmin!, "admin"));
    for (const [k, role] of [[ownerPublish, "publish"], [ownerApprove, "approve"], [coreA, "approve"], [coreB, "approve"], [colleague, "approve"], [admin2, "admin"]] as const) await ok(reg(k!, role));
    await ok(release("0.9.0"));
    await ok(setPolicy(groups(), ownerAdmin!));

    // Requester tricks.
    await ok(release("2.0.0", own));
    await no(outcome("2.0.0", ownerPublish!.keyId, [approve(ownerApprove!, "2.0.0", ownerPublish!.keyId)]), "requester_mismatch");
    await no(outcome("2.0.0", coreA!.keyId, [approve(ownerApprove!, "2.0.0", coreA!.keyId)]), "requester_mismatch");
    await no(outcome("2.0.0", own, [approve(ownerApprove!, "2.0.0", own)]), "threshold_not_met");
    await ok(release("2.0.1", coreA!.keyId)); // names someone else, to exclude them instead
    await no(outcome("2.0.1", coreA!.keyId, [approve(ownerApprove!, "2.0.1", coreA!.keyId)]), "requester_unverified");
    await ok(release("2.0.2")); // names nobody
    await no(outcome("2.0.2", ownerPublish!.keyId, [approve(ownerApprove!, "2.0.2", ownerPublish!.keyId)]), "requester_unverified");
    await no(outcome("2.0.2", "ab".repeat(32), [approve(ownerApprove!, "2.0.2", "ab".repeat(32))]), "requester_unverified");
    await ok(release("2.0.3", "cd".repeat(32))); // a key that does not exist
    await no(outcome("2.0.3", "cd".repeat(32), [approve(ownerApprove!, "2.0.3", "cd".repeat(32))]), "requester_unverified");

    // Order tricks: an outcome before its release; approvals of another version; a rejection then more.
    await no(outcome("2.0.4", coreA!.keyId, [approve(ownerApprove!, "2.0.4", coreA!.keyId)]), "unknown_release");
    await ok(release("2.0.4", own));
    await no(outcome("2.0.4", own, [approve(ownerApprove!, "2.0.0", own)]), "bad_approval");
    await no(outcome("2.0.4", own, [approve(ownerApprove!, "2.0.4", own)], "rejected"), "bad_approval"); // approvals are no rejection
    await ok(outcome("2.0.4", own, [reject(ownerApprove!, "2.0.4", own)], "rejected"));
    await no(outcome("2.0.4", own, [approve(ownerApprove!, "2.0.4", own), approve(coreA!, "2.0.4", own), approve(colleague!, "2.0.4", own)]), "release_rejected");

    // Revocation order: core A's key is revoked (the owner's publish key is not needed for that), then its old approval is replayed.
    await ok(release("2.0.5", own));
    const coreApproval = approve(coreA!, "2.0.5", own);
    await ok(signRecord<LedgerRecord>({ type: "key.revoke", namespace: NS, statement: { keyId: coreA!.keyId, reason: "lost" } } as never, coreA!));
    await no(outcome("2.0.5", own, [approve(ownerApprove!, "2.0.5", own), coreApproval, approve(colleague!, "2.0.5", own)]), "bad_approval");

    // Policy order: the admins relax the policy after the adversary's release; the release stays unapproved.
    await ok(release("2.0.6", own));
    await ok(setPolicy(groups(false).map((g) => ({ ...g, members: g.members.filter((m) => m !== coreA!.keyId) })), ownerAdmin!));
    await no(outcome("2.0.6", own, [approve(ownerApprove!, "2.0.6", own)]), "threshold_not_met");
    await ok(setPolicy([], ownerAdmin!));

    // The server's verdicts.
    for (const v of ["2.0.0", "2.0.1", "2.0.2", "2.0.3", "2.0.4", "2.0.5", "2.0.6"]) {
      const r = await getJson(fetch, `/v1/releases/${NS}/${PKG}/${v}`, api.ReleaseResponse);
      expect([v, r.approved]).toEqual([v, false]);
    }
    expect(await getJson(fetch, `/v1/releases/${NS}/${PKG}/0.9.0`, api.ReleaseResponse)).toMatchObject({ approved: true, policyIndex: null });
    // Releases after the relaxed policy need no approval; those before keep theirs.
    await ok(release("3.0.0"));
    expect(await getJson(fetch, `/v1/releases/${NS}/${PKG}/3.0.0`, api.ReleaseResponse)).toMatchObject({ approved: true });

    // A client replaying the logged records agrees, and refuses each refused record with the same code
    // (as it would had a dishonest log logged them).
    const replayer = new Replayer({ breakGlass: "refuse" });
    let i = 0n;
    for (const r of logged) expect(replayer.apply(JSON.parse(JSON.stringify(r)), i++).result).toBe("applied");
    for (const [r, code, at] of refused) {
      const fork = new Replayer({ breakGlass: "refuse" });
      let j = 0n;
      for (const l of logged.slice(0, at)) fork.apply(JSON.parse(JSON.stringify(l)), j++);
      expect(fork.apply(JSON.parse(JSON.stringify(r)), j).error?.code).toBe(code);
      const st = r.statement as { package: string; version: string };
      if (r.type === "approval.outcome") expect(releaseStatus(fork.namespace(NS), st.package, st.version)?.approved ?? false).toBe(false);
    }

    // verify-release, as a package manager runs it: not approved, for every one of them.
    const client = new LedgerClient({ url: "http://ledger", logKey: t.ledger.signer.verifierKey, breakGlass: "refuse", fetch: async (u) => fetch(new URL(String(u)).pathname + new URL(String(u)).search) });
    for (const v of ["2.0.0", "2.0.1", "2.0.2", "2.0.3", "2.0.4", "2.0.5", "2.0.6"]) {
      const check = v === "2.0.4" ? "rejected" : "not_approved"; // 2.0.4 was rejected by the owner: final
      await expect(client.verifyRelease({ namespace: NS, package: PKG, version: v, artifacts: ART(v) })).rejects.toMatchObject({ code: "policy", check });
    }
    await expect(client.verifyRelease({ namespace: NS, package: PKG, version: "0.9.0", artifacts: ART("0.9.0") })).resolves.toMatchObject({ approved: true });
  });
});
