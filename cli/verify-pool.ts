/**
 * Ed25519 verification on worker threads, so the event loop that serves
 * HTTP and sequences batches does not spend its time in OpenSSL. With no
 * threads (size 0) it verifies in process, as before. Keys the client's
 * verifier would refuse (small order, non-canonical) are refused here, on
 * the main thread, before anything is sent.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ed25519VerifyNode, isUsablePublicKey } from "./node-ed25519.js";

/**
 * Threads to start by default: the cores left after `reserved` (the main thread, the database,
 * whatever else runs beside), at most 4.
 */
export function defaultVerifyThreads(reserved: number): number {
  return Math.min(4, Math.max(0, availableParallelism() - reserved));
}

export type VerifyItem = [publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array];

interface Pending {
  resolve(r: boolean[]): void;
  reject(e: unknown): void;
}

export class VerifyPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #inflight = new Set<Promise<boolean[]>>();
  #next = 0;
  #seq = 0;
  #closed = false;

  constructor(size: number) {
    this.size = size;
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL("./verify-worker.mjs", import.meta.url));
      w.on("message", ({ id, results }: { id: number; results: boolean[] }) => {
        const p = this.#pending.get(id);
        this.#pending.delete(id);
        if (this.#pending.size === 0) for (const x of this.#workers) x.unref();
        p?.resolve(results);
      });
      // A thread that dies takes its pending batches with it (those appends answer 500); the
      // others, or the main thread when none is left, verify from then on.
      const lost = (e: unknown) => {
        const i = this.#workers.indexOf(w);
        if (i < 0) return;
        this.#workers.splice(i, 1);
        if (!this.#closed) this.#failAll(e);
      };
      w.on("error", lost);
      w.on("exit", () => lost(new Error("a verification thread exited")));
      w.unref();
      this.#workers.push(w);
    }
  }

  #failAll(e: unknown): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /** One result per item, in order. */
  async verify(items: VerifyItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    if (this.#workers.length === 0 || this.#closed) return items.map(([p, m, s]) => ed25519VerifyNode(p, m, s));
    const valid = items.map(([p, , s]) => s.length === 64 && isUsablePublicKey(p));
    const send = items.filter((_, i) => valid[i]);
    if (send.length === 0) return valid;
    const id = this.#seq++;
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    const answer = new Promise<boolean[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Referenced while it owes an answer (a CLI has nothing else keeping the event loop alive), unreferenced when idle.
      worker.ref();
      worker.postMessage({ id, items: send });
    });
    this.#inflight.add(answer);
    const results = await answer.finally(() => this.#inflight.delete(answer));
    let j = 0;
    return valid.map((v) => v && results[j++]!);
  }

  /** Lets verifications under way finish, then stops the threads. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
    await Promise.all(this.#workers.splice(0).map((w) => w.terminate()));
  }

  /** Tests only: ends one thread as a crash would. */
  async killOne(): Promise<void> {
    await this.#workers[0]?.terminate();
  }
}
