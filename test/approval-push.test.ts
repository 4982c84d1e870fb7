/**
 * Web Push from the approval service to a push service on loopback
 * (test/helpers/push-service.ts) that checks each VAPID JWT and decrypts each
 * RFC 8291 payload with the subscription's private keys: every approver's
 * device gets the request when it opens and a closing push when it is
 * decided; 429 is retried, 410 drops the subscription.
 */
import { createHash } from "node:crypto";
import { Agent } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordSigningMessage } from "../client/entry.js";
import { approvalSigningMessage, pushSigningMessage } from "../client/replay.js";
import { OpenApprovalResponse } from "../schema/approvals.js";
import type { LedgerRecord } from "../schema/records.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { postRecord, TEST_TOKEN, TEST_WRITERS } from "./helpers/http.js";
import { TestPushService } from "./helpers/push-service.js";
import { signRecord, testKey, type TestKey } from "./helpers/records.js";
import { SoftPasskey } from "./helpers/soft-passkey.js";

const NS = "npm:@push";
const PKG = "@push/pkg";
const ORIGIN = "http://localhost:8080";
const ART = (v: string) => [{ name: `pkg-${v}.tgz`, sha256: createHash("sha256").update(v).digest("hex") }];
const [admin, publisher] = [400, 401].map(testKey) as [TestKey, TestKey];
const a = new SoftPasskey({ origin: ORIGIN });
const b = new SoftPasskey({ origin: ORIGIN });

describe("approval service: Web Push", () => {
  let dir: string;
  let ledger: Ledger;
  const push = new TestPushService();
  const f = async (path: string, init?: RequestInit): Promise<Response> => ledger.app.request(path, init);
  const json = (method: string, path: string, body: unknown, token?: string) =>
    f(path, { method, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  const ok = async (r: unknown) => expect((await postRecord(f, r)).status).toBe(201);
  const subscribe = async (p: SoftPasskey, statuses: number[] = []) => {
    const sub = push.subscribe(statuses);
    const res = await json("POST", "/v1/push/subscriptions", { subscription: sub, signature: p.signature(pushSigningMessage(p.keyId, sub.endpoint)) });
    expect(res.status).toBe(201);
    return sub;
  };
  const release = (v: string) => signRecord<LedgerRecord>({ type: "release.sign", namespace: NS, statement: { package: PKG, version: v, artifacts: ART(v), requester: a.keyId } } as never, publisher);

  beforeAll(async () => {
    await push.start();
    dir = mkdtempSync(join(tmpdir(), "ledger-push-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "2", LEDGER_PUBLIC_URL: ORIGIN }), {
      log: () => {},
      delivery: { agent: new Agent({ ca: push.ca }), attempts: 3, backoffMs: 20 },
    });
    await ok(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: admin.publicKeyB64, role: "admin" } } as never, admin));
    await ok(signRecord({ type: "key.register", namespace: NS, statement: { publicKey: publisher.publicKeyB64, role: "publish" } } as never, publisher, admin));
    for (const [name, p] of [["a", a], ["b", b]] as const) {
      const r = { type: "key.register", namespace: NS, statement: p.registerStatement(name) };
      await ok({ ...r, signatures: [p.signature(recordSigningMessage(r as never)), ...signRecord<LedgerRecord>(r as never, admin).signatures] });
    }
    await ok(signRecord({ type: "policy.set", namespace: NS, statement: { adminThreshold: 1, groups: [{ name: "all", members: [a.keyId, b.keyId], threshold: 2, excludeRequester: false }] } } as never, admin));
    for (const v of ["1.0.0", "2.0.0"]) await ok(release(v));
  });
  afterAll(async () => {
    await ledger?.close();
    await push.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("pushes the request to every approver's device, encrypted and VAPID-signed, then a closing push", async () => {
    const subA = await subscribe(a);
    const subB = await subscribe(b, [429]); // B's push service is busy once: retried
    const opened = OpenApprovalResponse.parse(await (await json("POST", "/v1/approval-requests", { namespace: NS, package: PKG, version: "1.0.0", artifacts: ART("1.0.0") }, TEST_TOKEN)).json());
    await push.waitFor((r) => r.length >= 2);
    const vapid = ((await (await f("/v1/push/vapid-public-key")).json()) as { publicKey: string }).publicKey;
    for (const sub of [subA, subB]) {
      const got = push.received.find((r) => r.endpoint === sub.endpoint)!;
      expect(got.payload).toEqual({ type: "approval-request", id: opened.id, namespace: NS, package: PKG, version: "1.0.0", url: `${ORIGIN}/approve/${opened.id}` });
      expect(got.vapidKey).toBe(vapid);
      expect(got.claims).toMatchObject({ aud: push.origin, sub: "mailto:ledger@localhost" });
    }
    expect(push.errors).toEqual([]);
    const req = { namespace: NS, package: PKG, version: "1.0.0", artifacts: ART("1.0.0"), requester: a.keyId };
    for (const p of [a, b]) expect((await json("POST", `/v1/approval-requests/${opened.id}/decisions`, { decision: "approve", signature: p.signature(approvalSigningMessage(req)) })).status).toBe(200);
    await push.waitFor((r) => r.filter((x) => (x.payload as { type: string }).type === "approval-decided").length === 2);
    expect(push.received.filter((x) => (x.payload as { type: string }).type === "approval-decided").map((x) => (x.payload as { state: string }).state)).toEqual(["approved", "approved"]);
    await ledger.approvals.push.settled();
    const metrics = await (await f("/metrics")).text();
    expect(metrics).toMatch(/ledger_push_deliveries_total\{outcome="retried"\} 1\b/);
    expect(metrics).toMatch(/ledger_push_deliveries_total\{outcome="delivered"\} 4\b/);
  });

  it("a push service answering 410 drops the subscription", async () => {
    const sub = await subscribe(a, [410]);
    const before = push.received.length;
    await json("POST", "/v1/approval-requests", { namespace: NS, package: PKG, version: "2.0.0", artifacts: ART("2.0.0") }, TEST_TOKEN);
    await ledger.approvals.push.settled();
    expect(push.received.slice(before).some((r) => r.endpoint === sub.endpoint)).toBe(false);
    expect((await ledger.approvals.store.subscriptionsOf([a.keyId])).map((s) => s.endpoint)).not.toContain(sub.endpoint);
    expect(await (await f("/metrics")).text()).toMatch(/ledger_push_deliveries_total\{outcome="gone"\} 1\b/);
  });
});
