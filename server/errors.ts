import { RuleError, type RuleCode } from "../client/errors.js";
import { DomainError } from "./domain-error.js";
import type { SequencerErrorCode } from "./log/errors.js";
import type { MirrorErrorCode } from "./mirror/errors.js";

/**
 * Server errors: handlers throw ApiError with a stable code; one table maps
 * codes to HTTP statuses and one onError handler writes `{error: {code, message}}`.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  invalid_record: 400,
  invalid_parameter: 400,
  non_canonical_namespace: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  key_exists: 409,
  key_revoked: 409,
  release_exists: 409,
  release_revoked: 409,
  artifact_mismatch: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unknown_key: 422,
  bad_signature: 422,
  no_proof_of_possession: 422,
  not_authorized: 422,
  threshold_not_met: 422,
  invalid_policy: 422,
  unknown_release: 422,
  bad_approval: 422,
  duplicate_approver: 422,
  release_rejected: 409,
  release_approved: 409,
  user_verification_required: 422,
  break_glass_unavailable: 422,
  break_glass_refused: 422,
  requester_mismatch: 422,
  requester_unverified: 422,
  request_exists: 409,
  request_expired: 409,
  request_decided: 409,
  assertion_replayed: 409,
  not_a_member: 403,
  requester_required: 422,
  registration_failed: 422,
  enrollment_state: 409,
  rate_limited: 429,
  internal: 500,
  source_unreachable: 502,
  source_invalid: 502,
  overloaded: 503,
  shutting_down: 503,
  store_failed: 503,
  not_signing: 503,
  no_checkpoint: 503,
  not_yet_covered: 503,
  unsigned_leftovers: 503,
  equivocation: 503,
  log_breaks_rules: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

// Every code of the rules, the sequencer and the mirror has an HTTP status: this fails to compile otherwise.
const everyCodeHasAStatus: RuleCode | SequencerErrorCode | MirrorErrorCode extends ErrorCode ? true : never = true;
void everyCodeHasAStatus;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly retryAfter: number | undefined;
  constructor(code: ErrorCode, message: string, opts: { retryAfter?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ApiError";
    this.code = code;
    this.retryAfter = opts.retryAfter;
  }
  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

/**
 * The one place where errors of the other domains become HTTP errors (same
 * code, the table's status); undefined for anything unexpected (a 500).
 */
export function toApiError(e: unknown): ApiError | undefined {
  if (e instanceof ApiError) return e;
  if (e instanceof RuleError) return new ApiError(e.code, e.message, { cause: e });
  if (e instanceof DomainError && Object.hasOwn(ERROR_STATUS, e.code)) return new ApiError(e.code as ErrorCode, e.message, { retryAfter: e.retryAfter, cause: e });
  return undefined;
}
