/**
 * Webhooks to registries when a request is decided: POST of the request's
 * JSON, signed `Ledger-Signature: sha256=<hex HMAC-SHA256(key, body)>` with
 * the writer's key (hex SHA-256 of its token, so a registry computes it from
 * the token it holds and the ledger stores no secret of its own). Retried
 * with backoff on network errors, 429 and 5xx; every attempt is recorded
 * (`ledger approvals list` shows them).
 */
import { createHmac } from "node:crypto";
import type { ApprovalStore } from "../store/approval-store.js";

export function webhookSignature(key: string, body: string): string {
  return "sha256=" + createHmac("sha256", key).update(body, "utf8").digest("hex");
}

export interface WebhookOptions {
  store: ApprovalStore;
  attempts?: number;
  backoffMs?: number;
  fetch?: typeof fetch;
  onResult?: (outcome: "delivered" | "retried" | "failed") => void;
  log?: (line: string) => void;
  now?: () => Date;
}

export class WebhookSender {
  readonly #o: WebhookOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(o: WebhookOptions) {
    this.#o = o;
  }

  send(requestId: string, url: string, key: string, event: string, payload: object): void {
    const p = this.#deliver(requestId, url, key, event, JSON.stringify(payload)).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.settled();
  }

  async #deliver(requestId: string, url: string, key: string, event: string, body: string): Promise<void> {
    const attempts = this.#o.attempts ?? 6;
    let delay = this.#o.backoffMs ?? 1000;
    const f = this.#o.fetch ?? fetch;
    const now = this.#o.now ?? (() => new Date());
    for (let attempt = 1; attempt <= attempts && !this.#closed; attempt++) {
      let status: number | null = null;
      let error: string | null = null;
      try {
        const res = await f(url, {
          method: "POST",
          headers: { "content-type": "application/json", "ledger-event": event, "ledger-delivery": requestId, "ledger-signature": webhookSignature(key, body) },
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        await res.body?.cancel().catch(() => {});
      } catch (e) {
        error = (e as Error).message;
      }
      await this.#o.store.addDelivery({ requestId, url, event, attempt, status, error, at: now() }).catch(() => {});
      if (status !== null && status >= 200 && status < 300) {
        this.#o.onResult?.("delivered");
        return;
      }
      const retriable = status === null || status === 429 || status >= 500;
      if (!retriable || attempt === attempts) {
        this.#o.onResult?.("failed");
        this.#o.log?.(`webhook: ${event} of request ${requestId} to ${new URL(url).origin} failed after ${attempt} attempt(s): ${status ?? error}`);
        return;
      }
      this.#o.onResult?.("retried");
      await new Promise((r) => setTimeout(r, delay).unref());
      delay *= 2;
    }
  }
}
