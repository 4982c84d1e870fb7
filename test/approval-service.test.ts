/**
 * The approval service over HTTP on every store (DESIGN "The approval
 * service"), with software passkeys (test/helpers/soft-passkey.ts): the
 * @swc policy (owner; one of core, excluding the requester; the colleague,
 * excluding the requester). A request turns approved only when the rules
 * accept the outcome, which the service logs itself with the raw assertions;
 * every hostile decision is refused with a code and nothing is logged; a
 * restart keeps a request and its approvals.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { parseEntry, recordSigningMessage } from "../client/entry.js";
import { LedgerClient } from "../client/ledger-client.js";
import { approvalSigningMessage, pushSigningMessage, rejectionSigningMessage } from "../client/replay.js";
import * as api from "../schema/api.js";
import { ApprovalRequestResponse, EnrollmentResponse, OpenApprovalResponse } from "../schema/approvals.js";
import type { LedgerRecord } from "../schema/records.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { webhookSignature } from "../server/approvals/webhook.js";
import { postRecord, TEST_TOKEN, TEST_WRITERS } from "./helpers/http.js";
import { signRecord, testKey, type TestKey } from "./helpers/records.js";
import { SoftPasskey } from "./helpers/soft-passkey.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

const NS = "npm:@swc";
const PKG = "@swc/core";
const ORIGIN = "http://localhost:8080";
const OTHER_TOKEN = "other-writer-token-0123456789abcdef";
const ART = (v: string) => [{ name: `swc-core-${v}.tgz`, sha256: createHash("sha256").update(`swc ${v}`).digest("hex") }];
const [admin, publisher, adminB] = [300, 301, 302].map(testKey) as [TestKey, TestKey, TestKey];
const adminPasskey = new SoftPasskey({ origin: ORIGIN });
const pk = { owner: new SoftPasskey({ origin: ORIGIN }), coreA: new SoftPasskey({ origin: ORIGIN }), coreB: new SoftPasskey({ origin: ORIGIN }), colleague: new SoftPasskey({ origin: ORIGIN }), outsider: new SoftPasskey({ origin: ORIGIN }) };
const requester = pk.owner.keyId;
const req = (v: string) => ({ namespace: NS, package: PKG, version: v, artifacts: ART(v), requester });
const approval = (p: SoftPasskey, v: string, opts: { uv?: boolean } = {}) => p.signature(approvalSigningMessage(req(v)), opts);
const rejection = (p: SoftPasskey, v: string) => p.signature(rejectionSigningMessage(req(v)));

function passkeyRegistration(name: string, p: SoftPasskey): LedgerRecord {
  const r = { type: "key.register", namespace: NS, statement: p.registerStatement(name) } as const;
  const own = p.signature(recordSigningMessage(r as never));
  const admins = signRecord<LedgerRecord>(r as never, admin).signatures;
  return { ...r, signatures: [own, ...admins] } as LedgerRecord;
}

describe.each(STORES)("approval service: $kind", (fixture) => {
  let loc: StoreLocation;
  let dir: string;
  let ledger: Ledger;
  let hook: Server;
  let hookUrl = "";
  let first = "";
  const hooks: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  const start = async () => {
    const env = {
      LEDGER_DATA_DIR: dir,
      LEDGER_WRITER_TOKENS: `${TEST_WRITERS},other:${OTHER_TOKEN}:npm:@other`,
      BATCH_MAX_AGE_MS: "2",
      LEDGER_PUBLIC_URL: ORIGIN,
      LEDGER_APPROVAL_TTL: "1h",
      ...(loc.databaseUrl ? { DATABASE_URL: loc.databaseUrl } : {}),
    };
    ledger = await createLedger(loadConfig(env), { log: () => {}, delivery: { attempts: 2, backoffMs: 10 }, approvalSweepMs: 100 });
  };
  const f = async (path: string, init?: RequestInit): Promise<Response> => ledger.app.request(path, init);
  const json = (method: string, path: string, body: unknown, token: string | null = null) =>
    f(path, { method, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  const ok = async (r: unknown) => {
    const res = await postRecord(f, r);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return BigInt(res.body.index);
  };
  const open = (v: string, extra: object = {}) => json("POST", "/v1/approval-requests", { ...req(v), ...extra }, TEST_TOKEN);
  const decide = (id: string, decision: "approve" | "reject", signature: unknown) => json("POST", `/v1/approval-requests/${id}/decisions`, { decision, signature });
  const view = async (id: string) => ApprovalRequestResponse.parse(await (await f(`/v1/approval-requests/${id}`)).json());
  const treeSize = async () => BigInt((await (await f("/v1/log")).json()).treeSize);
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const release = (v: string) => signRecord<LedgerRecord>({ type: "release.sign", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), requester } } as never, publisher);
  const openOk = async (v: string, extra: object = {}) => {
    const res = await open(v, extra);
    expect(res.status, await res.clone().text()).toBe(201);
    return OpenApprovalResponse.parse(await res.json()).id;
  };

  beforeAll(async () => {
    loc = await fixture.create();
    dir = mkdtempSync(join(tmpdir(), "ledger-approvals-"));
    hook = createServer((q, s) => {
      let body = "";
      q.on("data", (c) => (body += c));
      q.on("end", () => {
        hooks.push({ headers: q.headers, body });
        s.writeHead(hooks.length === 1 ? 503 : 204).end(); // the first delivery fails once: retried
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
    await start();
    await ok(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: admin.publicKeyB64, role: "admin" } } as never, admin));
    await ok(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: publisher.publicKeyB64, role: "publish" } } as never, publisher, admin));
    for (const [name, p] of Object.entries(pk)) await ok(passkeyRegistration(name, p));
    const adminReg = { type: "key.register", namespace: NS, statement: adminPasskey.registerStatement("admin on a phone", "admin") } as const;
    await ok({ ...adminReg, signatures: [adminPasskey.signature(recordSigningMessage(adminReg as never)), ...signRecord<LedgerRecord>(adminReg as never, admin).signatures] });
    await ok(
      signRecord(
        {
          type: "policy.set",
          namespace: NS,
          statement: {
            adminThreshold: 1,
            groups: [
              { name: "owner", members: [pk.owner.keyId], threshold: 1, excludeRequester: false },
              { name: "core", members: [pk.coreA.keyId, pk.coreB.keyId, pk.owner.keyId], threshold: 1, excludeRequester: true },
              { name: "colleague", members: [pk.colleague.keyId], threshold: 1, excludeRequester: true },
            ],
          },
        } as never,
        admin,
      ),
    );
    for (const v of ["1.0.0", "1.0.1", "2.0.0", "3.0.0", "4.0.0", "5.0.0"]) await ok(release(v));
  });
  afterAll(async () => {
    await ledger?.close();
    hook?.close();
    await loc?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the VAPID key under the data dir, mode 0600, and serves its public half", async () => {
    expect(statSync(join(dir, "vapid.json")).mode & 0o777).toBe(0o600);
    const { publicKey } = (await (await f("/v1/push/vapid-public-key")).json()) as { publicKey: string };
    expect(Buffer.from(publicKey, "base64url")).toHaveLength(65);
  });

  it("opens a request for a logged release only, one at a time, for its writer", async () => {
    expect(await code(await open("9.9.9"))).toBe("unknown_release");
    expect(await code(await open("1.0.0", { artifacts: ART("1.0.1") }))).toBe("artifact_mismatch");
    expect(await code(await open("1.0.0", { requester: pk.coreA.keyId }))).toBe("requester_mismatch");
    expect((await json("POST", "/v1/approval-requests", req("1.0.0"), null)).status).toBe(401);
    expect(await code(await json("POST", "/v1/approval-requests", req("1.0.0"), OTHER_TOKEN))).toBe("forbidden"); // another registry's scope
    expect(await code(await json("POST", "/v1/approval-requests", { ...req("1.0.0"), extra: 1 }, TEST_TOKEN))).toBe("bad_request");
    const id = (first = await openOk("1.0.0", { callbackUrl: hookUrl }));
    const again = await open("1.0.0");
    expect(again.status).toBe(409);
    expect(await code(again)).toBe("request_exists");
    const v = await view(id);
    expect(v).toMatchObject({ state: "pending", requester, outcomeIndex: null, url: `${ORIGIN}/approve/${id}`, rejectedBy: [] });
    expect(v.groups.map((g) => [g.name, g.approvedBy])).toEqual([["owner", []], ["core", []], ["colleague", []]]);
    expect(v.members.find((m) => m.keyId === pk.coreA.keyId)).toMatchObject({ label: "coreA", credentialId: pk.coreA.credentialIdB64url, rpId: "localhost", groups: ["core"] });
    expect(v.previous).toBeNull();
    expect((await view(await openOk("1.0.1"))).previous).toMatchObject({ version: "1.0.0", artifacts: ART("1.0.0") });
  });

  it("approves only when every group is met, refusing each hostile decision with a code and logging nothing", async () => {
    const id = first;
    const size0 = await treeSize();
    // Not a member of any group; an assertion for another release; a forged assertion.
    expect(await code(await decide(id, "approve", approval(pk.outsider, "1.0.0")))).toBe("not_a_member");
    expect(await code(await decide(id, "approve", approval(pk.coreA, "1.0.1")))).toBe("bad_signature");
    const forged = approval(pk.coreB, "1.0.0");
    expect(await code(await decide(id, "approve", { ...forged, keyId: pk.coreA.keyId }))).toBe("bad_signature");
    expect(await code(await decide(id, "approve", { keyId: admin.keyId, sig: encodeBase64(ed25519Sign(admin.seed, approvalSigningMessage(req("1.0.0")))) }))).toBe("not_a_member");
    // A passkey without user verification where the group needs it.
    expect(await code(await decide(id, "approve", approval(pk.coreA, "1.0.0", { uv: false })))).toBe("user_verification_required");
    // The requester's approval is accepted (it proves who requested) but counts only in the owner group, not in core.
    const own = await decide(id, "approve", approval(pk.owner, "1.0.0"));
    expect(own.status).toBe(200);
    const afterOwn = ApprovalRequestResponse.parse(await own.json());
    expect(afterOwn.state).toBe("pending");
    expect(afterOwn.groups.map((g) => [g.name, g.approvedBy])).toEqual([["owner", [pk.owner.keyId]], ["core", []], ["colleague", []]]);
    const a = approval(pk.coreA, "1.0.0");
    expect((await decide(id, "approve", a)).status).toBe(200);
    expect(await code(await decide(id, "approve", a))).toBe("assertion_replayed");
    expect(await code(await decide(id, "approve", approval(pk.coreA, "1.0.0")))).toBe("duplicate_approver");
    expect(await treeSize()).toBe(size0); // nothing logged yet
    expect((await view(id)).state).toBe("pending");
    // The third group: the service logs the outcome, unsigned, with the raw assertions.
    const last = ApprovalRequestResponse.parse(await (await decide(id, "approve", approval(pk.colleague, "1.0.0"))).json());
    expect(last.state).toBe("approved");
    expect(last.outcomeIndex).not.toBeNull();
    const entry = api.EntryResponse.parse(await (await f(`/v1/entries/${last.outcomeIndex}`)).json());
    const { record } = parseEntry(Buffer.from(entry.entry, "base64"));
    expect(record).toMatchObject({ type: "approval.outcome", signatures: [], statement: { decision: "approved", requester } });
    expect((record.statement as { approvals: Array<{ keyId: string }> }).approvals.map((x) => x.keyId)).toEqual([pk.owner.keyId, pk.coreA.keyId, pk.colleague.keyId]);
    expect(await treeSize()).toBe(size0 + 1n);
    expect(await code(await decide(id, "approve", approval(pk.coreB, "1.0.0")))).toBe("request_decided");
    expect(await code(await open("1.0.0"))).toBe("release_approved");
    // A client trusting neither service nor server re-verifies it.
    const client = new LedgerClient({ url: "http://ledger", logKey: ledger.signer.verifierKey, breakGlass: "refuse", fetch: async (u) => f(new URL(String(u)).pathname + new URL(String(u)).search) });
    await expect(client.verifyRelease({ namespace: NS, package: PKG, version: "1.0.0", artifacts: ART("1.0.0") })).resolves.toBeDefined();
    // The registry's webhook: retried after its 503, signed with the HMAC of its token's hash.
    await ledger.approvals.webhooks.settled();
    expect(hooks).toHaveLength(2);
    for (const h of hooks) {
      expect(h.headers["ledger-event"]).toBe("approval-request.approved");
      expect(h.headers["ledger-signature"]).toBe(webhookSignature(createHash("sha256").update(TEST_TOKEN).digest("hex"), h.body));
      expect(JSON.parse(h.body)).toMatchObject({ id, state: "approved", outcomeIndex: last.outcomeIndex });
    }
    expect((await ledger.approvals.store.deliveries(id)).map((d) => [d.attempt, d.status])).toEqual([[1, 503], [2, 204]]);
  });

  it("a rejection by one member is logged and final", async () => {
    const id = await openOk("2.0.0");
    const waiting = f(`/v1/approval-requests/${id}?wait=decided&timeout=20`).then((r) => r.json());
    const size0 = await treeSize();
    expect(await code(await decide(id, "reject", approval(pk.colleague, "2.0.0")))).toBe("bad_signature"); // an approval is no rejection
    expect(await code(await decide(id, "reject", rejection(pk.outsider, "2.0.0")))).toBe("not_a_member");
    const r = ApprovalRequestResponse.parse(await (await decide(id, "reject", rejection(pk.colleague, "2.0.0"))).json());
    expect(r).toMatchObject({ state: "rejected", rejectedBy: [pk.colleague.keyId] });
    expect(await treeSize()).toBe(size0 + 1n);
    expect(ApprovalRequestResponse.parse(await waiting)).toMatchObject({ id, state: "rejected" });
    expect(await code(await decide(id, "approve", approval(pk.coreA, "2.0.0")))).toBe("request_decided");
    expect(await code(await open("2.0.0"))).toBe("release_rejected");
    const rel = api.ReleaseResponse.parse(await (await f(`/v1/releases/${encodeURIComponent(NS)}/${encodeURIComponent(PKG)}/2.0.0`)).json());
    expect(rel.approved).toBe(false);
  });

  it("expires: no decision counts afterwards, nothing is logged, and its assertions never count again", async () => {
    const id = await openOk("3.0.0", { expiresIn: 1 });
    const early = approval(pk.owner, "3.0.0");
    expect((await decide(id, "approve", early)).status).toBe(200);
    const size0 = await treeSize();
    await new Promise((r) => setTimeout(r, 1300));
    expect((await view(id)).state).toBe("expired");
    expect(await code(await decide(id, "approve", approval(pk.coreA, "3.0.0")))).toBe("request_expired");
    expect(await treeSize()).toBe(size0);
    // A new request for the same release: the old assertion is a replay; a fresh one counts.
    const id2 = await openOk("3.0.0");
    expect(await code(await decide(id2, "approve", early))).toBe("assertion_replayed");
    expect((await decide(id2, "approve", approval(pk.owner, "3.0.0"))).status).toBe(200);
  });

  it("push subscriptions are bound to a key by its signature; a forged one is refused", async () => {
    const sub = { endpoint: "https://push.example/ep/1", keys: { p256dh: "BAAA", auth: "AAAA" } };
    const signed = (p: SoftPasskey, unsubscribe = false) => p.signature(pushSigningMessage(p.keyId, sub.endpoint, unsubscribe));
    expect(await code(await json("POST", "/v1/push/subscriptions", { subscription: sub, signature: { ...signed(pk.coreA), keyId: pk.coreB.keyId } }))).toBe("bad_signature");
    expect(await code(await json("POST", "/v1/push/subscriptions", { subscription: { ...sub, endpoint: "http://push.example/ep" }, signature: signed(pk.coreB) }))).toBe("bad_request");
    expect((await json("POST", "/v1/push/subscriptions", { subscription: sub, signature: signed(pk.coreB) })).status).toBe(201);
    // The subscribe signature does not unsubscribe: DELETE signs its own message.
    expect(await code(await json("DELETE", "/v1/push/subscriptions", { subscription: sub, signature: signed(pk.coreB) }))).toBe("bad_signature");
    expect((await json("DELETE", "/v1/push/subscriptions", { subscription: sub, signature: signed(pk.coreB, true) })).status).toBe(204);
    expect(await ledger.approvals.store.subscriptionsOf([pk.coreB.keyId])).toEqual([]);
  });

  it("enrols a passkey: ceremony, its own signature, an admin's co-signature, then logged", async () => {
    const p = new SoftPasskey({ origin: ORIGIN });
    const begin = (await (await json("POST", "/v1/enrollments", { namespace: NS, label: "newcomer" })).json()) as { id: string; options: { challenge: string; rp: { id: string } } };
    expect(begin.options.rp.id).toBe("localhost");
    expect(await code(await json("POST", `/v1/enrollments/${begin.id}/credential`, { response: p.registration("AAAA") }))).toBe("registration_failed");
    expect(await code(await json("POST", `/v1/enrollments/${begin.id}/credential`, { response: p.registration(begin.options.challenge, { origin: "http://evil.example" }) }))).toBe("registration_failed");
    const e1 = EnrollmentResponse.parse(await (await json("POST", `/v1/enrollments/${begin.id}/credential`, { response: p.registration(begin.options.challenge) })).json());
    expect(e1).toMatchObject({ state: "unsigned", keyId: p.keyId });
    const message = Buffer.from(e1.message!, "base64");
    // An admin cannot sign before the passkey proves possession; the passkey signs; a non-admin cannot co-sign.
    const adminSig = { keyId: admin.keyId, sig: encodeBase64(ed25519Sign(admin.seed, message)) };
    expect(await code(await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: adminSig }))).toBe("no_proof_of_possession");
    expect((await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: p.signature(message) })).status).toBe(200);
    expect(await code(await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: { keyId: publisher.keyId, sig: encodeBase64(ed25519Sign(publisher.seed, message)) } }))).toBe("not_authorized");
    expect(await code(await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: { keyId: admin.keyId, sig: encodeBase64(ed25519Sign(adminB.seed, message)) } }))).toBe("bad_signature");
    const done = EnrollmentResponse.parse(await (await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: adminSig })).json());
    expect(done.state).toBe("logged");
    const ns = api.NamespaceResponse.parse(await (await f(`/v1/namespaces/${encodeURIComponent(NS)}`)).json());
    expect(ns.keys.find((k) => k.keyId === p.keyId)).toMatchObject({ role: "approve", registeredAt: done.loggedIndex });
  });

  it("an admin's passkey co-signs an enrolment as well as an Ed25519 admin key", async () => {
    const p = new SoftPasskey({ origin: ORIGIN });
    const begin = (await (await json("POST", "/v1/enrollments", { namespace: NS, label: "second" })).json()) as { id: string; options: { challenge: string } };
    const e1 = EnrollmentResponse.parse(await (await json("POST", `/v1/enrollments/${begin.id}/credential`, { response: p.registration(begin.options.challenge) })).json());
    const message = Buffer.from(e1.message!, "base64");
    expect((await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: p.signature(message) })).status).toBe(200);
    // An approve passkey is no admin; an admin passkey without UV still signs (records need UP only).
    expect(await code(await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: pk.coreA.signature(message) }))).toBe("not_authorized");
    const done = EnrollmentResponse.parse(await (await json("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: adminPasskey.signature(message) })).json());
    expect(done.state).toBe("logged");
  });

  it("when the log cannot take the outcome, the decision is kept and the sweep logs it later", async () => {
    const id = await openOk("5.0.0");
    for (const p of [pk.owner, pk.coreA]) expect((await decide(id, "approve", approval(p, "5.0.0"))).status).toBe(200);
    const submit = ledger.sequencer.submit;
    ledger.sequencer.submit = () => Promise.reject(new Error("store down (test)"));
    try {
      const r = ApprovalRequestResponse.parse(await (await decide(id, "approve", approval(pk.colleague, "5.0.0"))).json());
      expect(r.state).toBe("pending"); // kept, not lost, not approved
    } finally {
      ledger.sequencer.submit = submit;
    }
    await expect.poll(async () => (await view(id)).state, { timeout: 5000 }).toBe("approved");
    expect(await code(await decide(id, "approve", approval(pk.colleague, "5.0.0")))).toBe("request_decided");
  });

  it("a restart keeps a pending request and its approvals; the sweep finishes what the table missed", async () => {
    const id = await openOk("4.0.0");
    expect((await decide(id, "approve", approval(pk.owner, "4.0.0"))).status).toBe(200);
    expect((await decide(id, "approve", approval(pk.coreB, "4.0.0"))).status).toBe(200);
    await ledger.close();
    await start();
    const v = await view(id);
    expect(v.state).toBe("pending");
    expect(v.groups.map((g) => g.approvedBy.length)).toEqual([1, 1, 0]);
    const done = ApprovalRequestResponse.parse(await (await decide(id, "approve", approval(pk.colleague, "4.0.0"))).json());
    expect(done.state).toBe("approved");
    const metrics = await (await f("/metrics")).text();
    expect(metrics).toMatch(/ledger_approval_requests\{state="approved"\} [1-9]/);
    expect(metrics).toMatch(/ledger_approval_decision_seconds_count\{state="approved"\} [1-9]/);
  });
});
