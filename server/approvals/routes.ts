/** HTTP routes of the approval service: requests, decisions, push subscriptions, enrolments. */
import { Hono, type MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { Writer } from "../auth.js";
import { ApiError } from "../errors.js";
import { limitBody, parseJsonBody, requireJsonContent } from "../routes/body.js";
import { parseBase64 } from "../../client/bytes.js";
import { keyIdOf, parseEntry } from "../../client/entry.js";
import { pushSigningMessage, registeredKey } from "../../client/replay.js";
import { verifyWebAuthn } from "../../client/webauthn.js";
import { WebAuthnError } from "../../client/errors.js";
import { DecisionBody, EnrollmentCredentialBody, EnrollmentOptionsBody, EnrollmentSignatureBody, OpenApprovalRequestBody, PushSubscribeBody } from "../../schema/approvals.js";
import { ed25519VerifyNode } from "../crypto.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { StoreReader } from "../store/store.js";
import type { ApprovalService } from "./service.js";
import type { Enrollments } from "./enroll.js";
import type { PushSender } from "./push.js";
import type { ApprovalStore } from "../store/approval-store.js";

export interface ApprovalRouteDeps {
  service: ApprovalService;
  enrollments: Enrollments;
  approvals: ApprovalStore;
  push: PushSender | undefined;
  reader: StoreReader & { findKeyRegistrations(keyId: string): Promise<Array<{ index: bigint; entry: Uint8Array }>> };
  namespaces: NamespaceCache;
  requireWriter: MiddlewareHandler<{ Variables: { writer: Writer } }>;
  /** Longest long-poll (default 60 s). */
  maxWaitMs?: number;
}

/** untrusted: a JSON body parsed with its schema, or a 4xx naming the first problem. */
async function body<S extends z.ZodType>(c: { req: { text(): Promise<string>; header(n: string): string | undefined } }, schema: S): Promise<z.infer<S>> {
  requireJsonContent(c.req.header("content-type"), "bodies");
  return parseJsonBody(await c.req.text(), schema, "bad_request", "body");
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
function idParam(id: string): string {
  if (!ID_RE.test(id)) throw new ApiError("invalid_parameter", "id must be base64url");
  return id;
}

export function approvalRoutes(deps: ApprovalRouteDeps): Hono<{ Variables: { writer: Writer } }> {
  const app = new Hono<{ Variables: { writer: Writer } }>();
  const limit = limitBody(64 * 1024);
  const maxWait = deps.maxWaitMs ?? 60_000;

  app.post("/approval-requests", deps.requireWriter, limit, async (c) => {
    const b = await body(c, OpenApprovalRequestBody);
    return c.json(await deps.service.open(c.get("writer"), b), 201);
  });

  app.get("/approval-requests/:id", async (c) => {
    const id = idParam(c.req.param("id"));
    const wait = c.req.query("wait");
    if (wait === undefined) return c.json(await deps.service.get(id), 200, { "Cache-Control": "no-store" });
    if (wait !== "decided") throw new ApiError("invalid_parameter", "wait must be 'decided'");
    const t = c.req.query("timeout");
    if (t !== undefined && !/^\d{1,5}$/.test(t)) throw new ApiError("invalid_parameter", "timeout is whole seconds");
    const ms = Math.min(t === undefined ? maxWait : Number(t) * 1000, maxWait);
    return c.json(await deps.service.waitDecided(id, ms, c.req.raw.signal), 200, { "Cache-Control": "no-store" });
  });

  app.post("/approval-requests/:id/decisions", limit, async (c) => {
    const id = idParam(c.req.param("id"));
    const b = await body(c, DecisionBody);
    return c.json(await deps.service.decide(id, b.decision, b.signature));
  });

  app.get("/push/vapid-public-key", (c) => {
    if (!deps.push) throw new ApiError("not_found", "Web Push is not configured on this ledger");
    return c.json({ publicKey: deps.push.publicKey });
  });

  async function verifiedSubscriber(b: z.infer<typeof PushSubscribeBody>, unsubscribe: boolean): Promise<string> {
    const { keyId } = b.signature;
    const key = await subscriberKey(deps, keyId);
    if (!key) throw new ApiError("unknown_key", `key ${keyId} is neither a current key of any namespace nor a passkey enrolled here`);
    const message = pushSigningMessage(keyId, b.subscription.endpoint, unsubscribe);
    let ok: boolean;
    try {
      if ("webauthn" in b.signature) {
        if (!key.webauthn) throw new ApiError("bad_signature", `key ${keyId} is an Ed25519 key: it signs with "sig"`);
        verifyWebAuthn({ spki: key.bytes, passkey: key.webauthn }, message, b.signature.webauthn, { requireUserVerification: false });
        ok = true;
      } else {
        if (key.webauthn) throw new ApiError("bad_signature", `key ${keyId} is a passkey: it signs with "webauthn"`);
        let sig: Uint8Array;
        try {
          sig = parseBase64(b.signature.sig);
        } catch {
          throw new ApiError("bad_signature", "sig is not base64");
        }
        ok = sig.length === 64 && ed25519VerifyNode(key.bytes, message, sig);
      }
    } catch (e) {
      if (e instanceof WebAuthnError) throw new ApiError("bad_signature", `the subscription's signature: the passkey's ${e.check} check fails: ${e.message}`);
      throw e;
    }
    if (!ok) throw new ApiError("bad_signature", `the subscription's signature by key ${keyId} does not verify`);
    return keyId;
  }

  app.post("/push/subscriptions", limit, async (c) => {
    if (!deps.push) throw new ApiError("not_found", "Web Push is not configured on this ledger");
    const b = await body(c, PushSubscribeBody);
    const keyId = await verifiedSubscriber(b, false);
    await deps.approvals.upsertSubscription({ keyId, endpoint: b.subscription.endpoint, p256dh: b.subscription.keys.p256dh, auth: b.subscription.keys.auth }, new Date());
    return c.json({ keyId, endpoint: b.subscription.endpoint }, 201);
  });

  app.delete("/push/subscriptions", limit, async (c) => {
    const b = await body(c, PushSubscribeBody);
    const keyId = await verifiedSubscriber(b, true);
    if (!(await deps.approvals.deleteSubscription(keyId, b.subscription.endpoint))) throw new ApiError("not_found", "no such subscription");
    return c.body(null, 204);
  });

  app.post("/enrollments", limit, async (c) => {
    const b = await body(c, EnrollmentOptionsBody);
    return c.json(await deps.enrollments.begin(b.namespace, b.label), 201);
  });
  app.get("/enrollments/:id", async (c) => c.json(await deps.enrollments.get(idParam(c.req.param("id"))), 200, { "Cache-Control": "no-store" }));
  app.post("/enrollments/:id/credential", limit, async (c) => {
    const b = await body(c, EnrollmentCredentialBody);
    return c.json(await deps.enrollments.credential(idParam(c.req.param("id")), b.response as never));
  });
  app.post("/enrollments/:id/signatures", limit, async (c) => {
    const b = await body(c, EnrollmentSignatureBody);
    return c.json(await deps.enrollments.sign(idParam(c.req.param("id")), b.signature));
  });
  return app;
}

/**
 * A key that may subscribe: current in a namespace whose log registers it,
 * or a passkey enrolled here whose registration is still waiting for admins
 * (so a device can subscribe during enrolment).
 */
async function subscriberKey(deps: ApprovalRouteDeps, keyId: string) {
  for (const e of await deps.reader.findKeyRegistrations(keyId)) {
    const { record } = parseEntry(e.entry);
    if (record.type !== "key.register") continue;
    const ns = await deps.namespaces.get(record.namespace, deps.reader);
    if (!ns.currentKey(keyId)) continue;
    const k = registeredKey(record.statement);
    if (k.keyId === keyId) return k;
  }
  const enrolled = await deps.approvals.enrolledKey(keyId);
  const st = (enrolled?.record as { statement?: { publicKey: string; webauthn?: never } } | null)?.statement;
  if (st) {
    const k = registeredKey(st);
    if (k.keyId === keyId && keyIdOf(k.bytes) === keyId) return k;
  }
  return undefined;
}
