import { DomainError } from "../domain-error.js";

/**
 * Errors of the mirror's follower. They carry no HTTP status: the witness
 * route and the poll loop decide what to do with each code.
 */
export type MirrorErrorCode =
  /** The source (or a peer) could not be reached or answered an error status: retry later. */
  | "source_unreachable"
  /** The source served data that does not verify (tiles, bundles, proofs): nothing of it is stored; retry later. */
  | "source_invalid"
  /** Entries stored past our checkpoint by an interrupted catch-up disagree with the source: retry later. */
  | "unsigned_leftovers"
  /** The log signed two inconsistent checkpoints: evidence stored, the mirror stopped cosigning. */
  | "equivocation"
  /** The log holds a record its own rules refuse (or a bad signature): the mirror stopped. */
  | "log_breaks_rules";

export class MirrorError extends DomainError<MirrorErrorCode> {}
