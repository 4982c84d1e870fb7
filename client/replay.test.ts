/** Every rule of the record state machine, each with its refusal case. */
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./bytes.js";
import { ed25519Sign } from "./ed25519.js";
import { approvalSigningMessage, rejectionSigningMessage, parseCoreKeys, releaseStatus, Replayer, type BreakGlassPolicy, type ReplayEvent } from "./replay.js";
import type { LedgerRecord } from "../schema/records.js";
import { signRecord, testKey, type TestKey } from "../test/helpers/records.js";

const NS = "npm:@acme";
const [admin1, admin2, pub1, pub2, appr1, appr2, appr3, core1, core2, core3, stranger] = Array.from({ length: 11 }, (_, i) => testKey(100 + i)) as TestKey[];
const CORE = `2:${core1!.publicKeyB64},${core2!.publicKeyB64},${core3!.publicKeyB64}`;
const ART = [{ name: "acme-1.0.0.tgz", sha256: "1".repeat(64) }];
const ART2 = [{ name: "acme-1.0.0.tgz", sha256: "2".repeat(64) }];

function world(breakGlass: BreakGlassPolicy = "accept", core: string | null = CORE) {
  const r = new Replayer({ breakGlass, coreKeys: core ? parseCoreKeys(core) : undefined });
  let i = 0n;
  const add = (rec: LedgerRecord): ReplayEvent => r.apply(JSON.parse(JSON.stringify(rec)), i++);
  const ok = (rec: LedgerRecord) => {
    const e = add(rec);
    if (e.result !== "applied") throw new Error(`expected applied, got ${e.result}: ${e.error?.code} ${e.error?.message}`);
    return e;
  };
  const refused = (rec: LedgerRecord) => {
    const e = add(rec);
    expect(e.result).toBe("refused");
    return e.error!.code;
  };
  return { r, add, ok, refused, ns: () => r.namespace(NS) };
}

const reg = (k: TestKey, role: "admin" | "publish" | "approve", signers: TestKey[], extra: Record<string, unknown> = {}, ns = NS) =>
  signRecord({ type: "key.register", namespace: ns, statement: { publicKey: k.publicKeyB64, role, ...extra } } as never, ...signers);
const revoke = (k: TestKey, signers: TestKey[], extra: Record<string, unknown> = {}) =>
  signRecord({ type: "key.revoke", namespace: NS, statement: { keyId: k.keyId, reason: "test", ...extra } } as never, ...signers);
const policy = (adminThreshold: number, groups: unknown[], signers: TestKey[]) =>
  signRecord({ type: "policy.set", namespace: NS, statement: { adminThreshold, groups } } as never, ...signers);
const release = (version: string, signers: TestKey[], artifacts = ART, requester?: string) =>
  signRecord({ type: "release.sign", namespace: NS, statement: { package: "acme", version, artifacts, ...(requester ? { requester } : {}) } } as never, ...signers);
const revokeRelease = (version: string, signers: TestKey[]) =>
  signRecord({ type: "release.revoke", namespace: NS, statement: { package: "acme", version, reason: "bad" } } as never, ...signers);
function approval(k: TestKey, version: string, requester: string, artifacts = ART) {
  return { keyId: k.keyId, sig: encodeBase64(ed25519Sign(k.seed, approvalSigningMessage({ namespace: NS, package: "acme", version, artifacts, requester }))) };
}
function rejection(k: TestKey, version: string, requester: string, artifacts = ART) {
  return { keyId: k.keyId, sig: encodeBase64(ed25519Sign(k.seed, rejectionSigningMessage({ namespace: NS, package: "acme", version, artifacts, requester }))) };
}
const outcome = (version: string, approvals: unknown[], decision: "approved" | "rejected", signers: TestKey[], requester = pub1!.keyId, artifacts = ART) =>
  signRecord({ type: "approval.outcome", namespace: NS, statement: { package: "acme", version, artifacts, requester, approvals, decision } } as never, ...signers);

/** admin1 (first key), admin2, pub1, pub2, appr1..3 registered. */
function populated(breakGlass: BreakGlassPolicy = "accept") {
  const w = world(breakGlass);
  w.ok(reg(admin1!, "admin", [admin1!]));
  w.ok(reg(admin2!, "admin", [admin2!, admin1!]));
  w.ok(reg(pub1!, "publish", [pub1!, admin1!]));
  w.ok(reg(pub2!, "publish", [pub2!, admin1!]));
  for (const a of [appr1!, appr2!, appr3!]) w.ok(reg(a, "approve", [a, admin1!]));
  return w;
}

describe("key.register", () => {
  it("accepts the first key of a namespace on the writer's authority", () => {
    const w = world();
    w.ok(reg(pub1!, "publish", [pub1!]));
    expect(w.ns().keys.get(pub1!.keyId)).toMatchObject({ role: "publish", registeredAt: 0n, revokedAt: null, breakGlass: false });
  });
  it("needs proof of possession", () => {
    const w = world();
    expect(w.refused(reg(pub1!, "publish", [admin1!]))).toBe("unknown_key");
    w.ok(reg(admin1!, "admin", [admin1!]));
    expect(w.refused(reg(pub1!, "publish", [admin1!]))).toBe("no_proof_of_possession");
  });
  it("needs a threshold of current admin keys after the first", () => {
    const w = world();
    w.ok(reg(admin1!, "admin", [admin1!]));
    expect(w.refused(reg(pub1!, "publish", [pub1!]))).toBe("threshold_not_met");
    w.ok(reg(pub1!, "publish", [pub1!, admin1!]));
    expect(w.refused(reg(pub2!, "publish", [pub2!, pub1!]))).toBe("threshold_not_met"); // a publish key is no admin
  });
  it("refuses a key registered twice, and a revoked key never comes back", () => {
    const w = populated();
    expect(w.refused(reg(pub1!, "publish", [pub1!, admin1!], { label: "again" }))).toBe("key_exists");
    w.ok(revoke(pub1!, [admin1!]));
    expect(w.refused(reg(pub1!, "publish", [pub1!, admin1!], { label: "back" }))).toBe("key_revoked");
  });
  it("refuses a cross-namespace signature (Gossamer's provider confusion)", () => {
    const w = populated();
    w.ok(reg(stranger!, "admin", [stranger!], {}, "npm:@other"));
    // admin of @other signs a registration into @acme
    expect(w.refused(reg(testKey(999), "publish", [testKey(999), stranger!]))).toBe("unknown_key");
  });
  it("refuses a tampered signature", () => {
    const w = populated();
    const r = reg(testKey(998), "publish", [testKey(998), admin1!]);
    r.statement = { ...r.statement, role: "admin" } as never;
    expect(w.refused(r)).toBe("bad_signature");
  });
});

describe("key.revoke", () => {
  it("by an admin threshold, or by the key itself", () => {
    const w = populated();
    w.ok(revoke(pub2!, [pub2!]));
    w.ok(revoke(appr3!, [admin2!]));
    expect(w.ns().keys.get(pub2!.keyId)!.revokedAt).toBe(7n);
  });
  it("refuses a revocation by an unrelated key, of an unknown key, and twice", () => {
    const w = populated();
    expect(w.refused(revoke(pub2!, [pub1!]))).toBe("threshold_not_met");
    expect(w.refused(revoke(stranger!, [admin1!]))).toBe("unknown_key");
    w.ok(revoke(pub2!, [admin1!]));
    expect(w.refused(revoke(pub2!, [admin1!], { reason: "again" }))).toBe("key_revoked");
  });
  it("takes effect at its index: releases before stay valid, signatures after are refused", () => {
    const w = populated();
    w.ok(release("1.0.0", [pub1!]));
    w.ok(revoke(pub1!, [admin1!]));
    expect(w.refused(release("1.0.1", [pub1!]))).toBe("not_authorized");
    const s = releaseStatus(w.ns(), "acme", "1.0.0")!;
    expect(s).toMatchObject({ approved: true, revoked: false });
  });
});

describe("policy.set", () => {
  it("changing the admin threshold needs the old threshold", () => {
    const w = populated();
    w.ok(policy(2, [], [admin1!]));
    expect(w.refused(reg(stranger!, "publish", [stranger!, admin1!]))).toBe("threshold_not_met");
    w.ok(reg(stranger!, "publish", [stranger!, admin1!, admin2!]));
    expect(w.refused(policy(1, [], [admin1!]))).toBe("threshold_not_met");
    w.ok(policy(1, [], [admin1!, admin2!]));
  });
  it.each([
    ["admin threshold above the admin count", () => policy(3, [], [admin1!]), "invalid_policy"],
    ["member that is not an approve key", () => policy(1, [{ name: "g", members: [pub1!.keyId], threshold: 1, excludeRequester: false }], [admin1!]), "invalid_policy"],
    ["group threshold above its members", () => policy(1, [{ name: "g", members: [appr1!.keyId], threshold: 2, excludeRequester: false }], [admin1!]), "invalid_policy"],
    ["duplicate group names", () => policy(1, [{ name: "g", members: [appr1!.keyId], threshold: 1, excludeRequester: false }, { name: "g", members: [appr2!.keyId], threshold: 1, excludeRequester: false }], [admin1!]), "invalid_policy"],
    ["signed by a publish key", () => policy(1, [], [pub1!]), "threshold_not_met"],
  ])("refuses %s", (_d, make, code) => {
    expect(populated().refused(make())).toBe(code);
  });
});

describe("release.sign and release.revoke", () => {
  it("a current publish key signs; versions are immutable; co-signing the same artifacts is allowed", () => {
    const w = populated();
    expect(w.refused(release("1.0.0", [appr1!]))).toBe("not_authorized");
    expect(w.refused(release("1.0.0", [stranger!]))).toBe("unknown_key");
    w.ok(release("1.0.0", [pub1!]));
    expect(w.refused(release("1.0.0", [pub1!], ART2))).toBe("release_exists"); // mutated digest
    w.ok(release("1.0.0", [pub2!]));
    expect(w.ns().releases.get("acme@1.0.0")!.signedBy).toEqual([pub1!.keyId, pub2!.keyId]);
  });
  it("release.revoke marks the release revoked; it cannot be re-signed", () => {
    const w = populated();
    expect(w.refused(revokeRelease("1.0.0", [pub1!]))).toBe("unknown_release");
    w.ok(release("1.0.0", [pub1!]));
    expect(w.refused(revokeRelease("1.0.0", [appr1!]))).toBe("not_authorized");
    w.ok(revokeRelease("1.0.0", [admin1!]));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.revoked).toBe(true);
    expect(w.refused(revokeRelease("1.0.0", [pub1!]))).toBe("release_revoked");
    expect(w.refused(release("1.0.0", [pub2!]))).toBe("release_revoked");
  });
});

describe("approval.outcome", () => {
  const groups = () => [
    { name: "maintainers", members: [appr1!.keyId, appr2!.keyId], threshold: 1, excludeRequester: true },
    { name: "security", members: [appr3!.keyId], threshold: 1, excludeRequester: false },
  ];
  function withPolicy() {
    const w = populated();
    w.ok(policy(1, groups(), [admin1!]));
    w.ok(release("1.0.0", [pub1!], ART, appr1!.keyId));
    return w;
  }
  it("approved when every group's threshold is met by distinct current approve members", () => {
    const w = withPolicy();
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(false);
    const e = w.ok(outcome("1.0.0", [approval(appr1!, "1.0.0", appr1!.keyId), approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")).toMatchObject({ approved: true, approvalIndex: e.index, policyIndex: 7n });
  });
  it.each([
    ["the requester approving their own release", () => outcome("1.0.0", [approval(appr1!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId), "threshold_not_met"],
    ["a duplicate approver", () => outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId), approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId), "duplicate_approver"],
    ["an approval replayed from another version", () => outcome("1.0.0", [approval(appr2!, "0.9.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId), "bad_approval"],
    ["an approval by a non-approve key", () => outcome("1.0.0", [approval(pub2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId), "bad_approval"],
    ["a group below threshold", () => outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId), "threshold_not_met"],
    ["a rejection carrying approvals (signed over the approval message)", () => outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId)], "rejected", [pub1!], appr1!.keyId), "bad_approval"],
    ["a rejection with no signature", () => outcome("1.0.0", [], "rejected", [pub1!], appr1!.keyId), "threshold_not_met"],
    ["artifacts other than the release's", () => outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId, ART2), approval(appr3!, "1.0.0", appr1!.keyId, ART2)], "approved", [pub1!], appr1!.keyId, ART2), "artifact_mismatch"],
    ["an envelope not signed by a publish key", () => outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [appr3!], appr1!.keyId), "not_authorized"],
  ])("refuses %s", (_d, make, code) => {
    const w = withPolicy();
    expect(w.refused(make())).toBe(code);
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(false);
  });
  it("an unsigned envelope (as the approval service logs it) counts by its approvals alone", () => {
    const w = withPolicy();
    // Too few approvals stay refused without an envelope signature, so the envelope was never what held them back.
    expect(w.refused(outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId)], "approved", [], appr1!.keyId))).toBe("threshold_not_met");
    expect(w.refused(outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [], appr1!.keyId))).toBe("requester_unverified");
    const e = w.ok(outcome("1.0.0", [approval(appr1!, "1.0.0", appr1!.keyId), approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [], appr1!.keyId));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")).toMatchObject({ approved: true, approvalIndex: e.index });
    w.ok(release("1.0.1", [pub1!], ART, appr1!.keyId));
    w.ok(outcome("1.0.1", [rejection(appr3!, "1.0.1", appr1!.keyId)], "rejected", [], appr1!.keyId));
    expect(releaseStatus(w.ns(), "acme", "1.0.1")!.rejected).toBe(true);
  });
  it("refuses an approval by a revoked key", () => {
    const w = withPolicy();
    w.ok(revoke(appr3!, [admin1!]));
    expect(w.refused(outcome("1.0.0", [approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId))).toBe("bad_approval");
  });
  it("a rejection by one member of any group is final; an approved release is not rejected afterwards", () => {
    const w = withPolicy();
    const e = w.ok(outcome("1.0.0", [rejection(appr3!, "1.0.0", appr1!.keyId)], "rejected", [pub1!], appr1!.keyId));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")).toMatchObject({ approved: false, rejected: true, outcome: { index: e.index, decision: "rejected" } });
    const all = [approval(appr1!, "1.0.0", appr1!.keyId), approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)];
    expect(w.refused(outcome("1.0.0", all, "approved", [pub1!], appr1!.keyId))).toBe("release_rejected");
    expect(w.refused(outcome("1.0.0", [rejection(appr2!, "1.0.0", appr1!.keyId)], "rejected", [pub1!], appr1!.keyId))).toBe("release_rejected");
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(false);
    // Another version: approved, then a rejection comes too late.
    w.ok(release("1.0.1", [pub1!], ART, appr1!.keyId));
    const all1 = [approval(appr1!, "1.0.1", appr1!.keyId), approval(appr2!, "1.0.1", appr1!.keyId), approval(appr3!, "1.0.1", appr1!.keyId)];
    w.ok(outcome("1.0.1", all1, "approved", [pub1!], appr1!.keyId));
    expect(w.refused(outcome("1.0.1", [rejection(appr3!, "1.0.1", appr1!.keyId)], "rejected", [pub1!], appr1!.keyId))).toBe("release_approved");
    expect(w.refused(outcome("1.0.1", all1, "approved", [pub1!], appr1!.keyId))).toBe("release_approved");
    expect(releaseStatus(w.ns(), "acme", "1.0.1")!.outcome!.approvers.map((a) => [a.keyId, a.passkey, a.groups])).toEqual([
      [appr1!.keyId, false, []],
      [appr2!.keyId, false, ["maintainers"]],
      [appr3!.keyId, false, ["security"]],
    ]);
  });
  it("refuses a signature by an approve key that is in no group, and a rejection by one", () => {
    const w = withPolicy();
    w.ok(reg(stranger!, "approve", [stranger!, admin1!]));
    const all = [approval(appr1!, "1.0.0", appr1!.keyId), approval(appr2!, "1.0.0", appr1!.keyId), approval(appr3!, "1.0.0", appr1!.keyId)];
    expect(w.refused(outcome("1.0.0", [...all, approval(stranger!, "1.0.0", appr1!.keyId)], "approved", [pub1!], appr1!.keyId))).toBe("bad_approval");
    expect(w.refused(outcome("1.0.0", [rejection(stranger!, "1.0.0", appr1!.keyId)], "rejected", [pub1!], appr1!.keyId))).toBe("bad_approval");
  });
  it("an Ed25519 key does not sign with webauthn", () => {
    const w = withPolicy();
    const fake = { keyId: appr3!.keyId, webauthn: { authenticatorData: "AAAA", clientDataJSON: "AAAA", signature: "AAAA" } };
    const all = [approval(appr1!, "1.0.0", appr1!.keyId), approval(appr2!, "1.0.0", appr1!.keyId), fake];
    expect(w.refused(outcome("1.0.0", all, "approved", [pub1!], appr1!.keyId))).toBe("bad_approval");
  });
});

describe("artifacts with sha512 (npm integrity)", () => {
  const WITH512 = [{ name: "acme-1.0.0.tgz", sha256: "1".repeat(64), sha512: "ab".repeat(64) }];
  it("are part of the release: approvals sign them and an outcome must carry them", () => {
    const w = populated();
    w.ok(policy(1, [{ name: "security", members: [appr3!.keyId], threshold: 1, excludeRequester: false }], [admin1!]));
    w.ok(release("1.0.0", [pub1!], WITH512, appr1!.keyId));
    // The same digests without sha512 are other artifacts.
    expect(w.refused(outcome("1.0.0", [approval(appr3!, "1.0.0", appr1!.keyId, ART)], "approved", [pub1!], appr1!.keyId, ART))).toBe("artifact_mismatch");
    expect(w.refused(release("1.0.0", [pub2!], ART, appr1!.keyId))).toBe("release_exists");
    w.ok(outcome("1.0.0", [approval(appr3!, "1.0.0", appr1!.keyId, WITH512)], "approved", [pub1!], appr1!.keyId, WITH512));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(true);
  });
});

describe("approval verdicts that cannot be gamed", () => {
  const all = (version: string, requester: string, keys: TestKey[]) => keys.map((k) => approval(k, version, requester));
  // maintainers: appr1, appr2 (1, excluding the requester); security: appr3 (1).
  const groups = () => [
    { name: "maintainers", members: [appr1!.keyId, appr2!.keyId], threshold: 1, excludeRequester: true },
    { name: "security", members: [appr3!.keyId, appr1!.keyId], threshold: 1, excludeRequester: false },
  ];

  it("an outcome must name the release's requester", () => {
    const w = populated();
    w.ok(policy(1, groups(), [admin1!]));
    w.ok(release("1.0.0", [pub1!], ART, appr1!.keyId));
    // appr1 alone, with the publish key named as requester so that nobody is excluded.
    expect(w.refused(outcome("1.0.0", all("1.0.0", pub1!.keyId, [appr1!]), "approved", [pub1!], pub1!.keyId))).toBe("requester_mismatch");
    expect(w.refused(outcome("1.0.0", all("1.0.0", appr2!.keyId, [appr1!]), "approved", [pub1!], appr2!.keyId))).toBe("requester_mismatch");
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(false);
  });
  it("where a group excludes the requester, the requester must approve: naming someone else excludes nobody who matters", () => {
    const w = populated();
    w.ok(policy(1, groups(), [admin1!]));
    // The publisher names appr2 as requester (or a key that does not exist, or a publish key) and appr1 approves alone.
    for (const [v, requester] of [["1.0.0", appr2!.keyId], ["1.0.1", "ab".repeat(32)], ["1.0.2", pub1!.keyId]] as const) {
      w.ok(release(v, [pub1!], ART, requester));
      expect(w.refused(outcome(v, all(v, requester, [appr1!]), "approved", [pub1!], requester))).toBe("requester_unverified");
    }
    // A release that names no requester: the outcome's requester must still prove itself.
    w.ok(release("1.0.3", [pub1!]));
    expect(w.refused(outcome("1.0.3", all("1.0.3", appr2!.keyId, [appr1!]), "approved", [pub1!], appr2!.keyId))).toBe("requester_unverified");
    // Named honestly, appr1 is excluded from maintainers and appr2 must approve there.
    w.ok(release("1.0.4", [pub1!], ART, appr1!.keyId));
    expect(w.refused(outcome("1.0.4", all("1.0.4", appr1!.keyId, [appr1!]), "approved", [pub1!], appr1!.keyId))).toBe("threshold_not_met");
    w.ok(outcome("1.0.4", all("1.0.4", appr1!.keyId, [appr1!, appr2!]), "approved", [pub1!], appr1!.keyId));
    for (const v of ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]) expect(releaseStatus(w.ns(), "acme", v)!.approved).toBe(false);
    expect(releaseStatus(w.ns(), "acme", "1.0.4")!.approved).toBe(true);
  });
  it("a release logged before any policy stays approved when a policy is set later", () => {
    const w = populated();
    w.ok(release("1.0.0", [pub1!]));
    w.ok(policy(1, groups(), [admin1!]));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")).toMatchObject({ approved: true, policyIndex: null });
    w.ok(release("1.0.1", [pub1!]));
    expect(releaseStatus(w.ns(), "acme", "1.0.1")).toMatchObject({ approved: false, policyIndex: 8n });
  });
  it("a release logged under a policy is not approved when the policy is relaxed later", () => {
    const w = populated();
    w.ok(policy(1, groups(), [admin1!]));
    w.ok(release("1.0.0", [pub1!], ART, appr1!.keyId)); // say, with a stolen publish key
    w.ok(policy(1, [], [admin1!]));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")).toMatchObject({ approved: false, policyIndex: 7n });
    // Its outcome is still judged by the policy of its index.
    expect(w.refused(outcome("1.0.0", [], "approved", [pub1!], appr1!.keyId))).toBe("threshold_not_met");
    w.ok(release("1.0.1", [pub1!]));
    expect(releaseStatus(w.ns(), "acme", "1.0.1")!.approved).toBe(true);
  });
  it("a policy tightened after the release does not move its verdict either", () => {
    const w = populated();
    w.ok(policy(1, [groups()[1]!], [admin1!]));
    w.ok(release("1.0.0", [pub1!], ART, appr1!.keyId));
    w.ok(policy(1, [{ ...groups()[1]!, threshold: 2 }], [admin1!]));
    w.ok(outcome("1.0.0", all("1.0.0", appr1!.keyId, [appr3!]), "approved", [pub1!], appr1!.keyId));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(true);
  });
  it("refuses an outcome logged before its release", () => {
    const w = populated();
    w.ok(policy(1, groups(), [admin1!]));
    expect(w.refused(outcome("1.0.0", all("1.0.0", appr1!.keyId, [appr1!, appr2!]), "approved", [pub1!], appr1!.keyId))).toBe("unknown_release");
    w.ok(release("1.0.0", [pub1!], ART, appr1!.keyId));
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(false);
  });
  it("an approver revoked before the release, or registered after it, does not count", () => {
    const w = populated();
    const late = testKey(150);
    w.ok(policy(1, groups(), [admin1!]));
    w.ok(revoke(appr2!, [admin1!]));
    w.ok(release("1.0.0", [pub1!], ART, appr1!.keyId));
    expect(w.refused(outcome("1.0.0", all("1.0.0", appr1!.keyId, [appr1!, appr2!]), "approved", [pub1!], appr1!.keyId))).toBe("bad_approval");
    w.ok(reg(late, "approve", [late, admin1!]));
    w.ok(policy(1, [{ ...groups()[0]!, members: [appr1!.keyId, late.keyId] }, groups()[1]!], [admin1!]));
    expect(w.refused(outcome("1.0.0", all("1.0.0", appr1!.keyId, [appr1!, late]), "approved", [pub1!], appr1!.keyId))).toBe("bad_approval");
    expect(releaseStatus(w.ns(), "acme", "1.0.0")!.approved).toBe(false);
  });
  it("refuses an outcome for a revoked release, and a co-signature naming another requester", () => {
    const w = populated();
    w.ok(policy(1, groups(), [admin1!]));
    w.ok(release("1.0.0", [pub1!], ART, appr1!.keyId));
    expect(w.refused(release("1.0.0", [pub2!], ART, appr2!.keyId))).toBe("release_exists");
    w.ok(revokeRelease("1.0.0", [admin1!]));
    expect(w.refused(outcome("1.0.0", all("1.0.0", appr1!.keyId, [appr1!, appr2!]), "approved", [pub1!], appr1!.keyId))).toBe("release_revoked");
  });
});

describe("break-glass", () => {
  const bgRegister = (signers: TestKey[]) => reg(stranger!, "admin", [stranger!, ...signers], { breakGlass: true });
  const bgRevoke = (signers: TestKey[]) => revoke(admin1!, signers, { breakGlass: true });

  it("accept: core keys at threshold register and revoke keys in any namespace", () => {
    const w = populated("accept");
    const e = w.ok(bgRegister([core1!, core2!]));
    expect(w.ns().keys.get(stranger!.keyId)).toMatchObject({ breakGlass: true, role: "admin" });
    w.ok(bgRevoke([core2!, core3!]));
    expect(w.ns().keys.get(admin1!.keyId)!.revokedAt).not.toBeNull();
    expect(w.ns().breakGlass).toEqual([e.index, e.index + 1n]);
    w.ok(release("2.0.0", [pub1!]));
  });
  it("refuse: break-glass records are ignored and replay goes on deterministically", () => {
    const w = populated("refuse");
    expect(w.add(bgRegister([core1!, core2!])).result).toBe("ignored");
    expect(w.ns().keys.has(stranger!.keyId)).toBe(false);
    // A record signed by the key break-glass registered is ignored with it (an honest log holds it)...
    const dependent = w.add(reg(testKey(997), "publish", [testKey(997), stranger!]));
    expect([dependent.result, dependent.error?.code]).toEqual(["ignored", "unknown_key"]);
    expect(w.ns().keys.has(testKey(997).keyId)).toBe(false);
    // ...and so is one signed by the key that one registered, transitively.
    expect(w.add(release("9.9.9", [testKey(997)])).result).toBe("ignored");
    // A record that merely fails is still refused.
    expect(w.refused(reg(testKey(996), "publish", [testKey(996), pub1!]))).toBe("threshold_not_met");
    expect(w.add(bgRevoke([core1!, core2!])).result).toBe("ignored");
    expect(w.ns().keys.get(admin1!.keyId)!.revokedAt).toBeNull();
    // ...and everything else goes on.
    w.ok(release("2.0.0", [pub1!]));
  });
  it.each([
    ["below the core threshold", () => bgRegister([core1!]), CORE, "threshold_not_met"],
    ["signed by namespace admins instead of core keys", () => bgRegister([admin1!, admin2!]), CORE, "threshold_not_met"],
    ["with no core keys configured", () => bgRegister([core1!, core2!]), null, "unknown_key"],
    ["with no core keys configured, signed by admins", () => bgRegister([admin1!, admin2!]), null, "break_glass_unavailable"],
  ])("refuses break-glass %s", (_d, make, core, code) => {
    const w = world("accept", core);
    w.ok(reg(admin1!, "admin", [admin1!]));
    w.ok(reg(admin2!, "admin", [admin2!, admin1!]));
    expect(w.refused(make())).toBe(code);
  });
  it("both policies replay the same log to the same state twice", () => {
    for (const p of ["accept", "refuse"] as const) {
      const a = populated(p);
      const b = populated(p);
      for (const w of [a, b]) {
        w.add(bgRegister([core1!, core2!]));
        w.add(release("3.0.0", [pub1!]));
      }
      const dump = (w: typeof a) => JSON.stringify([...w.ns().keys.values()], (_k, v) => (typeof v === "bigint" ? v.toString() : v));
      expect(dump(a)).toBe(dump(b));
    }
  });
});

describe("records that are not records", () => {
  it.each([
    ["not an object", 7],
    ["unknown type", { type: "x", namespace: NS, statement: {}, signatures: [] }],
    ["extra field", { ...release("1.0.0", [pub1!]), extra: true }],
    ["no signatures", { ...release("1.0.0", [pub1!]), signatures: [] }],
    ["non-canonical base64 in a signature", { ...release("1.0.0", [pub1!]), signatures: [{ keyId: pub1!.keyId, sig: "AB==" }] }],
  ])("refuses %s without throwing", (_d, rec) => {
    const w = populated();
    const e = w.r.apply(rec, 1000n);
    expect(e.result).toBe("refused");
    expect(e.error!.code).toBe("invalid_record");
  });
});
