import { DomainError } from "../domain-error.js";

/**
 * Errors of the write path (pool, sequencer). They carry no HTTP status: the
 * routes map them (server/errors.ts). Rule failures are the client's RuleError.
 */
export type SequencerErrorCode =
  /** The pool is full: try again shortly. */
  | "overloaded"
  /** The server is closing and takes no more appends. */
  | "shutting_down"
  /** An invariant failed and the log stopped signing for good (until restart). */
  | "not_signing"
  /** The database failed during the batch; its transaction rolled back, nothing was written. */
  | "store_failed";

export class SequencerError extends DomainError<SequencerErrorCode> {}

/** The sequencer found stored state that disagrees with recomputation: it must stop signing. */
export class InvariantError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = "InvariantError";
  }
}
