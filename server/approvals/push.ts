/**
 * Web Push to approvers' devices through the `web-push` package (VAPID,
 * RFC 8292; aes128gcm payload encryption, RFC 8291): a maintained, widely
 * used implementation of both, so we write neither by hand. The VAPID key
 * pair is generated on first start under the data dir (mode 0600, like the
 * log key). A push service answering 404/410 drops the subscription;
 * 429, 5xx and network errors are retried with backoff.
 */
import { createECDH } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Agent } from "node:https";
import type { ApprovalStore, PushSubscription } from "../store/approval-store.js";
import { Deliveries, type AttemptResult } from "./deliveries.js";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** Reads the VAPID key pair, or creates it (mode 0600) when the file does not exist. */
export function loadOrCreateVapidKeys(path: string): VapidKeys {
  try {
    const k = JSON.parse(readFileSync(path, "utf8")) as VapidKeys;
    if (typeof k.publicKey !== "string" || typeof k.privateKey !== "string") throw new Error("publicKey and privateKey must be strings");
    return { publicKey: k.publicKey, privateKey: k.privateKey };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read the VAPID key ${path}: ${(e as Error).message}`);
  }
  // As web-push's generateVAPIDKeys: a P-256 key, public as the uncompressed point, both base64url
  // (made here so that a start does not load web-push before the first push).
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const k = { publicKey: ecdh.getPublicKey().toString("base64url"), privateKey: Buffer.concat([Buffer.alloc(32), ecdh.getPrivateKey()]).subarray(-32).toString("base64url") }; // d left-padded to 32 bytes
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ publicKey: k.publicKey, privateKey: k.privateKey }) + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return k;
}

export interface PushOptions {
  keys: VapidKeys;
  /** The VAPID `sub` claim: an https: URL or mailto: address of the operator. */
  subject: string;
  store: ApprovalStore;
  /** Tries per message (default 4). */
  attempts?: number;
  /** First retry delay in ms, doubled each time (default 1000). */
  backoffMs?: number;
  /** TLS agent for the push services (tests trust their own CA through it). */
  agent?: Agent;
  onResult?: (outcome: "delivered" | "retried" | "gone" | "failed") => void;
  log?: (line: string) => void;
}

export class PushSender {
  readonly #o: PushOptions;
  readonly #deliveries: Deliveries;

  constructor(o: PushOptions) {
    this.#o = o;
    this.#deliveries = new Deliveries(o.attempts ?? 4, o.backoffMs ?? 1000);
  }

  get publicKey(): string {
    return this.#o.keys.publicKey;
  }

  /** Sends `payload` to every subscription of these keys, in the background. */
  notify(subscriptions: PushSubscription[], payload: object): void {
    const body = JSON.stringify(payload);
    for (const s of subscriptions) this.#deliveries.start((n, last) => this.#attempt(s, body, n, last));
  }

  /** Resolves when every delivery started so far has ended (tests, shutdown). */
  settled(): Promise<void> {
    return this.#deliveries.settled();
  }

  close(): Promise<void> {
    return this.#deliveries.close();
  }

  async #attempt(s: PushSubscription, body: string, n: number, last: boolean): Promise<AttemptResult> {
    const webpush = (await import("web-push")).default;
    try {
      await webpush.sendNotification({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }, body, {
        vapidDetails: { subject: this.#o.subject, publicKey: this.#o.keys.publicKey, privateKey: this.#o.keys.privateKey },
        TTL: 24 * 3600,
        contentEncoding: "aes128gcm",
        urgency: "high",
        timeout: 10_000,
        ...(this.#o.agent ? { agent: this.#o.agent } : {}),
      });
      this.#o.onResult?.("delivered");
      return "done";
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      const where = safeEndpoint(s.endpoint);
      if (status === 404 || status === 410) {
        await this.#o.store.dropEndpoint(s.endpoint).catch(() => {});
        this.#o.onResult?.("gone");
        this.#o.log?.(`push: ${where} answered ${status}: subscription dropped`);
        return "done";
      }
      const retriable = status === undefined || status === 429 || status >= 500;
      if (!retriable || last) {
        this.#o.onResult?.("failed");
        this.#o.log?.(`push: delivery to ${where} failed after ${n} attempt(s): ${status ?? (e as Error).message}`);
        return "done";
      }
      this.#o.onResult?.("retried");
      const retryAfter = Number((e as { headers?: Record<string, string> }).headers?.["retry-after"]);
      return Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter * 1000, 60_000) } : {};
    }
  }
}

/** The push service's origin only: endpoints carry a capability in their path. */
function safeEndpoint(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return "(invalid endpoint)";
  }
}
