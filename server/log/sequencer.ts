/**
 * The append pool: requests wait here for at most `batchMaxAgeMs` or until
 * `batchMaxSize` have gathered, then one batch is sequenced at a time. A full
 * pool answers 503 with Retry-After instead of growing without bound.
 */
import { InvariantError, SequencerError } from "./errors.js";
import { sequenceBatch, type PendingRecord, type SequenceDeps } from "./sequence.js";
import type { StoredCheckpoint } from "../store/store.js";

export interface AppendResult {
  index: bigint;
  leafHash: Uint8Array;
  duplicate: boolean;
  checkpoint: StoredCheckpoint;
}

interface Waiting extends PendingRecord {
  resolve(r: AppendResult): void;
  reject(e: unknown): void;
  /** When it arrived (performance.now()). */
  at: number;
}

export interface SequencerOptions {
  batchMaxSize: number;
  batchMaxAgeMs: number;
  maxPending: number;
  /** Called once when an invariant fails; the sequencer has stopped for good. */
  onFatal(e: InvariantError): void;
  /** Called when a batch fails for a retryable reason (store down). */
  onBatchError?(e: unknown): void;
  /** Called with each newly committed checkpoint. */
  onCommit?(checkpoint: StoredCheckpoint): void;
  /** Called after each committed batch, for metrics. */
  onBatch?(stats: BatchStats): void;
}

export interface BatchStats {
  size: number;
  logged: number;
  duplicates: number;
  refused: number;
  /** The sequencing transaction's duration. */
  seconds: number;
  /** Per record: from entering the pool to the commit of its checkpoint. */
  latencies: number[];
}

export class Sequencer {
  readonly #deps: SequenceDeps;
  readonly #opts: SequencerOptions;
  #pool: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #fatal: InvariantError | undefined;
  #closed = false;

  constructor(deps: SequenceDeps, opts: SequencerOptions) {
    this.#deps = deps;
    this.#opts = opts;
  }

  get fatal(): InvariantError | undefined {
    return this.#fatal;
  }

  get pending(): number {
    return this.#pool.length;
  }

  submit(p: PendingRecord): Promise<AppendResult> {
    if (this.#fatal) return Promise.reject(new SequencerError("not_signing", "the log has stopped signing: an invariant failed", { retryAfter: 60, cause: this.#fatal }));
    if (this.#closed) return Promise.reject(new SequencerError("shutting_down", "the server is shutting down", { retryAfter: 5 }));
    if (this.#pool.length >= this.#opts.maxPending) {
      return Promise.reject(new SequencerError("overloaded", `${this.#pool.length} appends are waiting: try again shortly`, { retryAfter: 1 }));
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.#pool.push({ ...p, resolve, reject, at: performance.now() });
      this.#schedule();
    });
  }

  /**
   * A batch starts when `batchMaxSize` records wait or the oldest has waited
   * `batchMaxAgeMs` (time spent behind a running batch counts), so under
   * load batches follow each other without idle gaps.
   */
  #schedule(): void {
    if (this.#running || this.#pool.length === 0) return;
    const age = performance.now() - this.#pool[0]!.at;
    if (this.#pool.length >= this.#opts.batchMaxSize || age >= this.#opts.batchMaxAgeMs || this.#closed) this.#kick();
    else this.#timer ??= setTimeout(() => this.#kick(), this.#opts.batchMaxAgeMs - age);
  }

  #kick(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running || this.#pool.length === 0) return;
    this.#running = this.#runOnce().finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
  }

  async #runOnce(): Promise<void> {
    const batch = this.#pool.splice(0, this.#opts.batchMaxSize);
    if (this.#fatal) return void batch.forEach((w) => w.reject(new SequencerError("not_signing", "the log has stopped signing", { retryAfter: 60, cause: this.#fatal })));
    try {
      const started = performance.now();
      const { outcomes, checkpoint } = await sequenceBatch(this.#deps, batch);
      const done = performance.now();
      this.#opts.onCommit?.(checkpoint);
      if (this.#opts.onBatch) {
        const logged = outcomes.filter((o) => o.ok && !o.duplicate).length;
        const refused = outcomes.filter((o) => !o.ok).length;
        this.#opts.onBatch({
          size: batch.length,
          logged,
          refused,
          duplicates: batch.length - logged - refused,
          seconds: (done - started) / 1000,
          latencies: batch.map((w) => (done - w.at) / 1000),
        });
      }
      outcomes.forEach((o, i) => {
        const w = batch[i]!;
        if (o.ok) w.resolve({ index: o.index, leafHash: o.leafHash, duplicate: o.duplicate, checkpoint });
        else w.reject(o.error);
      });
    } catch (e) {
      if (e instanceof InvariantError) {
        this.#fatal = e;
        this.#opts.onFatal(e);
        for (const w of [...batch, ...this.#pool.splice(0)]) w.reject(new SequencerError("not_signing", "the log has stopped signing: an invariant failed", { retryAfter: 60, cause: this.#fatal }));
        return;
      }
      this.#opts.onBatchError?.(e);
      // The transaction rolled back: nothing of this batch was written.
      for (const w of batch) w.reject(new SequencerError("store_failed", "the append was not stored: the database failed; retry", { retryAfter: 1, cause: e }));
    }
  }

  /** Sequences everything already submitted, then refuses new appends. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#kick();
    while (this.#running) await this.#running;
  }
}
