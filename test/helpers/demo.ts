/**
 * A small but complete log for explorer and API tests: a namespace with
 * admin, publish and approve keys, a policy with an approval group, an
 * approved and an unapproved release, a break-glass registration by core
 * keys, a revocation, and filler in a second namespace so the tree grows
 * over several checkpoints.
 */
import { encodeBase64 } from "../../client/bytes.js";
import { ed25519Sign } from "../../client/ed25519.js";
import { approvalSigningMessage } from "../../client/replay.js";
import type { LedgerRecord } from "../../schema/records.js";
import { postRecord, type Fetch } from "./http.js";
import { registerKey, signRecord, signRelease, testKey, type TestKey } from "./records.js";

export const DEMO_NS = "npm:@acme";
export const DEMO_PKG = "@acme/widget";
/** A label that would run script if the explorer rendered it as HTML. */
export const HOSTILE_LABEL = `<img src=x onerror="document.body.dataset.pwned='yes'">`;

export const demoKeys = {
  admin: testKey(300),
  publish: testKey(301),
  approve: testKey(302),
  stranger: testKey(303),
  core: testKey(304),
};

/** LEDGER_CORE_KEYS for the demo's break-glass record. */
export const DEMO_CORE_KEYS = `1:${demoKeys.core.publicKeyB64}`;

export const ART = (v: string) => [{ name: `widget-${v}.tgz`, sha256: Buffer.from(`widget ${v}`).toString("hex").padEnd(64, "0").slice(0, 64) }];

function reg(k: TestKey, role: "admin" | "publish" | "approve", label: string, signers: TestKey[], breakGlass = false): LedgerRecord {
  return signRecord<LedgerRecord>({ type: "key.register", namespace: DEMO_NS, statement: { publicKey: k.publicKeyB64, role, label, ...(breakGlass ? { breakGlass } : {}) } } as never, k, ...signers);
}

export interface DemoLog {
  /** Index of each named record. */
  at: Record<string, bigint>;
  size: bigint;
}

/** Appends the demo records through the HTTP API, one at a time (so several checkpoints are made). */
export async function appendDemo(fetch: Fetch, fillers = 12): Promise<DemoLog> {
  const { admin, publish, approve, stranger, core } = demoKeys;
  const release = (v: string) =>
    signRecord<LedgerRecord>({ type: "release.sign", namespace: DEMO_NS, statement: { package: DEMO_PKG, version: v, artifacts: ART(v), requester: approve.keyId } } as never, publish);
  const approval = (v: string) => ({
    keyId: approve.keyId,
    sig: encodeBase64(ed25519Sign(approve.seed, approvalSigningMessage({ namespace: DEMO_NS, package: DEMO_PKG, version: v, artifacts: ART(v), requester: approve.keyId }))),
  });
  const steps: Array<[string, LedgerRecord]> = [
    ["admin", reg(admin, "admin", "Acme admin", [])],
    ["publish", reg(publish, "publish", HOSTILE_LABEL, [admin])],
    ["approve", reg(approve, "approve", "Acme reviewer", [admin])],
    [
      "policy",
      signRecord<LedgerRecord>({ type: "policy.set", namespace: DEMO_NS, statement: { adminThreshold: 1, groups: [{ name: "reviewers", members: [approve.keyId], threshold: 1, excludeRequester: false }] } } as never, admin),
    ],
    ["release1", release("1.0.0")],
    [
      "outcome1",
      signRecord<LedgerRecord>(
        { type: "approval.outcome", namespace: DEMO_NS, statement: { package: DEMO_PKG, version: "1.0.0", artifacts: ART("1.0.0"), requester: approve.keyId, approvals: [approval("1.0.0")], decision: "approved" } } as never,
        publish,
      ),
    ],
    ["release2", release("1.1.0")],
    ["breakGlass", reg(stranger, "admin", "registered by core keys", [core], true)],
    ["revoke", signRecord<LedgerRecord>({ type: "key.revoke", namespace: DEMO_NS, statement: { keyId: publish.keyId, reason: "credential stolen" } } as never, admin)],
  ];
  const [fillerAdmin, fillerPublish] = [testKey(310), testKey(311)];
  steps.push(["filler-admin", registerKey("npm:filler", fillerAdmin)], ["filler-publish", registerKey("npm:filler", fillerPublish, "publish", fillerAdmin)]);
  for (let i = 0; i < fillers; i++) steps.push([`filler${i}`, signRelease("npm:filler", fillerPublish, "filler", `0.0.${i}`)]);
  const at: Record<string, bigint> = {};
  for (const [name, record] of steps) {
    const r = await postRecord(fetch, record, "?wait=checkpoint");
    if (r.status !== 201) throw new Error(`demo record ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    at[name] = BigInt(r.body.index);
  }
  return { at, size: BigInt(steps.length) };
}
