/**
 * Typed errors of the client library. Every failure has a stable `code`;
 * callers and tests narrow on `code`, never on message text.
 */
export type LedgerErrorCode =
  | FormatErrorCode
  | ProofErrorCode
  | "root_mismatch"
  | SignatureErrorCode
  | "inconsistent"
  | "policy"
  | RuleCode
  | "webauthn"
  | "http";

/** Why a record may not be appended (server) or has no effect (replay). */
export type RuleCode =
  | "invalid_record"
  | "unknown_key"
  | "bad_signature"
  | "no_proof_of_possession"
  | "not_authorized"
  | "threshold_not_met"
  | "key_exists"
  | "key_revoked"
  | "invalid_policy"
  | "release_exists"
  | "release_revoked"
  | "unknown_release"
  | "artifact_mismatch"
  | "bad_approval"
  | "duplicate_approver"
  | "release_rejected"
  | "release_approved"
  | "user_verification_required"
  | "break_glass_unavailable"
  | "break_glass_refused"
  | "requester_mismatch"
  | "requester_unverified"
  | "non_canonical_namespace";

export type FormatErrorCode =
  | "bad_base64"
  | "bad_policy"
  | "bad_hex"
  | "bad_json"
  | "bad_note"
  | "bad_checkpoint"
  | "bad_vkey"
  | "bad_key"
  | "bad_number"
  | "too_many_signatures";

export type ProofErrorCode =
  | "index_out_of_range"
  | "size_out_of_range"
  | "bad_hash_size"
  | "wrong_proof_size"
  | "empty_proof"
  | "nonempty_proof"
  | "invalid_subtree";

export type SignatureErrorCode = "no_verified_signature" | "invalid_signature" | "unknown_key";

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Untrusted input that does not have the expected shape. */
export class FormatError extends LedgerError {
  declare readonly code: FormatErrorCode;
  constructor(code: FormatErrorCode, message: string) {
    super(code, message);
  }
}

/** A Merkle proof that cannot be valid for the given index and sizes. */
export class ProofError extends LedgerError {
  declare readonly code: ProofErrorCode;
  constructor(code: ProofErrorCode, message: string) {
    super(code, message);
  }
}

/** A proof that is well formed but leads to a root other than the expected one. */
export class RootMismatchError extends LedgerError {
  declare readonly code: "root_mismatch";
  readonly calculated: Uint8Array;
  readonly expected: Uint8Array;
  constructor(calculated: Uint8Array, expected: Uint8Array) {
    super("root_mismatch", "calculated root does not match the expected root");
    this.calculated = calculated;
    this.expected = expected;
  }
}

export class SignatureError extends LedgerError {
  declare readonly code: SignatureErrorCode;
  constructor(code: SignatureErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * Two signed checkpoints that cannot both be honest: carries the evidence
 * (client/evidence.ts). With `root1`, note2's tree at note1's size as the
 * client computed it, and `proof` from that size to note2's, the evidence
 * verifies on its own.
 */
export class InconsistencyError extends LedgerError {
  declare readonly code: "inconsistent";
  readonly note1: string;
  readonly note2: string;
  readonly proof: Uint8Array[];
  readonly root1: Uint8Array | undefined;
  constructor(message: string, note1: string, note2: string, proof: Uint8Array[], root1?: Uint8Array) {
    super("inconsistent", message);
    this.note1 = note1;
    this.note2 = note2;
    this.proof = proof;
    this.root1 = root1;
  }
}

/** Which check of a verification failed (release verification, quorum). */
export type PolicyCheck =
  | "quorum"
  | "not_logged"
  | "artifacts_mismatch"
  | "not_signed"
  | "not_approved"
  | "rejected"
  | "revoked"
  | "break_glass"
  | "hash_chain"
  | "entry";

/** A verification that is well formed but fails a policy check; `check` says which. */
export class PolicyError extends LedgerError {
  declare readonly code: "policy";
  readonly check: PolicyCheck;
  constructor(check: PolicyCheck, message: string) {
    super("policy", message);
    this.check = check;
  }
}

/** A record that breaks a ledger rule (DESIGN "Records"); see docs/records.md. */
export class RuleError extends LedgerError {
  declare readonly code: RuleCode;
  constructor(code: RuleCode, message: string, opts?: { cause?: unknown }) {
    super(code, message, opts);
  }
}

export class HttpError extends LedgerError {
  declare readonly code: "http";
  readonly status: number;
  readonly serverCode: string | undefined;
  constructor(status: number, message: string, serverCode?: string) {
    super("http", message);
    this.status = status;
    this.serverCode = serverCode;
  }
}

/** Which check of a passkey (WebAuthn) signature failed (client/webauthn.ts). */
export type WebAuthnCheck = "format" | "type" | "challenge" | "origin" | "rp_id" | "flags" | "alg" | "signature";

/** A passkey signature that does not verify; `check` says which check failed. */
export class WebAuthnError extends LedgerError {
  declare readonly code: "webauthn";
  readonly check: WebAuthnCheck;
  constructor(check: WebAuthnCheck, message: string) {
    super("webauthn", message);
    this.check = check;
  }
}
