/**
 * Background deliveries with retries, shared by Web Push and webhooks: each
 * runs its attempts until one says "done", waiting the backoff (doubled each
 * time, or what the receiver asked for) between them; close() stops retrying
 * and waits for what is under way.
 */
export type AttemptResult = "done" | { retryAfterMs?: number };

export class Deliveries {
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(attempts: number, backoffMs: number) {
    this.#attempts = attempts;
    this.#backoffMs = backoffMs;
  }

  /** Starts one delivery; `attempt(n, last)` is told whether it is the last try. */
  start(attempt: (n: number, last: boolean) => Promise<AttemptResult>): void {
    const p = this.#run(attempt).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Resolves when every delivery started so far has ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.settled();
  }

  async #run(attempt: (n: number, last: boolean) => Promise<AttemptResult>): Promise<void> {
    let delay = this.#backoffMs;
    for (let n = 1; n <= this.#attempts && !this.#closed; n++) {
      const r = await attempt(n, n === this.#attempts);
      if (r === "done") return;
      await new Promise((resolve) => setTimeout(resolve, r.retryAfterMs ?? delay).unref());
      delay *= 2;
    }
  }
}
