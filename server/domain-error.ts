/**
 * An error of one part of the server (sequencer, mirror) with a stable code
 * and a retry hint, and no HTTP status: the routes map it (server/errors.ts).
 */
export class DomainError<C extends string> extends Error {
  readonly code: C;
  /** Seconds after which a retry may succeed. */
  readonly retryAfter: number;
  constructor(code: C, message: string, opts: { retryAfter: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryAfter = opts.retryAfter;
  }
}
