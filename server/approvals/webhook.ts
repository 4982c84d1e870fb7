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
import { Deliveries, type AttemptResult } from "./deliveries.js";

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
  readonly #deliveries: Deliveries;

  constructor(o: WebhookOptions) {
    this.#o = o;
    this.#deliveries = new Deliveries(o.attempts ?? 6, o.backoffMs ?? 1000);
  }

  send(requestId: string, url: string, key: string, event: string, payload: object): void {
    const body = JSON.stringify(payload);
    this.#deliveries.start((n, last) => this.#attempt(requestId, url, key, event, body, n, last));
  }

  settled(): Promise<void> {
    return this.#deliveries.settled();
  }

  close(): Promise<void> {
    return this.#deliveries.close();
  }

  async #attempt(requestId: string, url: string, key: string, event: string, body: string, attempt: number, last: boolean): Promise<AttemptResult> {
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await (this.#o.fetch ?? fetch)(url, {
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
    await this.#o.store.addDelivery({ requestId, url, event, attempt, status, error, at: (this.#o.now ?? (() => new Date()))() }).catch(() => {});
    if (status !== null && status >= 200 && status < 300) {
      this.#o.onResult?.("delivered");
      return "done";
    }
    const retriable = status === null || status === 429 || status >= 500;
    if (!retriable || last) {
      this.#o.onResult?.("failed");
      this.#o.log?.(`webhook: ${event} of request ${requestId} to ${new URL(url).origin} failed after ${attempt} attempt(s): ${status ?? error}`);
      return "done";
    }
    this.#o.onResult?.("retried");
    return {};
  }
}
