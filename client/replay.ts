/**
 * The record state machine (DESIGN "Records"): one pure module that the
 * server uses to refuse invalid records and every client uses to replay the
 * log. Each record affects only its own namespace, so state is per namespace.
 *
 * applyRecord checks a record against the namespace state as of `index` and,
 * when every rule holds, applies it; otherwise it throws RuleError and the
 * state is unchanged. Replay never halts: a refused record simply has no effect.
 */
import type { LedgerRecord } from "../schema/records.js";
import { concatBytes, parseBase64, utf8 } from "./bytes.js";
import { ed25519Verify, isValidPublicKey } from "./ed25519.js";
import { keyIdOf, recordSigningMessage } from "./entry.js";
import { RuleError } from "./errors.js";
import { canonicalize } from "./jcs.js";
import { LayeredMap } from "./layered-map.js";
import { isCanonicalNamespace } from "./namespace.js";
import { isRecord } from "./record-shape.js";

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
}

export interface PolicyInfo {
  adminThreshold: number;
  groups: ReadonlyArray<{ name: string; members: string[]; threshold: number; excludeRequester: boolean }>;
  index: bigint;
}

export interface Artifact {
  name: string;
  sha256: string;
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

export interface OutcomeInfo {
  index: bigint;
  decision: "approved" | "rejected";
  artifacts: Artifact[];
  requester: string;
  approvers: string[];
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

function sameArtifacts(a: Artifact[], b: Artifact[]): boolean {
  return canonicalize(a) === canonicalize(b);
}

export interface Signed {
  /** keyIds whose signatures verified. */
  signers: Set<string>;
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
  const own = record.type === "key.register" ? decodeKey(record.statement.publicKey) : undefined;
  const signers = new Set<string>();
  for (const s of record.signatures) {
    if (signers.has(s.keyId)) throw new RuleError("invalid_record", `key ${s.keyId} signs twice`);
    let pub: Uint8Array | undefined;
    if (own && keyIdOf(own) === s.keyId) pub = own;
    else if (ns.keys.has(s.keyId)) pub = parseBase64(ns.keys.get(s.keyId)!.publicKey);
    else if (breakGlass) pub = opts.coreKeys?.keys.get(s.keyId);
    if (!pub) throw new RuleError("unknown_key", `key ${s.keyId} is not registered in ${ns.namespace}`);
    const sig = decode64(s.sig, "signature");
    if (sig.length !== 64 || !verify(pub, message, sig)) throw new RuleError("bad_signature", `signature by key ${s.keyId} does not verify`);
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
    if (record.type === "key.register") ns.ignoredKeys.set(keyIdOf(decodeKey(record.statement.publicKey)), index);
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
  const pub = decodeKey(r.statement.publicKey);
  const keyId = keyIdOf(pub);
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
 * - an approval counts only from an approve key current at the outcome's index
 *   and registered before the release (so also current at the release's index);
 * - where a group excludes the requester, the requester proves who they are by
 *   their own approval among the outcome's (requester_unverified): otherwise the
 *   publisher could name anyone as requester and exclude nobody who matters.
 */
const approvalOutcome: Rule<"approval.outcome"> = (ns, r, index, signed, opts) => {
  publishers(ns, signed, ["publish"], "approval.outcome");
  const st = r.statement;
  const key = releaseKey(st.package, st.version);
  const rel = ns.releases.get(key);
  if (!rel) throw new RuleError("unknown_release", `${key} has not been released in ${ns.namespace}: an outcome must follow its release`);
  if (rel.revokedAt !== null) throw new RuleError("release_revoked", `${key} was revoked at ${rel.revokedAt}`);
  if (!sameArtifacts(rel.artifacts, st.artifacts)) throw new RuleError("artifact_mismatch", `the outcome's artifacts differ from release ${key}`);
  if (rel.requester !== undefined && st.requester !== rel.requester) {
    throw new RuleError("requester_mismatch", `the outcome names requester ${st.requester}, release ${key} names ${rel.requester}`);
  }
  const verify = opts.verify ?? ed25519Verify;
  const message = approvalSigningMessage({ namespace: ns.namespace, ...st });
  const approvers = new Set<string>();
  for (const a of st.approvals) {
    if (approvers.has(a.keyId)) throw new RuleError("duplicate_approver", `key ${a.keyId} approves twice`);
    const k = ns.currentKey(a.keyId, "approve");
    if (!k) throw new RuleError("bad_approval", `approval by ${a.keyId}: not a current approve key of ${ns.namespace}`);
    if (k.registeredAt > rel.index) throw new RuleError("bad_approval", `approval by ${a.keyId}: registered at ${k.registeredAt}, after release ${key} at ${rel.index}`);
    const sig = decode64(a.sig, "approval signature");
    if (sig.length !== 64 || !verify(parseBase64(k.publicKey), message, sig)) {
      throw new RuleError("bad_approval", `approval by ${a.keyId} does not verify over this release`);
    }
    approvers.add(a.keyId);
  }
  const groups = rel.policy?.groups ?? [];
  const unmet = groups.filter((g) => {
    const counted = g.members.filter((m) => approvers.has(m) && !(g.excludeRequester && m === st.requester));
    return counted.length < g.threshold;
  });
  const requesterVerified = approvers.has(st.requester) || !groups.some((g) => g.excludeRequester);
  if (st.decision === "approved") {
    if (unmet.length > 0) throw new RuleError("threshold_not_met", `approval groups not met under the policy of index ${rel.policy!.index}: ${unmet.map((g) => g.name).join(", ")}`);
    if (!requesterVerified) throw new RuleError("requester_unverified", `a group excludes the requester, so requester ${st.requester} must approve too, proving who requested`);
  }
  if (st.decision === "rejected" && unmet.length === 0 && requesterVerified && groups.length > 0) {
    throw new RuleError("decision_mismatch", "the approvals meet every group: the decision cannot be rejected");
  }
  return () => {
    const prev = ns.outcomes.get(key);
    if (prev?.decision === "approved" && st.decision === "rejected") return; // an approval stands once logged
    ns.outcomes.set(key, { index, decision: st.decision, artifacts: st.artifacts, requester: st.requester, approvers: [...approvers] });
  };
};

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
  revoked: boolean;
  /** The index of the policy.set the release is judged by (null: none was in force). */
  policyIndex: bigint | null;
}

export function releaseStatus(ns: NamespaceState, pkg: string, version: string): ReleaseStatus | undefined {
  const release = ns.releases.get(releaseKey(pkg, version));
  if (!release) return undefined;
  const outcome = ns.outcomes.get(releaseKey(pkg, version));
  const approvedOutcome = outcome?.decision === "approved" ? outcome : undefined;
  const needsApproval = (release.policy?.groups.length ?? 0) > 0;
  return {
    release,
    approved: !needsApproval || approvedOutcome !== undefined,
    approvalIndex: approvedOutcome?.index ?? null,
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

  constructor(opts: ReplayOptions) {
    this.opts = opts;
  }

  namespace(name: string): NamespaceState {
    let ns = this.namespaces.get(name);
    if (!ns) this.namespaces.set(name, (ns = new NamespaceState(name)));
    return ns;
  }

  /** Applies the record of the entry at `index`; never throws for a bad record. */
  apply(record: unknown, index: bigint): ReplayEvent {
    if (!isRecord(record)) {
      return { index, namespace: "", type: "", result: "refused", error: new RuleError("invalid_record", `entry ${index} holds no valid record`) };
    }
    const ns = this.namespace(record.namespace);
    try {
      return { index, namespace: ns.namespace, type: record.type, result: applyRecord(ns, record, index, this.opts) };
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      if (index > ns.lastIndex) ns.lastIndex = index;
      if (dependsOnIgnored(ns, record)) {
        // Ignored with the break-glass record it builds on; a key it registers is set aside too.
        if (record.type === "key.register") ns.ignoredKeys.set(keyIdOf(parseBase64(record.statement.publicKey)), index);
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
