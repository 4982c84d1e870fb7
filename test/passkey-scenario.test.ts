/**
 * The open letter's @swc scenario with passkey approvers, over HTTP on every
 * store, with assertions made in Chromium (test/vectors/webauthn): passkeys
 * registered with proof of possession and the admin's signature, the policy
 * (owner; core excluding the owner; colleague excluding the owner), a release,
 * an outcome carrying the raw assertions. Each trick is refused with its code
 * and logs nothing; `ledger verify-release` names every approver; a client
 * replaying the log agrees.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseBase64 } from "../client/bytes.js";
import { parseEntry } from "../client/entry.js";
import { releaseStatus, Replayer } from "../client/replay.js";
import type { Assertion } from "../client/webauthn.js";
import * as api from "../schema/api.js";
import type { LedgerRecord } from "../schema/records.js";
import { main } from "../server/cli.js";
import { getJson, postRecord, type Fetch } from "./helpers/http.js";
import { useLedger } from "./helpers/ledger.js";
import { ART, NS, PKG, passkeyKeyId, registerStatement, type PasskeyName, type ScenarioVectors } from "./helpers/passkey-scenario.js";
import { signRecord, testKey } from "./helpers/records.js";
import { STORES } from "./helpers/stores.js";

const V: ScenarioVectors = JSON.parse(readFileSync(join(import.meta.dirname, "vectors/webauthn/swc.json"), "utf8"));
const ownerAdmin = testKey(200);
const ownerPublish = testKey(201);
const id = (n: PasskeyName) => passkeyKeyId(V.passkeys[n]);
const owner = id("owner");
const sig = (label: string) => ({ keyId: id(V.assertions[label]!.key), webauthn: V.assertions[label]!.assertion });
const tamperedClientData = (label: string, edit: (cd: Record<string, unknown>) => void) => {
  const a = V.assertions[label]!.assertion;
  const cd = JSON.parse(Buffer.from(a.clientDataJSON, "base64").toString("utf8"));
  edit(cd);
  return { keyId: id(V.assertions[label]!.key), webauthn: { ...a, clientDataJSON: Buffer.from(JSON.stringify(cd)).toString("base64") } satisfies Assertion };
};

const registerPasskey = (n: PasskeyName) =>
  ({ type: "key.register", namespace: NS, statement: registerStatement(n, V.passkeys[n]), signatures: [sig(`register:${n}`), adminSig({ type: "key.register", namespace: NS, statement: registerStatement(n, V.passkeys[n]) } as never)] }) as LedgerRecord;
function adminSig(body: Omit<LedgerRecord, "signatures">) {
  return (signRecord(body as LedgerRecord, ownerAdmin).signatures as Array<{ keyId: string; sig: string }>)[0]!;
}
const release = (v: string) => signRecord<LedgerRecord>({ type: "release.sign", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), requester: owner } } as never, ownerPublish);
const outcome = (v: string, approvals: unknown[], decision: "approved" | "rejected" = "approved") =>
  signRecord<LedgerRecord>({ type: "approval.outcome", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), requester: owner, approvals, decision } } as never, ownerPublish);

describe.each(STORES)("@swc with passkey approvers over HTTP: $kind", (fixture) => {
  const t = useLedger(fixture, { serve: true });
  const fetch: Fetch = (p, init) => t.fetch(p, init);
  const ok = (r: LedgerRecord) => t.ok(r);
  const size = async () => (await getJson(fetch, "/v1/log", api.LogInfoResponse)).treeSize;
  const refused = async (what: string, r: LedgerRecord, code: string) => {
    const before = await size();
    const res = await postRecord(fetch, r);
    expect([what, res.body.error?.code]).toEqual([what, code]);
    expect(await size()).toBe(before); // nothing logged
  };

  it("approves with the raw assertions, refuses every trick with its code, and verify-release names each approver", async () => {
    await ok(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: ownerAdmin.publicKeyB64, role: "admin", label: "owner admin" } } as never, ownerAdmin));
    await ok(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: ownerPublish.publicKeyB64, role: "publish", label: "ci" } } as never, ownerPublish, ownerAdmin));
    // A passkey registration needs its own assertion (proof of possession) and the admins'.
    await refused("passkey without proof of possession", { ...registerPasskey("owner"), signatures: [registerPasskey("owner").signatures[1]!] } as LedgerRecord, "no_proof_of_possession");
    await refused("passkey without the admin", { ...registerPasskey("owner"), signatures: [registerPasskey("owner").signatures[0]!] } as LedgerRecord, "threshold_not_met");
    await refused("passkey claiming another rpId", (() => {
      const r = registerPasskey("owner");
      const statement = { ...r.statement, webauthn: { ...(r.statement as { webauthn: object }).webauthn, rpId: "example.com" } };
      return { ...r, statement, signatures: [r.signatures[0]!, adminSig({ type: "key.register", namespace: NS, statement } as never)] } as LedgerRecord;
    })(), "bad_signature");
    for (const n of ["owner", "coreA", "coreB", "colleague", "outsider"] as const) await ok(registerPasskey(n));
    const groups = [
      { name: "owner", members: [owner], threshold: 1, excludeRequester: false },
      { name: "core", members: [id("coreA"), id("coreB"), owner], threshold: 1, excludeRequester: true },
      { name: "colleague", members: [id("colleague"), owner], threshold: 1, excludeRequester: true },
    ];
    await ok(signRecord({ type: "policy.set", namespace: NS, statement: { adminThreshold: 1, groups } } as never, ownerAdmin));
    await ok(release("1.0.0"));

    const good = [sig("approve:owner:1.0.0"), sig("approve:coreA:1.0.0"), sig("approve:colleague:1.0.0")];
    await refused("UV missing where required", outcome("1.0.0", [good[0], sig("approve-without-uv:coreA:1.0.0"), good[2]]), "user_verification_required");
    await refused("an assertion made for another version", outcome("1.0.0", [good[0], { ...sig("approve:coreA:1.0.1") }, good[2]]), "bad_approval");
    await refused("a non-member", outcome("1.0.0", [...good, sig("approve:outsider:1.0.0")]), "bad_approval");
    await refused("the same passkey twice", outcome("1.0.0", [good[0], good[1], good[1], good[2]]), "duplicate_approver");
    await refused("another origin", outcome("1.0.0", [good[0], tamperedClientData("approve:coreA:1.0.0", (cd) => (cd.origin = "https://evil.example")), good[2]]), "bad_approval");
    await refused("webauthn.create client data", outcome("1.0.0", [good[0], tamperedClientData("approve:coreA:1.0.0", (cd) => (cd.type = "webauthn.create")), good[2]]), "bad_approval");
    await refused("the owner alone", outcome("1.0.0", [good[0]]), "threshold_not_met");
    await ok(outcome("1.0.0", good));

    const r = await getJson(fetch, `/v1/releases/${NS}/${PKG}/1.0.0`, api.ReleaseResponse);
    expect(r).toMatchObject({ approved: true, rejected: false, requester: owner });
    expect(r.approvers.map((a) => [a.keyId, a.passkey, a.userVerified, a.groups])).toEqual([
      [owner, true, true, ["owner"]],
      [id("coreA"), true, true, ["core"]],
      [id("colleague"), true, true, ["colleague"]],
    ]);

    // 2.0.0: core B's passkey is revoked before the outcome; then a colleague rejects: final.
    await ok(release("2.0.0"));
    await ok(signRecord({ type: "key.revoke", namespace: NS, statement: { keyId: id("coreB"), reason: "lost phone" } } as never, ownerAdmin));
    await refused("a revoked passkey", outcome("2.0.0", [sig("approve:owner:2.0.0"), sig("approve:coreB:2.0.0"), sig("approve:colleague:2.0.0")]), "bad_approval");
    await refused("a rejection signed over the approval message", outcome("2.0.0", [sig("approve:colleague:2.0.0")], "rejected"), "bad_approval");
    await ok(outcome("2.0.0", [sig("reject:colleague:2.0.0")], "rejected"));
    await refused("a rejected release approved afterwards", outcome("2.0.0", [sig("approve:owner:2.0.0"), sig("approve:colleague:2.0.0")]), "release_rejected");
    expect(await getJson(fetch, `/v1/releases/${NS}/${PKG}/2.0.0`, api.ReleaseResponse)).toMatchObject({ approved: false, rejected: true });

    // A client replaying the log from HTTP reaches the same verdicts, re-verifying every assertion.
    const page = await getJson(fetch, "/v1/entries?start=0&limit=1000", api.EntriesResponse);
    const replayer = new Replayer({ breakGlass: "refuse" });
    for (const e of page.entries) {
      const entry = parseEntry(parseBase64(e.entry));
      expect(replayer.apply(entry.record, entry.index).result).toBe("applied");
    }
    expect(releaseStatus(replayer.namespace(NS), PKG, "1.0.0")).toMatchObject({ approved: true, rejected: false });
    expect(releaseStatus(replayer.namespace(NS), PKG, "2.0.0")).toMatchObject({ approved: false, rejected: true });

    // ledger verify-release, as a package manager runs it: every approver named.
    let out = "";
    let err = "";
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
    const artifact = `--artifact=${ART("1.0.0")[0]!.name}=${ART("1.0.0")[0]!.sha256}`;
    const common = ["--server", t.url, "--log-key", t.ledger.signer.verifierKey, "--namespace", NS, "--package", PKG];
    expect(await main(["verify-release", ...common, "--version", "1.0.0", artifact], io), err).toBe(0);
    for (const n of ["owner", "coreA", "colleague"]) expect(out).toMatch(new RegExp(`approved by ${n} ${id(n as PasskeyName).slice(0, 16)}… passkey, UV yes, counted in (owner|core|colleague)`));
    out = "";
    expect(await main(["verify-release", ...common, "--version", "1.0.0", "--json", artifact], io)).toBe(0);
    expect(JSON.parse(out).approvers).toEqual([
      { keyId: owner, label: "owner", kind: "passkey", userVerified: true, groups: ["owner"] },
      { keyId: id("coreA"), label: "coreA", kind: "passkey", userVerified: true, groups: ["core"] },
      { keyId: id("colleague"), label: "colleague", kind: "passkey", userVerified: true, groups: ["colleague"] },
    ]);
    err = "";
    const a2 = `--artifact=${ART("2.0.0")[0]!.name}=${ART("2.0.0")[0]!.sha256}`;
    expect(await main(["verify-release", ...common, "--version", "2.0.0", a2], io)).toBe(1);
    expect(err).toMatch(/\[rejected\]/);
  });
});
