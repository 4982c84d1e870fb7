import type { RuleCode } from "../client/errors.js";

/**
 * Server errors: handlers throw ApiError with a stable code; one table maps
 * codes to HTTP statuses and one onError handler writes `{error: {code, message}}`.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  invalid_record: 400,
  invalid_parameter: 400,
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
  decision_mismatch: 422,
  break_glass_unavailable: 422,
  break_glass_refused: 422,
  rate_limited: 429,
  internal: 500,
  overloaded: 503,
  store_unavailable: 503,
  not_signing: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

// Every rule of the state machine has an HTTP status: this fails to compile otherwise.
const everyRuleHasAStatus: RuleCode extends ErrorCode ? true : never = true;
void everyRuleHasAStatus;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly retryAfter: number | undefined;
  constructor(code: ErrorCode, message: string, opts: { retryAfter?: number } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.retryAfter = opts.retryAfter;
  }
  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

/** The sequencer found stored state that disagrees with recomputation: it must stop signing. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}
