/**
 * The record state machine (DESIGN "Records"): one pure module that the
 * server uses to refuse invalid records and every client uses to replay the
 * log. Each record affects only its own namespace, so state is per namespace.
 *
 * applyRecord checks a record against the namespace state as of `index` and,
 * when every rule holds, applies it; otherwise it throws RuleError and the
 * state is unchanged. Replay never halts: a refused record simply has no effect.
 */
import type { LedgerRecord, RecordSignature } from "../schema/records.js";
import { concatBytes, parseBase64, utf8 } from "./bytes.js";
import { ed25519Verify, isValidPublicKey } from "./ed25519.js";
import { keyIdOf, recordSigningMessage } from "./entry.js";
import { RuleError, WebAuthnError } from "./errors.js";
import { canonicalize } from "./jcs.js";
import { LayeredMap } from "./layered-map.js";
import { isCanonicalNamespace } from "./namespace.js";
import { isRecord } from "./record-shape.js";
import { parsePasskeyPublicKey, verifyWebAuthn, type Assertion, type PasskeyInfo } from "./webauthn.js";

export type Role = "publish" | "approve" | "admin";
export type BreakGlassPolicy = "accept" | "refuse";
export type Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

export interface CoreKeys {
  threshold: number;
  /** Public keys by keyId. */
  keys: Map<string, Uint8Array>;
}

export interface ReplayOptions {
  breakGlass: BreakGlassPolicy;
  coreKeys?: CoreKeys;
  /** Ed25519 verification; default: @noble/ed25519, strict RFC 8032. */
  verify?: Verify;
}

export interface KeyInfo {
  keyId: string;
  publicKey: string;
  role: Role;
  label?: string;
  registeredAt: bigint;
  revokedAt: bigint | null;
  /** Registered by break-glass (core keys) rather than the namespace's admins. */
  breakGlass: boolean;
  /** A passkey's credential (its publicKey is a SubjectPublicKeyInfo); absent for Ed25519 keys. */
  webauthn?: PasskeyInfo;
}

export interface PolicyGroup {
  name: string;
  members: string[];
  threshold: number;
  excludeRequester: boolean;
  /** Whether a passkey approval must carry UV to count here (absent: "required"). */
  userVerification?: "required" | "preferred";
}

export interface PolicyInfo {
  adminThreshold: number;
  groups: ReadonlyArray<PolicyGroup>;
  index: bigint;
}

export interface Artifact {
  name: string;
  sha256: string;
  /** Optional SHA-512 (npm's `integrity`); when logged, it is part of what approvals sign and verify-release compares. */
  sha512?: string;
}

export interface ReleaseInfo {
  package: string;
  version: string;
  artifacts: Artifact[];
  index: bigint;
  signedBy: string[];
  requester?: string;
  revokedAt: bigint | null;
  /** The policy in force at the release's index: the one its approval is judged by (null: none). */
  policy: PolicyInfo | null;
}

/** Who signed an outcome, and where it counted. */
export interface ApproverInfo {
  keyId: string;
  passkey: boolean;
  /** The passkey assertion's UV flag; null for an Ed25519 key (no such flag). */
  userVerified: boolean | null;
  /** The groups of the release's policy this signature counted in. */
  groups: string[];
}

export interface OutcomeInfo {
  index: bigint;
  decision: "approved" | "rejected";
  artifacts: Artifact[];
  requester: string;
  approvers: ApproverInfo[];
}

/**
 * One namespace's state. Values in its maps are replaced, never changed in
 * place, so that fork() can give a batch a copy in O(1) whose changes reach
 * this state only through absorb(), after the batch is durable.
 */
export class NamespaceState {
  readonly namespace: string;
  readonly keys: LayeredMap<string, KeyInfo>;
  policy: PolicyInfo | null = null;
  readonly releases: LayeredMap<string, ReleaseInfo>;
  /** The approved outcome of each release, or the latest rejection. */
  readonly outcomes: LayeredMap<string, OutcomeInfo>;
  /** Log indices of applied break-glass records. */
  breakGlass: readonly bigint[] = [];
  /**
   * Under `breakGlass: "refuse"`: keys that only break-glass brought in (and
   * keys registered on their authority), by the index of the ignored record.
   * A record that names one of them is ignored with them, not refused: an
   * honest log holds it, and only this client's policy sets it aside.
   */
  readonly ignoredKeys: LayeredMap<string, bigint>;
  /** The last log index applied or refused here; replay feeds records in order. */
  lastIndex = -1n;
  /** The state this one was forked from, through any chain of forks (undefined for a root). */
  readonly root: NamespaceState | undefined;

  constructor(namespace: string, from?: NamespaceState) {
    this.namespace = namespace;
    this.keys = from ? from.keys.fork() : new LayeredMap();
    this.releases = from ? from.releases.fork() : new LayeredMap();
    this.outcomes = from ? from.outcomes.fork() : new LayeredMap();
    this.ignoredKeys = from ? from.ignoredKeys.fork() : new LayeredMap();
    if (from) {
      this.policy = from.policy;
      this.breakGlass = from.breakGlass;
      this.lastIndex = from.lastIndex;
    }
    this.root = from ? (from.root ?? from) : undefined;
  }

  /** A copy to apply records to; this state is unchanged until absorb(copy). */
  fork(): NamespaceState {
    return new NamespaceState(this.namespace, this);
  }

  /** Takes over everything a fork of this state applied (forks are absorbed in the order they were made). */
  absorb(fork: NamespaceState): void {
    if ((fork.root ?? fork) !== this) throw new Error(`absorb: not a fork of this state of ${this.namespace}`);
    this.keys.absorb(fork.keys);
    this.releases.absorb(fork.releases);
    this.outcomes.absorb(fork.outcomes);
    this.ignoredKeys.absorb(fork.ignoredKeys);
    this.policy = fork.policy;
    this.breakGlass = fork.breakGlass;
    this.lastIndex = fork.lastIndex;
  }

  currentKey(keyId: string, role?: Role): KeyInfo | undefined {
    const k = this.keys.get(keyId);
    return k && k.revokedAt === null && (role === undefined || k.role === role) ? k : undefined;
  }

  get adminThreshold(): number {
    return this.policy?.adminThreshold ?? 1;
  }
}

export function releaseKey(pkg: string, version: string): string {
  return `${pkg}@${version}`;
}

const APPROVAL_DOMAIN = "ledger-approval/v1\n";
const REJECTION_DOMAIN = "ledger-rejection/v1\n";

export interface ReleaseRequest {
  namespace: string;
  package: string;
  version: string;
  artifacts: Artifact[];
  requester: string;
}

function requestMessage(domain: string, a: ReleaseRequest): Uint8Array {
  return concatBytes(utf8(domain), utf8(canonicalize({ namespace: a.namespace, package: a.package, version: a.version, artifacts: a.artifacts, requester: a.requester })));
}

/** The bytes each approval signs: "ledger-approval/v1\n" ‖ JCS({namespace, package, version, artifacts, requester}). */
export function approvalSigningMessage(a: ReleaseRequest): Uint8Array {
  return requestMessage(APPROVAL_DOMAIN, a);
}

/** The bytes a rejection signs: "ledger-rejection/v1\n" ‖ JCS({namespace, package, version, artifacts, requester}). */
export function rejectionSigningMessage(a: ReleaseRequest): Uint8Array {
  return requestMessage(REJECTION_DOMAIN, a);
}

/** The bytes a key signs to subscribe a push endpoint: "ledger-push/v1\n" ‖ JCS({keyId, endpoint}), and with `"unsubscribe": true` to drop it. */
export function pushSigningMessage(keyId: string, endpoint: string, unsubscribe = false): Uint8Array {
  return concatBytes(utf8("ledger-push/v1\n"), utf8(canonicalize(unsubscribe ? { keyId, endpoint, unsubscribe: true } : { keyId, endpoint })));
}

/** The same artifacts, in the same order, with the same digests (compared canonically). */
export function sameArtifacts(a: Artifact[], b: Artifact[]): boolean {
  return canonicalize(a) === canonicalize(b);
}

export interface Signed {
  /** keyIds whose signatures verified. */
  signers: Set<string>;
}

/** A key as verification needs it: its bytes (Ed25519 key or passkey SPKI) and, for a passkey, its credential. */
interface SignerKey {
  bytes: Uint8Array;
  webauthn?: PasskeyInfo;
}

/**
 * untrusted: the key a key.register statement registers, with its keyId
 * (SHA-256 of the 32-byte Ed25519 key, or of the passkey's SPKI bytes).
 */
export function registeredKey(st: { publicKey: string; webauthn?: PasskeyInfo }): SignerKey & { keyId: string } {
  if (st.webauthn) {
    const spki = decode64(st.publicKey, "publicKey");
    try {
      parsePasskeyPublicKey(spki, st.webauthn.alg);
    } catch (e) {
      if (e instanceof WebAuthnError) throw new RuleError("invalid_record", `publicKey: ${e.message}`, { cause: e });
      throw e;
    }
    return { bytes: spki, keyId: keyIdOf(spki), webauthn: { credentialId: st.webauthn.credentialId, rpId: st.webauthn.rpId, alg: st.webauthn.alg } };
  }
  const bytes = decodeKey(st.publicKey);
  return { bytes, keyId: keyIdOf(bytes) };
}

function signerKey(k: KeyInfo): SignerKey {
  return { bytes: parseBase64(k.publicKey), ...(k.webauthn ? { webauthn: k.webauthn } : {}) };
}

/**
 * Verifies one signature over `message`: `sig` by an Ed25519 key, or a
 * passkey's `webauthn` assertion (UP required; UV reported, not required).
 * Returns the UV flag (null for Ed25519), or throws RuleError(`code`).
 */
function verifySignature(key: SignerKey, s: RecordSignature, message: Uint8Array, verify: Verify, code: "bad_signature" | "bad_approval", who: string): boolean | null {
  if (Object.hasOwn(s, "webauthn")) {
    if (!key.webauthn) throw new RuleError(code, `${who}: an Ed25519 key signs with "sig", not "webauthn"`);
    try {
      return verifyWebAuthn({ spki: key.bytes, passkey: key.webauthn }, message, (s as { webauthn: Assertion }).webauthn, { requireUserVerification: false }).userVerified;
    } catch (e) {
      if (e instanceof WebAuthnError) throw new RuleError(code, `${who}: the passkey's ${e.check} check fails: ${e.message}`, { cause: e });
      throw e;
    }
  }
  if (key.webauthn) throw new RuleError(code, `${who}: a passkey signs with "webauthn", not "sig"`);
  const sig = decode64((s as { sig: string }).sig, "signature");
  if (sig.length !== 64 || !verify(key.bytes, message, sig)) throw new RuleError(code, `${who} does not verify`);
  return null;
}

/**
 * Verifies every signature of the record with the key its keyId names: the
 * key being registered, a key ever registered in the namespace, or (for
 * break-glass records) a core key. Any unknown key or failing signature
 * refuses the record.
 */
export function verifySignatures(ns: NamespaceState, record: LedgerRecord, opts: ReplayOptions, breakGlass = isBreakGlass(record)): Signed {
  const verify = opts.verify ?? ed25519Verify;
  const message = recordSigningMessage(record);
  const own = record.type === "key.register" ? registeredKey(record.statement) : undefined;
  const signers = new Set<string>();
  for (const s of record.signatures) {
    if (signers.has(s.keyId)) throw new RuleError("invalid_record", `key ${s.keyId} signs twice`);
    let key: SignerKey | undefined;
    if (own && own.keyId === s.keyId) key = own;
    else if (ns.keys.has(s.keyId)) key = signerKey(ns.keys.get(s.keyId)!);
    else if (breakGlass && opts.coreKeys?.keys.has(s.keyId)) key = { bytes: opts.coreKeys.keys.get(s.keyId)! };
    if (!key) throw new RuleError("unknown_key", `key ${s.keyId} is not registered in ${ns.namespace}`);
    verifySignature(key, s, message, verify, "bad_signature", `signature by key ${s.keyId}`);
    signers.add(s.keyId);
  }
  return { signers };
}

/** untrusted: base64 inside a record; a non-canonical encoding makes the record invalid, never a crash. */
function decode64(b64: string, what: string): Uint8Array {
  try {
    return parseBase64(b64);
  } catch {
    throw new RuleError("invalid_record", `${what} is not canonical base64`);
  }
}

function decodeKey(b64: string): Uint8Array {
  const k = decode64(b64, "publicKey");
  if (k.length !== 32) throw new RuleError("invalid_record", "publicKey must be 32 bytes");
  if (!isValidPublicKey(k)) throw new RuleError("invalid_record", "publicKey is not a canonical Ed25519 point of large order");
  return k;
}

function countCurrent(ns: NamespaceState, signers: Set<string>, role: Role): number {
  let n = 0;
  for (const id of signers) if (ns.currentKey(id, role)) n++;
  return n;
}

function requireAdmins(ns: NamespaceState, signed: Signed, what: string): void {
  const have = countCurrent(ns, signed.signers, "admin");
  if (have < ns.adminThreshold) {
    throw new RuleError("threshold_not_met", `${what} needs ${ns.adminThreshold} current admin signature(s), has ${have}`);
  }
}

function requireCore(opts: ReplayOptions, signed: Signed): void {
  const core = opts.coreKeys;
  if (!core || core.keys.size === 0) throw new RuleError("break_glass_unavailable", "no core keys are configured for break-glass");
  let have = 0;
  for (const id of signed.signers) if (core.keys.has(id)) have++;
  if (have < core.threshold) throw new RuleError("threshold_not_met", `break-glass needs ${core.threshold} core signature(s), has ${have}`);
}

export type ApplyResult = "applied" | "ignored";

/** A key.register or key.revoke that claims the core keys' authority. */
export function isBreakGlass(record: LedgerRecord): boolean {
  return (record.type === "key.register" || record.type === "key.revoke") && record.statement.breakGlass === true;
}

/**
 * Applies one record at `index` to its namespace's state, or throws
 * RuleError leaving the state unchanged. Break-glass records under
 * `refuse` are "ignored": no effect, no error.
 */
export function applyRecord(ns: NamespaceState, record: LedgerRecord, index: bigint, opts: ReplayOptions): ApplyResult {
  if (!isRecord(record) || record.namespace !== ns.namespace) throw new RuleError("invalid_record", "not a valid record for this namespace");
  if (!isCanonicalNamespace(record.namespace)) throw new RuleError("non_canonical_namespace", `namespace ${record.namespace} is not in its ecosystem's canonical form`);
  if (index <= ns.lastIndex) throw new RuleError("invalid_record", `index ${index} is not after ${ns.lastIndex}`);
  const breakGlass = isBreakGlass(record);
  if (breakGlass && opts.breakGlass === "refuse") {
    if (record.type === "key.register") ns.ignoredKeys.set(registeredKey(record.statement).keyId, index);
    ns.lastIndex = index;
    return "ignored";
  }
  const signed = verifySignatures(ns, record, opts, breakGlass);
  const apply = RULES[record.type] as (ns: NamespaceState, r: LedgerRecord, i: bigint, s: Signed, o: ReplayOptions, bg: boolean) => () => void;
  const commit = apply(ns, record, index, signed, opts, breakGlass); // throws before any change
  commit();
  if (breakGlass) ns.breakGlass = [...ns.breakGlass, index];
  ns.lastIndex = index;
  return "applied";
}

type Rule<T extends LedgerRecord["type"]> = (
  ns: NamespaceState,
  r: Extract<LedgerRecord, { type: T }>,
  index: bigint,
  signed: Signed,
  opts: ReplayOptions,
  breakGlass: boolean,
) => () => void;

const keyRegister: Rule<"key.register"> = (ns, r, index, signed, opts, breakGlass) => {
  const { keyId, webauthn } = registeredKey(r.statement);
  if (!signed.signers.has(keyId)) throw new RuleError("no_proof_of_possession", "a key.register record must be signed by the key it registers");
  const existing = ns.keys.get(keyId);
  if (existing) {
    throw new RuleError(existing.revokedAt === null ? "key_exists" : "key_revoked", `key ${keyId} was registered in ${ns.namespace} at ${existing.registeredAt}${existing.revokedAt === null ? "" : " and revoked"}`);
  }
  if (breakGlass) requireCore(opts, signed);
  else if (ns.keys.size > 0) requireAdmins(ns, signed, "key.register");
  // else: the first key of a namespace, on the writer's authority.
  return () => {
    ns.keys.set(keyId, {
      keyId,
      publicKey: r.statement.publicKey,
      role: r.statement.role,
      ...(r.statement.label !== undefined ? { label: r.statement.label } : {}),
      registeredAt: index,
      revokedAt: null,
      breakGlass,
      ...(webauthn ? { webauthn } : {}),
    });
  };
};

const keyRevoke: Rule<"key.revoke"> = (ns, r, index, signed, opts, breakGlass) => {
  const k = ns.keys.get(r.statement.keyId);
  if (!k) throw new RuleError("unknown_key", `key ${r.statement.keyId} is not registered in ${ns.namespace}`);
  if (k.revokedAt !== null) throw new RuleError("key_revoked", `key ${k.keyId} was revoked at ${k.revokedAt}`);
  if (breakGlass) requireCore(opts, signed);
  else if (!signed.signers.has(k.keyId)) requireAdmins(ns, signed, "key.revoke");
  return () => {
    ns.keys.set(k.keyId, { ...k, revokedAt: index });
  };
};

const policySet: Rule<"policy.set"> = (ns, r, index, signed) => {
  requireAdmins(ns, signed, "policy.set"); // the old threshold governs a change of threshold
  const admins = [...ns.keys.values()].filter((k) => k.revokedAt === null && k.role === "admin").length;
  if (r.statement.adminThreshold > admins) {
    throw new RuleError("invalid_policy", `admin threshold ${r.statement.adminThreshold} exceeds the ${admins} current admin key(s)`);
  }
  const names = new Set<string>();
  for (const g of r.statement.groups) {
    if (names.has(g.name)) throw new RuleError("invalid_policy", `group ${g.name} appears twice`);
    names.add(g.name);
    if (new Set(g.members).size !== g.members.length) throw new RuleError("invalid_policy", `group ${g.name} lists a member twice`);
    if (g.threshold > g.members.length) throw new RuleError("invalid_policy", `group ${g.name} threshold ${g.threshold} exceeds its ${g.members.length} members`);
    for (const m of g.members) {
      if (!ns.currentKey(m, "approve")) throw new RuleError("invalid_policy", `group ${g.name} member ${m} is not a current approve key`);
    }
  }
  return () => {
    ns.policy = { adminThreshold: r.statement.adminThreshold, groups: r.statement.groups.map((g) => ({ ...g, members: [...g.members] })), index };
  };
};

function publishers(ns: NamespaceState, signed: Signed, roles: Role[], what: string): string[] {
  const ok = [...signed.signers].filter((id) => roles.some((role) => ns.currentKey(id, role)));
  if (ok.length === 0) throw new RuleError("not_authorized", `${what} must be signed by a current ${roles.join(" or ")} key`);
  return ok;
}

const releaseSign: Rule<"release.sign"> = (ns, r, index, signed) => {
  const by = publishers(ns, signed, ["publish"], "release.sign");
  const key = releaseKey(r.statement.package, r.statement.version);
  const existing = ns.releases.get(key);
  if (existing) {
    if (existing.revokedAt !== null) throw new RuleError("release_revoked", `${key} was revoked at ${existing.revokedAt}`);
    if (!sameArtifacts(existing.artifacts, r.statement.artifacts) || existing.requester !== r.statement.requester) {
      throw new RuleError("release_exists", `${key} was released at ${existing.index} with other artifacts or another requester; versions are immutable`);
    }
    // The same release: another publisher's signature on it. Its index, and so its policy, stay.
    return () => {
      ns.releases.set(key, { ...existing, signedBy: [...existing.signedBy, ...by.filter((id) => !existing.signedBy.includes(id))] });
    };
  }
  return () => {
    ns.releases.set(key, {
      package: r.statement.package,
      version: r.statement.version,
      artifacts: r.statement.artifacts,
      index,
      signedBy: by,
      ...(r.statement.requester !== undefined ? { requester: r.statement.requester } : {}),
      revokedAt: null,
      policy: ns.policy,
    });
  };
};

const releaseRevoke: Rule<"release.revoke"> = (ns, r, index, signed) => {
  publishers(ns, signed, ["publish", "admin"], "release.revoke");
  const key = releaseKey(r.statement.package, r.statement.version);
  const rel = ns.releases.get(key);
  if (!rel) throw new RuleError("unknown_release", `${key} has not been released in ${ns.namespace}`);
  if (rel.revokedAt !== null) throw new RuleError("release_revoked", `${key} was revoked at ${rel.revokedAt}`);
  return () => {
    ns.releases.set(key, { ...rel, revokedAt: index });
  };
};

/**
 * The approval rules (docs/records.md "Approval outcomes" says why each exists):
 * - an outcome follows its release (unknown_release) and carries its artifacts;
 * - it names the release's requester when the release names one (requester_mismatch);
 * - it is judged by the policy in force at the release's index, never a later one;
 * - a signature counts only from an approve key current at the outcome's index
 *   and registered before the release (so also current at the release's index),
 *   that is a member of a group of that policy;
 * - a passkey's approval counts in a group only with UV, unless the group says
 *   userVerification "preferred" (user_verification_required);
 * - where a group excludes the requester, the requester proves who they are by
 *   their own approval among the outcome's (requester_unverified): otherwise the
 *   publisher could name anyone as requester and exclude nobody who matters;
 * - "rejected" (the trump card) carries rejection signatures: one by a member
 *   of any group ends the release for good; one decision per release;
 * - the envelope may carry no signature (the approval service logs outcomes
 *   so); when it carries any, one is by a current publish key.
 */
const approvalOutcome: Rule<"approval.outcome"> = (ns, r, index, signed, opts) => {
  // The envelope adds no weight (the approvals sign the whole request); if signed, by a publisher.
  if (r.signatures.length > 0) publishers(ns, signed, ["publish"], "approval.outcome");
  const st = r.statement;
  const key = releaseKey(st.package, st.version);
  const rel = ns.releases.get(key);
  if (!rel) throw new RuleError("unknown_release", `${key} has not been released in ${ns.namespace}: an outcome must follow its release`);
  if (rel.revokedAt !== null) throw new RuleError("release_revoked", `${key} was revoked at ${rel.revokedAt}`);
  if (!sameArtifacts(rel.artifacts, st.artifacts)) throw new RuleError("artifact_mismatch", `the outcome's artifacts differ from release ${key}`);
  if (rel.requester !== undefined && st.requester !== rel.requester) {
    throw new RuleError("requester_mismatch", `the outcome names requester ${st.requester}, release ${key} names ${rel.requester}`);
  }
  const groups = rel.policy?.groups ?? [];
  const prev = ns.outcomes.get(key);
  if (prev?.decision === "rejected") throw new RuleError("release_rejected", `${key} was rejected at ${prev.index}: it is never approved afterwards`);
  if (prev?.decision === "approved" || groups.length === 0) {
    throw new RuleError("release_approved", `${key} is approved${prev ? ` at ${prev.index}` : " (its policy has no groups)"}: its decision is made`);
  }
  const approving = st.decision === "approved";
  const request = { namespace: ns.namespace, ...st };
  const uvOf = new Map<string, boolean | null>();
  for (const a of st.approvals) {
    if (uvOf.has(a.keyId)) throw new RuleError("duplicate_approver", `key ${a.keyId} signs twice`);
    uvOf.set(a.keyId, verifyApproval(ns, rel, request, a, st.decision, opts));
  }
  // Where each signature counts: a member, not the excluded requester, and with UV where the group needs it.
  const countsIn = (g: PolicyGroup, id: string, checkUV: boolean) => {
    if (!uvOf.has(id) || !g.members.includes(id) || (approving && g.excludeRequester && id === st.requester)) return false;
    return !checkUV || uvOf.get(id) !== false || g.userVerification === "preferred";
  };
  const approvers: ApproverInfo[] = [...uvOf].map(([keyId, uv]) => ({ keyId, passkey: uv !== null, userVerified: uv, groups: groups.filter((g) => countsIn(g, keyId, true)).map((g) => g.name) }));
  if (approving) {
    const unmet = groups.filter((g) => g.members.filter((m) => countsIn(g, m, true)).length < g.threshold);
    if (unmet.length > 0) {
      const withoutUV = unmet.every((g) => g.members.filter((m) => countsIn(g, m, false)).length >= g.threshold);
      if (withoutUV) throw new RuleError("user_verification_required", `groups ${unmet.map((g) => g.name).join(", ")} count passkey approvals only with user verification (UV)`);
      throw new RuleError("threshold_not_met", `approval groups not met under the policy of index ${rel.policy!.index}: ${unmet.map((g) => g.name).join(", ")}`);
    }
    if (groups.some((g) => g.excludeRequester) && !uvOf.has(st.requester)) {
      throw new RuleError("requester_unverified", `a group excludes the requester, so requester ${st.requester} must approve too, proving who requested`);
    }
  } else if (!approvers.some((a) => a.groups.length > 0)) {
    if (uvOf.size > 0) throw new RuleError("user_verification_required", "a rejection by passkey counts only with user verification (UV) where the group needs it");
    throw new RuleError("threshold_not_met", "a rejection needs the signature of one member of a group");
  }
  return () => {
    ns.outcomes.set(key, { index, decision: st.decision, artifacts: st.artifacts, requester: st.requester, approvers });
  };
};

/**
 * One approval (or rejection) of a release on its own: by an approve key
 * current now and registered before the release, a member of a group of the
 * policy in force at the release, signing the request's message. Returns the
 * UV flag (null for Ed25519), or throws RuleError("bad_approval"). The
 * approval service checks each decision with this as it arrives; the outcome
 * rule checks every one again.
 */
export function verifyApproval(ns: NamespaceState, rel: ReleaseInfo, request: ReleaseRequest, a: RecordSignature, decision: "approved" | "rejected", opts: ReplayOptions): boolean | null {
  const k = ns.currentKey(a.keyId, "approve");
  if (!k) throw new RuleError("bad_approval", `signature by ${a.keyId}: not a current approve key of ${ns.namespace}`);
  const key = releaseKey(rel.package, rel.version);
  if (k.registeredAt > rel.index) throw new RuleError("bad_approval", `signature by ${a.keyId}: registered at ${k.registeredAt}, after release ${key} at ${rel.index}`);
  if (!(rel.policy?.groups ?? []).some((g) => g.members.includes(a.keyId))) {
    throw new RuleError("bad_approval", `signature by ${a.keyId}: not a member of any group of the policy ${rel.policy ? `at ${rel.policy.index}` : "(none is in force)"}`);
  }
  const approving = decision === "approved";
  const message = approving ? approvalSigningMessage(request) : rejectionSigningMessage(request);
  return verifySignature(signerKey(k), a, message, opts.verify ?? ed25519Verify, "bad_approval", `${approving ? "approval" : "rejection"} by ${a.keyId}`);
}

const RULES: { [T in LedgerRecord["type"]]: Rule<T> } = {
  "key.register": keyRegister,
  "key.revoke": keyRevoke,
  "policy.set": policySet,
  "release.sign": releaseSign,
  "release.revoke": releaseRevoke,
  "approval.outcome": approvalOutcome,
};

export interface ReleaseStatus {
  release: ReleaseInfo;
  /** True when the policy in force at the release's index has no groups, or an approved outcome is logged. */
  approved: boolean;
  approvalIndex: bigint | null;
  /** A rejection is logged: the release is never approved. */
  rejected: boolean;
  /** The logged decision, with who signed it and where each counted. */
  outcome: OutcomeInfo | null;
  revoked: boolean;
  /** The index of the policy.set the release is judged by (null: none was in force). */
  policyIndex: bigint | null;
}

export function releaseStatus(ns: NamespaceState, pkg: string, version: string): ReleaseStatus | undefined {
  const release = ns.releases.get(releaseKey(pkg, version));
  if (!release) return undefined;
  const outcome = ns.outcomes.get(releaseKey(pkg, version)) ?? null;
  const needsApproval = (release.policy?.groups.length ?? 0) > 0;
  return {
    release,
    approved: !needsApproval || outcome?.decision === "approved",
    approvalIndex: outcome?.decision === "approved" ? outcome.index : null,
    rejected: outcome?.decision === "rejected",
    outcome,
    revoked: release.revokedAt !== null,
    policyIndex: release.policy?.index ?? null,
  };
}

export interface ReplayEvent {
  index: bigint;
  namespace: string;
  type: string;
  result: ApplyResult | "refused";
  error?: RuleError;
}

/** Replays a whole log (or a suffix, in order) into per-namespace state. */
export class Replayer {
  readonly namespaces = new Map<string, NamespaceState>();
  readonly opts: ReplayOptions;
  /**
   * Open batches, oldest first: the namespace states each applied to (forks of
   * the state below, or new). `namespaces` changes only when the oldest commits.
   */
  readonly #batches: Array<Map<string, NamespaceState>> = [];

  constructor(opts: ReplayOptions) {
    this.opts = opts;
  }

  namespace(name: string): NamespaceState {
    const top = this.#batches.at(-1);
    if (top) {
      let ns = top.get(name);
      if (!ns) {
        let below: NamespaceState | undefined;
        for (let i = this.#batches.length - 2; i >= 0 && !below; i--) below = this.#batches[i]!.get(name);
        below ??= this.namespaces.get(name);
        top.set(name, (ns = below ? below.fork() : new NamespaceState(name)));
      }
      return ns;
    }
    let ns = this.namespaces.get(name);
    if (!ns) this.namespaces.set(name, (ns = new NamespaceState(name)));
    return ns;
  }

  /**
   * Opens a batch: records applied from now on change forks, not the state,
   * until the batch commits (oldest first) or every open batch rolls back.
   * This is how a client verifies signatures optimistically in bulk: apply a
   * stretch with every signature taken as valid, verify them all elsewhere,
   * commit if all hold, else roll back and apply the stretch again exactly.
   */
  begin(): void {
    this.#batches.push(new Map());
  }

  get openBatches(): number {
    return this.#batches.length;
  }

  /** Makes the oldest open batch's changes the state's. */
  commitOldest(): void {
    const batch = this.#batches.shift();
    if (!batch) throw new Error("commitOldest: no open batch");
    for (const [name, ns] of batch) {
      const base = this.namespaces.get(name);
      if (base) base.absorb(ns);
      else this.namespaces.set(name, ns); // new in this batch: later batches forked it
    }
  }

  /** Drops every open batch: the state is as before the oldest began. */
  rollbackAll(): void {
    this.#batches.length = 0;
  }

  /** Applies the record of the entry at `index`; never throws for a bad record. `verify` overrides the options' for this record. */
  apply(record: unknown, index: bigint, verify?: Verify): ReplayEvent {
    if (!isRecord(record)) {
      return { index, namespace: "", type: "", result: "refused", error: new RuleError("invalid_record", `entry ${index} holds no valid record`) };
    }
    const ns = this.namespace(record.namespace);
    try {
      return { index, namespace: ns.namespace, type: record.type, result: applyRecord(ns, record, index, verify ? { ...this.opts, verify } : this.opts) };
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      if (index > ns.lastIndex) ns.lastIndex = index;
      if (dependsOnIgnored(ns, record)) {
        // Ignored with the break-glass record it builds on; a key it registers is set aside too.
        if (record.type === "key.register") {
          try {
            ns.ignoredKeys.set(registeredKey(record.statement).keyId, index);
          } catch (k) {
            if (!(k instanceof RuleError)) throw k; // no key to set aside
          }
        }
        return { index, namespace: ns.namespace, type: record.type, result: "ignored", error: e };
      }
      return { index, namespace: ns.namespace, type: record.type, result: "refused", error: e };
    }
  }
}

/** Whether a record names a key that only an ignored break-glass record brought in. */
function dependsOnIgnored(ns: NamespaceState, record: LedgerRecord): boolean {
  if (ns.ignoredKeys.size === 0) return false;
  const named = record.signatures.map((s) => s.keyId);
  const st = record.statement as { keyId?: unknown; approvals?: Array<{ keyId: string }>; groups?: Array<{ members: string[] }>; requester?: unknown };
  if (typeof st.keyId === "string") named.push(st.keyId);
  if (typeof st.requester === "string") named.push(st.requester);
  for (const a of st.approvals ?? []) named.push(a.keyId);
  for (const g of st.groups ?? []) named.push(...g.members);
  return named.some((id) => ns.ignoredKeys.has(id));
}

/** untrusted: `LEDGER_CORE_KEYS` syntax, `<threshold>:<base64 key>,<base64 key>…`. */
export function parseCoreKeys(s: string): CoreKeys {
  const m = /^(\d+):(.+)$/.exec(s.trim());
  if (!m) throw new RuleError("invalid_record", "core keys must be <threshold>:<base64 public key>,…");
  const keys = new Map<string, Uint8Array>();
  for (const part of m[2]!.split(",")) {
    let k: Uint8Array;
    try {
      k = decodeKey(part.trim());
    } catch {
      throw new RuleError("invalid_record", "core keys must be base64 32-byte Ed25519 public keys");
    }
    keys.set(keyIdOf(k), k);
  }
  const threshold = Number(m[1]);
  if (threshold < 1 || threshold > keys.size) throw new RuleError("invalid_record", `core key threshold ${threshold} must be from 1 to ${keys.size}`);
  return { threshold, keys };
}
