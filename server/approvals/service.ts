/**
 * The approval service (DESIGN "The approval service"): a registry opens a
 * request for a logged release; every approver of the policy in force at the
 * release gets a push; each decision is a signature over the very bytes the
 * log keeps (the assertion the approve page made), checked as it arrives; the
 * moment the approvals meet every group, or on the first valid rejection, the
 * service logs the `approval.outcome` itself, unsigned (its weight is its
 * approvals: docs/records.md). Mutable state lives in the service's tables;
 * a request's progress is always recomputed from its stored decisions and
 * the namespace state, so a restart resumes where it stopped.
 */
import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { p256 } from "@noble/curves/nist.js";
import { checkScope, type Writer } from "../auth.js";
import { ApiError } from "../errors.js";
import { RuleError } from "../../client/errors.js";
import { concatBytes, parseBase64, utf8 } from "../../client/bytes.js";
import { recordHash } from "../../client/entry.js";
import { releaseKey, releaseStatus, sameArtifacts, verifyApproval, type NamespaceState, type PolicyGroup, type ReleaseInfo, type ReleaseRequest } from "../../client/replay.js";
import type { LedgerRecord, RecordSignature } from "../../schema/records.js";
import type { ApprovalRequestJson, OpenApprovalRequest } from "../../schema/approvals.js";
import { requireCanonicalNamespace } from "../routes/params.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { Sequencer } from "../log/sequencer.js";
import type { StoreReader } from "../store/store.js";
import type { Metrics } from "../observability/metrics.js";
import type { PushSender } from "./push.js";
import type { WebhookSender } from "./webhook.js";
import type { ApprovalStore, StoredDecision, StoredRequest } from "../store/approval-store.js";

export interface ApprovalServiceOptions {
  reader: StoreReader;
  approvals: ApprovalStore;
  namespaces: NamespaceCache;
  sequencer: Sequencer;
  /** Where pages are served: the approve link is `<publicUrl>/approve/<id>`. */
  publicUrl: string;
  /** The longest (and default) time a request stays open. */
  ttlMs: number;
  now?: () => Date;
  push?: PushSender;
  webhooks?: WebhookSender;
  metrics?: Metrics;
  log?: (line: string) => void;
}

/** The event every long-poll also listens to: the service is closing. */
const CLOSING = Symbol("closing");

export class ApprovalService {
  readonly #o: ApprovalServiceOptions;
  readonly #now: () => Date;
  readonly #events = new EventEmitter();
  /** One decision at a time per request, so two last approvals never both log an outcome. */
  readonly #locks = new Map<string, Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #closed = false;
  /** Long-polls under way: answered, and awaited, on close. */
  readonly #waits = new Set<Promise<unknown>>();

  constructor(o: ApprovalServiceOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
    this.#events.setMaxListeners(0);
  }

  /** Starts the sweep that expires requests and finishes any a crash left between log and table. */
  start(intervalMs = Math.min(5000, Math.max(100, this.#o.ttlMs / 4))): void {
    const tick = () => {
      if (this.#sweeping || this.#closed) return; // one sweep at a time, none after close
      this.#sweeping = this.sweep()
        .catch((e) => this.#o.log?.(`approvals: sweep failed: ${(e as Error).message}`))
        .finally(() => (this.#sweeping = undefined));
    };
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
    tick();
  }

  /** Stops the sweep, answers the long-polls and waits for what is under way (decisions, deliveries); the store may close after. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#events.emit(CLOSING);
    await Promise.allSettled([...this.#waits]);
    await this.#sweeping;
    await Promise.allSettled([...this.#locks.values()]);
    await this.#o.webhooks?.close();
    await this.#o.push?.close();
  }

  #url(id: string): string {
    return `${this.#o.publicUrl.replace(/\/$/, "")}/approve/${id}`;
  }

  async open(writer: Writer, body: OpenApprovalRequest): Promise<{ id: string; state: "pending"; url: string; expiresAt: string }> {
    requireCanonicalNamespace(body.namespace);
    checkScope(writer, body.namespace);
    const ns = await this.#o.namespaces.get(body.namespace, this.#o.reader);
    const status = releaseStatus(ns, body.package, body.version);
    const name = `${body.namespace} ${releaseKey(body.package, body.version)}`;
    if (!status) throw new ApiError("unknown_release", `${name} is not logged: log its release.sign first`);
    if (status.revoked) throw new ApiError("release_revoked", `${name} was revoked at ${status.release.revokedAt}`);
    if (status.rejected) throw new ApiError("release_rejected", `${name} was rejected at ${status.outcome!.index}`);
    if (status.approved) {
      throw new ApiError("release_approved", status.approvalIndex === null ? `${name} needs no approval: the policy at its index has no groups` : `${name} was approved at ${status.approvalIndex}`);
    }
    if (!sameArtifacts(status.release.artifacts, body.artifacts)) throw new ApiError("artifact_mismatch", `the artifacts differ from those of ${name} at ${status.release.index}`);
    const logged = status.release.requester;
    if (logged !== undefined && body.requester !== undefined && body.requester !== logged) {
      throw new ApiError("requester_mismatch", `the request names requester ${body.requester}, the release names ${logged}`);
    }
    const requester = logged ?? body.requester;
    if (requester === undefined) throw new ApiError("requester_required", `neither the request nor ${name} names a requester`);
    const now = this.#now();
    const ttl = Math.min(body.expiresIn !== undefined ? body.expiresIn * 1000 : this.#o.ttlMs, this.#o.ttlMs);
    const req: StoredRequest = {
      id: randomBytes(16).toString("hex"),
      namespace: body.namespace,
      package: body.package,
      version: body.version,
      artifacts: status.release.artifacts,
      requester,
      releaseIndex: status.release.index,
      state: "pending",
      writer: writer.name,
      callbackUrl: body.callbackUrl ?? null,
      callbackKey: body.callbackUrl !== undefined ? (writer.tokenHash ?? null) : null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttl),
      decidedAt: null,
      outcomeIndex: null,
    };
    if (!(await this.#o.approvals.insertRequest(req))) {
      const open = await this.#o.approvals.openRequestFor(req.namespace, req.package, req.version);
      throw new ApiError("request_exists", `${name} already has an open request${open ? ` (${open.id})` : ""}: one open request per release`);
    }
    const members = membersOf(status.release);
    this.#o.push?.notify(await this.#o.approvals.subscriptionsOf(members), { type: "approval-request", id: req.id, namespace: req.namespace, package: req.package, version: req.version, url: this.#url(req.id) });
    return { id: req.id, state: "pending", url: this.#url(req.id), expiresAt: req.expiresAt.toISOString() };
  }

  async get(id: string): Promise<ApprovalRequestJson> {
    const req = await this.#reconciled(id);
    return this.#view(req, await this.#o.approvals.decisions(id));
  }

  /** The request once decided, or as it is after `timeoutMs` (the long-poll of `?wait=decided`). */
  async waitDecided(id: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalRequestJson> {
    const first = await this.#reconciled(id);
    if (first.state !== "pending" || this.#closed) return this.get(id);
    const waiting = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#events.off(id, done);
        this.#events.off(CLOSING, done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(timeoutMs, first.expiresAt.getTime() - this.#now().getTime() + 50)));
      this.#events.on(id, done);
      // Shutting down answers every long-poll at once (as it stands), so the server can close.
      this.#events.on(CLOSING, done);
      signal?.addEventListener("abort", done);
    }).then(() => this.get(id));
    this.#waits.add(waiting);
    return waiting.finally(() => this.#waits.delete(waiting));
  }

  /**
   * One member's decision. Checked on its own before it is kept (a member of
   * a group of the policy at the release, signing this request's message,
   * with UV where its groups need it, never an assertion used before); then
   * the outcome is logged if the request is complete.
   */
  async decide(id: string, decision: "approve" | "reject", signature: RecordSignature): Promise<ApprovalRequestJson> {
    return this.#serial(id, async () => {
      const req = await this.#reconciled(id);
      if (req.state === "expired") throw new ApiError("request_expired", `request ${id} expired at ${req.expiresAt.toISOString()}`);
      if (req.state !== "pending") throw new ApiError("request_decided", `request ${id} is ${req.state}${req.outcomeIndex !== null ? ` (outcome at ${req.outcomeIndex})` : ""}`);
      const ns = await this.#o.namespaces.get(req.namespace, this.#o.reader);
      const rel = this.#release(ns, req);
      const groups = rel.policy?.groups ?? [];
      if (!ns.currentKey(signature.keyId, "approve") || !groups.some((g) => g.members.includes(signature.keyId))) {
        throw new ApiError("not_a_member", `key ${signature.keyId} is not a current approve key in a group of the policy ${req.namespace} judges this release by`);
      }
      let userVerified: boolean | null;
      try {
        userVerified = verifyApproval(ns, rel, requestOf(req), signature, decision === "approve" ? "approved" : "rejected", this.#o.namespaces.verifying);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        // Not a member was answered above: what is left is a signature that does not verify over this request's message.
        throw new ApiError(e.code === "bad_approval" ? "bad_signature" : e.code, `${decision === "approve" ? "approval" : "rejection"}: ${e.message}`, { cause: e });
      }
      const itsGroups = groups.filter((g) => g.members.includes(signature.keyId));
      if (userVerified === false && itsGroups.every((g) => g.userVerification !== "preferred")) {
        throw new ApiError("user_verification_required", `the groups of key ${signature.keyId} (${itsGroups.map((g) => g.name).join(", ")}) count a passkey's decision only with user verification (UV)`);
      }
      const d: StoredDecision = { keyId: signature.keyId, decision, signature, userVerified, createdAt: this.#now() };
      if (decision === "reject") {
        // A rejection is final: make sure the log will take it before it is kept.
        this.#o.namespaces.wouldApply(ns, this.#outcome(req, [d]));
      }
      const stored = await this.#o.approvals.insertDecision(id, d, assertionDigest(signature, ns, id));
      if (stored === "replayed") throw new ApiError("assertion_replayed", `this signature was already used: an assertion counts once, on one request`);
      if (stored === "duplicate") throw new ApiError("duplicate_approver", `key ${signature.keyId} has already decided on request ${id}`);
      try {
        await this.#complete(req, ns);
      } catch (e) {
        // The decision is kept; the sweep logs the outcome once the log takes appends again.
        this.#o.log?.(`approvals: request ${id}: the outcome could not be logged yet: ${(e as Error).message}`);
      }
      return this.get(id);
    });
  }

  /** Expires what is overdue and finishes requests whose decisions suffice (after a crash or a failed append). */
  async sweep(): Promise<void> {
    for (const req of await this.#o.approvals.pendingRequests()) {
      if (this.#closed) return;
      await this.#serial(req.id, async () => {
        const r = await this.#reconciled(req.id);
        if (r.state === "pending") await this.#complete(r, await this.#o.namespaces.get(r.namespace, this.#o.reader));
      }).catch((e) => this.#o.log?.(`approvals: request ${req.id}: ${(e as Error).message}`));
    }
  }

  async countByState() {
    return this.#o.approvals.countByState();
  }

  #serial<T>(id: string, f: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const next = prev.then(f, f);
    const tail = next.catch(() => {});
    this.#locks.set(id, tail);
    void tail.then(() => {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    });
    return next;
  }

  #release(ns: NamespaceState, req: StoredRequest): ReleaseInfo {
    const rel = ns.releases.get(releaseKey(req.package, req.version));
    if (!rel || rel.index !== req.releaseIndex) throw new Error(`release ${req.package}@${req.version} of request ${req.id} is not in the namespace state`);
    return rel;
  }

  /**
   * The stored request, brought up to date: a decision the log already holds
   * (logged by this service before a crash, or by anyone through the API)
   * settles it; past its expiry a pending request expires.
   */
  async #reconciled(id: string): Promise<StoredRequest> {
    const req = await this.#o.approvals.getRequest(id);
    if (!req) throw new ApiError("not_found", `no approval request ${id}`);
    if (req.state !== "pending") return req;
    const ns = await this.#o.namespaces.get(req.namespace, this.#o.reader);
    const status = releaseStatus(ns, req.package, req.version);
    if (status?.outcome && status.outcome.index > req.releaseIndex) {
      return this.#settle(req, status.outcome.decision, status.outcome.index);
    }
    if (status?.revoked) return this.#settle(req, "rejected", null);
    if (req.expiresAt.getTime() <= this.#now().getTime()) return this.#settle(req, "expired", null);
    return req;
  }

  async #settle(req: StoredRequest, state: "approved" | "rejected" | "expired", outcomeIndex: bigint | null): Promise<StoredRequest> {
    const at = this.#now();
    if (await this.#o.approvals.decide(req.id, state, at, outcomeIndex)) {
      this.#o.metrics?.approvalDecisionSeconds.observe({ state }, (at.getTime() - req.createdAt.getTime()) / 1000);
      const settled = { ...req, state, decidedAt: at, outcomeIndex };
      this.#events.emit(req.id);
      void this.#announce(settled).catch((e) => this.#o.log?.(`approvals: announcing ${req.id}: ${(e as Error).message}`));
      return settled;
    }
    return (await this.#o.approvals.getRequest(req.id))!;
  }

  /** The closing push to every approver, and the registry's webhook. */
  async #announce(req: StoredRequest): Promise<void> {
    const ns = await this.#o.namespaces.get(req.namespace, this.#o.reader);
    const rel = ns.releases.get(releaseKey(req.package, req.version));
    if (rel) {
      this.#o.push?.notify(await this.#o.approvals.subscriptionsOf(membersOf(rel)), { type: "approval-decided", id: req.id, namespace: req.namespace, package: req.package, version: req.version, state: req.state, url: this.#url(req.id) });
    }
    if (req.callbackUrl && req.callbackKey && this.#o.webhooks) {
      this.#o.webhooks.send(req.id, req.callbackUrl, req.callbackKey, `approval-request.${req.state}`, await this.get(req.id));
    }
  }

  #outcome(req: StoredRequest, decisions: StoredDecision[]): LedgerRecord {
    const rejection = decisions.find((d) => d.decision === "reject");
    return {
      type: "approval.outcome",
      namespace: req.namespace,
      statement: {
        package: req.package,
        version: req.version,
        artifacts: req.artifacts,
        requester: req.requester,
        approvals: rejection ? [rejection.signature] : decisions.filter((d) => d.decision === "approve").map((d) => d.signature),
        decision: rejection ? "rejected" : "approved",
      },
      signatures: [],
    };
  }

  /** Logs the outcome when the stored decisions make one the rules accept; otherwise leaves the request pending. */
  async #complete(req: StoredRequest, ns: NamespaceState): Promise<void> {
    const decisions = await this.#o.approvals.decisions(req.id);
    if (decisions.length === 0) return;
    const record = this.#outcome(req, decisions);
    try {
      this.#o.namespaces.wouldApply(ns, record);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      if (e.code !== "threshold_not_met" && e.code !== "requester_unverified" && e.code !== "user_verification_required") {
        this.#o.log?.(`approvals: request ${req.id} cannot be completed: ${e.code}: ${e.message}`);
      }
      return; // not complete yet
    }
    const r = await this.#o.sequencer.submit({ record, recordHash: recordHash(record) });
    await this.#settle(req, (record.statement as { decision: "approved" | "rejected" }).decision, r.index);
  }

  #view(req: StoredRequest, decisions: StoredDecision[]): Promise<ApprovalRequestJson> {
    return this.#o.namespaces.get(req.namespace, this.#o.reader).then((ns) => {
      const rel = ns.releases.get(releaseKey(req.package, req.version));
      const groups: readonly PolicyGroup[] = rel?.index === req.releaseIndex ? (rel.policy?.groups ?? []) : [];
      const approvals = decisions.filter((d) => d.decision === "approve");
      const counts = (g: PolicyGroup, d: StoredDecision) =>
        g.members.includes(d.keyId) && !(g.excludeRequester && d.keyId === req.requester) && (d.userVerified !== false || g.userVerification === "preferred");
      let previous: ApprovalRequestJson["previous"] = null;
      for (const r of ns.releases.values()) {
        if (r.package === req.package && r.index < req.releaseIndex && r.revokedAt === null && (!previous || BigInt(previous.index) < r.index)) {
          previous = { version: r.version, artifacts: r.artifacts, index: r.index.toString() };
        }
      }
      const memberIds = rel?.index === req.releaseIndex ? membersOf(rel) : [];
      return {
        id: req.id,
        namespace: req.namespace,
        package: req.package,
        version: req.version,
        artifacts: req.artifacts,
        requester: req.requester,
        state: req.state,
        groups: groups.map((g) => ({ name: g.name, threshold: g.threshold, excludeRequester: g.excludeRequester, approvedBy: approvals.filter((d) => counts(g, d)).map((d) => d.keyId) })),
        rejectedBy: decisions.filter((d) => d.decision === "reject").map((d) => d.keyId),
        members: memberIds.map((keyId) => {
          const k = ns.keys.get(keyId);
          return { keyId, label: k?.label ?? null, groups: groups.filter((g) => g.members.includes(keyId)).map((g) => g.name), credentialId: k?.webauthn?.credentialId ?? null, rpId: k?.webauthn?.rpId ?? null };
        }),
        releaseIndex: req.releaseIndex.toString(),
        previous,
        createdAt: req.createdAt.toISOString(),
        expiresAt: req.expiresAt.toISOString(),
        decidedAt: req.decidedAt?.toISOString() ?? null,
        outcomeIndex: req.outcomeIndex?.toString() ?? null,
        url: this.#url(req.id),
      } satisfies ApprovalRequestJson;
    });
  }
}

function requestOf(req: StoredRequest): ReleaseRequest {
  return { namespace: req.namespace, package: req.package, version: req.version, artifacts: req.artifacts, requester: req.requester };
}

function membersOf(rel: ReleaseInfo): string[] {
  return [...new Set((rel.policy?.groups ?? []).flatMap((g) => g.members))];
}

/**
 * What makes an assertion the same assertion, whatever its encoding: a
 * passkey's ES256 signature as (r, low s), so the other valid s of ECDSA
 * is the same assertion too. Passkey assertions count once across all
 * requests. Ed25519 signatures are deterministic (a fresh approval of the
 * same release is the same bytes), so they are counted once per request.
 */
function assertionDigest(s: RecordSignature, ns: NamespaceState, requestId: string): string {
  const h = createHash("sha256").update(s.keyId);
  if ("webauthn" in s) {
    let sig = parseBase64(s.webauthn.signature);
    if (ns.keys.get(s.keyId)?.webauthn?.alg === -7) {
      try {
        const parsed = p256.Signature.fromBytes(sig, "der");
        const s2 = parsed.hasHighS() ? p256.Point.CURVE().n - parsed.s : parsed.s;
        sig = new p256.Signature(parsed.r, s2).toBytes("compact");
      } catch {
        // verified already; an encoding noble refuses keeps its raw bytes
      }
    }
    h.update("webauthn").update(sig);
  } else {
    h.update("ed25519").update(concatBytes(utf8(requestId), parseBase64(s.sig)));
  }
  return h.digest("hex");
}
