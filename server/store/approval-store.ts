/**
 * The approval service's tables (migration 2026-12-03T1600-approvals): the one
 * place their rows become typed values. Mutable state, unlike the log's
 * tables (store.ts); the log holds every decision that matters.
 */
import type { Kysely } from "kysely";
import type { Database } from "../../schema/database.js";
import type { Artifact } from "../../client/replay.js";
import type { RecordSignature } from "../../schema/records.js";
import { parseInt8 } from "./dialect.js";

export type RequestState = "pending" | "approved" | "rejected" | "expired";

export interface StoredRequest {
  id: string;
  namespace: string;
  package: string;
  version: string;
  artifacts: Artifact[];
  requester: string;
  releaseIndex: bigint;
  state: RequestState;
  writer: string;
  callbackUrl: string | null;
  /** The webhook's HMAC-SHA256 key (hex SHA-256 of the writer's token). */
  callbackKey: string | null;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  outcomeIndex: bigint | null;
}

export interface StoredDecision {
  keyId: string;
  decision: "approve" | "reject";
  signature: RecordSignature;
  userVerified: boolean | null;
  createdAt: Date;
}

export interface PushSubscription {
  keyId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface WebhookDelivery {
  requestId: string;
  url: string;
  event: string;
  attempt: number;
  status: number | null;
  error: string | null;
  at: Date;
}

export interface StoredEnrollment {
  id: string;
  namespace: string;
  label: string;
  challenge: string;
  state: "ceremony" | "unsigned" | "pending" | "logged";
  keyId: string | null;
  record: Record<string, unknown> | null;
  loggedIndex: bigint | null;
  createdAt: Date;
  expiresAt: Date;
}

/** A unique constraint refused the row (either driver). */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string })?.code === "23505";
}

function toRequest(r: Record<string, any>): StoredRequest {
  return {
    id: r.id,
    namespace: r.namespace,
    package: r.package,
    version: r.version,
    artifacts: JSON.parse(r.artifacts),
    requester: r.requester,
    releaseIndex: parseInt8(r.release_index),
    state: r.state,
    writer: r.writer,
    callbackUrl: r.callback_url,
    callbackKey: r.callback_key,
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
    decidedAt: r.decided_at === null ? null : new Date(r.decided_at),
    outcomeIndex: r.outcome_index === null ? null : parseInt8(r.outcome_index),
  };
}

function toEnrollment(r: Record<string, any>): StoredEnrollment {
  return {
    id: r.id,
    namespace: r.namespace,
    label: r.label,
    challenge: r.challenge,
    state: r.state,
    keyId: r.key_id,
    record: r.record === null ? null : JSON.parse(r.record),
    loggedIndex: r.logged_index === null ? null : parseInt8(r.logged_index),
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
  };
}

export class ApprovalStore {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Inserts a pending request; false when the release already has one open. */
  async insertRequest(r: StoredRequest): Promise<boolean> {
    try {
      await this.#db
        .insertInto("approval_requests")
        .values({
          id: r.id,
          namespace: r.namespace,
          package: r.package,
          version: r.version,
          artifacts: JSON.stringify(r.artifacts),
          requester: r.requester,
          release_index: r.releaseIndex,
          state: "pending",
          writer: r.writer,
          callback_url: r.callbackUrl,
          callback_key: r.callbackKey,
          created_at: r.createdAt,
          expires_at: r.expiresAt,
          decided_at: null,
          outcome_index: null,
        })
        .execute();
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async getRequest(id: string): Promise<StoredRequest | undefined> {
    const r = await this.#db.selectFrom("approval_requests").selectAll().where("id", "=", id).executeTakeFirst();
    return r && toRequest(r);
  }

  async openRequestFor(namespace: string, pkg: string, version: string): Promise<StoredRequest | undefined> {
    const r = await this.#db
      .selectFrom("approval_requests")
      .selectAll()
      .where("namespace", "=", namespace)
      .where("package", "=", pkg)
      .where("version", "=", version)
      .where("state", "=", "pending")
      .executeTakeFirst();
    return r && toRequest(r);
  }

  async listRequests(opts: { state?: RequestState; limit: number }): Promise<StoredRequest[]> {
    let q = this.#db.selectFrom("approval_requests").selectAll().orderBy("created_at", "desc").limit(opts.limit);
    if (opts.state) q = q.where("state", "=", opts.state);
    return (await q.execute()).map(toRequest);
  }

  /** Pending requests: those past `now` (to expire) or all of them (to reconcile). */
  async pendingRequests(expiredBy?: Date): Promise<StoredRequest[]> {
    let q = this.#db.selectFrom("approval_requests").selectAll().where("state", "=", "pending");
    if (expiredBy) q = q.where("expires_at", "<=", expiredBy);
    return (await q.execute()).map(toRequest);
  }

  /** Moves a pending request to its decided state; false if it was no longer pending. */
  async decide(id: string, state: Exclude<RequestState, "pending">, at: Date, outcomeIndex: bigint | null): Promise<boolean> {
    const r = await this.#db
      .updateTable("approval_requests")
      .set({ state, decided_at: at, outcome_index: outcomeIndex })
      .where("id", "=", id)
      .where("state", "=", "pending")
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async countByState(): Promise<Record<RequestState, number>> {
    const rows = await this.#db.selectFrom("approval_requests").select(["state"]).select((eb) => eb.fn.countAll<string | number>().as("n")).groupBy("state").execute();
    const out: Record<RequestState, number> = { pending: 0, approved: 0, rejected: 0, expired: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  /**
   * Records a decision; "replayed" when the same assertion was ever used
   * (on any request), "duplicate" when this key already decided here.
   */
  async insertDecision(requestId: string, d: StoredDecision, digest: string): Promise<"ok" | "replayed" | "duplicate"> {
    const seen = await this.#db.selectFrom("approval_decisions").select(["request_id"]).where("assertion_digest", "=", digest).executeTakeFirst();
    if (seen) return "replayed";
    try {
      await this.#db
        .insertInto("approval_decisions")
        .values({ request_id: requestId, key_id: d.keyId, decision: d.decision, signature: JSON.stringify(d.signature), assertion_digest: digest, user_verified: d.userVerified, created_at: d.createdAt })
        .execute();
      return "ok";
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const again = await this.#db.selectFrom("approval_decisions").select(["request_id"]).where("assertion_digest", "=", digest).executeTakeFirst();
      return again ? "replayed" : "duplicate";
    }
  }

  async decisions(requestId: string): Promise<StoredDecision[]> {
    const rows = await this.#db.selectFrom("approval_decisions").selectAll().where("request_id", "=", requestId).orderBy("created_at").orderBy("key_id").execute();
    return rows.map((r) => ({ keyId: r.key_id, decision: r.decision, signature: JSON.parse(r.signature), userVerified: r.user_verified, createdAt: new Date(r.created_at) }));
  }

  async upsertSubscription(s: PushSubscription, at: Date): Promise<void> {
    await this.#db
      .insertInto("push_subscriptions")
      .values({ key_id: s.keyId, endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth, created_at: at })
      .onConflict((oc) => oc.columns(["key_id", "endpoint"]).doUpdateSet({ p256dh: s.p256dh, auth: s.auth, created_at: at }))
      .execute();
  }

  async deleteSubscription(keyId: string, endpoint: string): Promise<boolean> {
    const r = await this.#db.deleteFrom("push_subscriptions").where("key_id", "=", keyId).where("endpoint", "=", endpoint).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /** Drops an endpoint for every key (the push service said it is gone). */
  async dropEndpoint(endpoint: string): Promise<void> {
    await this.#db.deleteFrom("push_subscriptions").where("endpoint", "=", endpoint).execute();
  }

  async subscriptionsOf(keyIds: string[]): Promise<PushSubscription[]> {
    if (keyIds.length === 0) return [];
    const rows = await this.#db.selectFrom("push_subscriptions").selectAll().where("key_id", "in", keyIds).orderBy("created_at").execute();
    return rows.map((r) => ({ keyId: r.key_id, endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth }));
  }

  async addDelivery(d: WebhookDelivery): Promise<void> {
    await this.#db.insertInto("webhook_deliveries").values({ request_id: d.requestId, url: d.url, event: d.event, attempt: d.attempt, status: d.status, error: d.error, at: d.at }).execute();
  }

  async deliveries(requestId?: string): Promise<WebhookDelivery[]> {
    let q = this.#db.selectFrom("webhook_deliveries").selectAll().orderBy("id");
    if (requestId) q = q.where("request_id", "=", requestId);
    const rows = await q.execute();
    return rows.map((r) => ({ requestId: r.request_id, url: r.url, event: r.event, attempt: r.attempt, status: r.status, error: r.error, at: new Date(r.at) }));
  }

  async insertEnrollment(e: StoredEnrollment): Promise<void> {
    await this.#db
      .insertInto("enrollments")
      .values({ id: e.id, namespace: e.namespace, label: e.label, challenge: e.challenge, state: e.state, key_id: e.keyId, record: e.record && JSON.stringify(e.record), logged_index: e.loggedIndex, created_at: e.createdAt, expires_at: e.expiresAt })
      .execute();
  }

  async getEnrollment(id: string): Promise<StoredEnrollment | undefined> {
    const r = await this.#db.selectFrom("enrollments").selectAll().where("id", "=", id).executeTakeFirst();
    return r && toEnrollment(r);
  }

  /** Moves an enrolment from one state to the next; false when another request moved it first. */
  async advanceEnrollment(id: string, from: StoredEnrollment["state"], to: Pick<StoredEnrollment, "state" | "keyId" | "record" | "loggedIndex">): Promise<boolean> {
    const r = await this.#db
      .updateTable("enrollments")
      .set({ state: to.state, key_id: to.keyId, record: to.record && JSON.stringify(to.record), logged_index: to.loggedIndex })
      .where("id", "=", id)
      .where("state", "=", from)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** A passkey enrolled here whose registration is not logged yet (for push subscriptions made at enrolment). */
  async enrolledKey(keyId: string): Promise<StoredEnrollment | undefined> {
    const r = await this.#db.selectFrom("enrollments").selectAll().where("key_id", "=", keyId).where("state", "in", ["unsigned", "pending", "logged"]).executeTakeFirst();
    return r && toEnrollment(r);
  }
}
