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
  too_large: 413,
  unsupported_media_type: 415,
  unknown_key: 422,
  bad_signature: 422,
  no_proof_of_possession: 422,
  rate_limited: 429,
  internal: 500,
  overloaded: 503,
  store_unavailable: 503,
  not_signing: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

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
