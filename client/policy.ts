/**
 * C2SP tlog-policy: which logs a client accepts, which witnesses it knows,
 * and the quorum of them (witnesses and k-of-n groups, nested) whose
 * cosignatures a checkpoint needs. Parsed strictly: every rule of the spec
 * that a file can break is refused with the line that breaks it.
 */
import { encodeBase64 } from "./bytes.js";
import type { SignedCheckpoint } from "./checkpoint.js";
import { FormatError, PolicyError } from "./errors.js";
import { createVerifier, parseVerifierKey, SIG_TYPE_COSIGNATURE, SIG_TYPE_MLDSA44_COSIGNATURE, type NoteVerifier, type VerifierKey } from "./note.js";

export type PolicyNode =
  | { kind: "witness"; name: string; vkey: string; verifier: NoteVerifier; url?: string }
  | { kind: "group"; name: string; k: number; members: PolicyNode[] };

export interface TlogPolicy {
  logs: Array<{ vkey: string; key: VerifierKey; url?: string }>;
  witnesses: Array<Extract<PolicyNode, { kind: "witness" }>>;
  /** null: `quorum none`, no cosignature is needed. */
  quorum: PolicyNode | null;
}

/** Enough for any real policy (the spec asks for at least 32 logs, witnesses and groups). */
const MAX_LINES = 4096;
const WS = /[ \t]+/;

function fail(line: number, message: string): never {
  throw new FormatError("bad_policy", `policy line ${line}: ${message}`);
}

/** untrusted: parses a C2SP tlog-policy file. */
export function parsePolicy(text: string): TlogPolicy {
  if (typeof text !== "string") throw new FormatError("bad_policy", "a policy is text");
  // Tab and newline are the only control characters allowed (0x09, 0x0A, 0x20-0x7E, 0x80-).
  const bad = /[\u0000-\u0008\u000b-\u001f\u007f]/.exec(text);
  if (bad) fail(text.slice(0, bad.index).split("\n").length, `control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, "0")} is not allowed`);
  const lines = text.split("\n");
  if (lines.length > MAX_LINES) throw new FormatError("bad_policy", `a policy of more than ${MAX_LINES} lines is refused`);
  const logs: TlogPolicy["logs"] = [];
  const witnesses: TlogPolicy["witnesses"] = [];
  const names = new Map<string, PolicyNode>();
  const keys = new Set<string>();
  let quorum: PolicyNode | null | undefined;
  const vkeyAt = (n: number, s: string | undefined): VerifierKey => {
    if (s === undefined) fail(n, "a vkey is missing");
    try {
      return parseVerifierKey(s);
    } catch (e) {
      fail(n, (e as Error).message);
    }
  };
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (line === "" || line.startsWith("#")) return;
    const [word, ...args] = line.split(WS);
    switch (word) {
      case "log": {
        if (args.length < 1 || args.length > 2) fail(n, "log takes <vkey> [<url>]");
        const key = vkeyAt(n, args[0]);
        try {
          createVerifier(key);
        } catch (e) {
          fail(n, (e as Error).message);
        }
        // Duplicates wrap the same public key, whatever the name (the spec's rule).
        const id = encodeBase64(key.publicKey);
        if (logs.some((l) => encodeBase64(l.key.publicKey) === id)) fail(n, "a log with this public key is already listed");
        logs.push({ vkey: args[0]!, key, ...(args[1] ? { url: args[1] } : {}) });
        return;
      }
      case "witness": {
        if (args.length < 2 || args.length > 3) fail(n, "witness takes <name> <vkey> [<url>]");
        const name = args[0]!;
        if (name === "none") fail(n, '"none" is predefined and cannot name a witness');
        if (names.has(name)) fail(n, `the name ${JSON.stringify(name)} is already defined`);
        const key = vkeyAt(n, args[1]);
        if (key.sigType !== SIG_TYPE_COSIGNATURE && key.sigType !== SIG_TYPE_MLDSA44_COSIGNATURE) fail(n, "a witness key must be a cosignature key (type 0x04 Ed25519 or 0x06 ML-DSA-44)");
        if (keys.has(encodeBase64(key.publicKey))) fail(n, "a witness with this public key is already listed");
        keys.add(encodeBase64(key.publicKey));
        const w = { kind: "witness" as const, name, vkey: args[1]!, verifier: createVerifier(key), ...(args[2] ? { url: args[2] } : {}) };
        witnesses.push(w);
        names.set(name, w);
        return;
      }
      case "group": {
        if (args.length < 3) fail(n, "group takes <name> all|any|<k> <member>…");
        const [name, threshold, ...memberNames] = args as [string, string, ...string[]];
        if (name === "none") fail(n, '"none" is predefined and cannot name a group');
        if (names.has(name)) fail(n, `the name ${JSON.stringify(name)} is already defined`);
        const seen = new Set<string>();
        const members = memberNames.map((m) => {
          if (m === "none") fail(n, '"none" cannot be a group member');
          const node = names.get(m);
          if (!node) fail(n, `${JSON.stringify(m)} is not defined on an earlier line`);
          if (seen.has(m)) fail(n, `${JSON.stringify(m)} is listed twice`);
          seen.add(m);
          return node;
        });
        let k: number;
        if (threshold === "all") k = members.length;
        else if (threshold === "any") k = 1;
        else if (/^[1-9][0-9]{0,8}$/.test(threshold)) k = Number(threshold);
        else fail(n, `the threshold must be all, any or a decimal number, not ${JSON.stringify(threshold)}`);
        if (k < 1 || k > members.length) fail(n, `the threshold ${k} must be from 1 to the ${members.length} members`);
        names.set(name, { kind: "group", name, k, members });
        return;
      }
      case "quorum": {
        if (args.length !== 1) fail(n, "quorum takes one name");
        if (quorum !== undefined) fail(n, "a policy has exactly one quorum line");
        if (args[0] === "none") quorum = null;
        else {
          const node = names.get(args[0]!);
          if (!node) fail(n, `${JSON.stringify(args[0])} is not defined on an earlier line`);
          quorum = node;
        }
        return;
      }
      default:
        fail(n, `unknown line ${JSON.stringify(word)} (log, witness, group, quorum, or # comments)`);
    }
  });
  if (quorum === undefined) throw new FormatError("bad_policy", "the policy has no quorum line");
  return { logs, witnesses, quorum };
}

/** Whether a node is met by the witnesses whose cosignatures were verified. */
function met(node: PolicyNode, cosigned: Set<string>): boolean {
  if (node.kind === "witness") return cosigned.has(`${node.verifier.name}+${node.verifier.keyId}`);
  let n = 0;
  for (const m of node.members) if (met(m, cosigned) && ++n >= node.k) return true;
  return false;
}

/** The policy's witnesses that cosigned `cp` (its signatures verified by openCheckpoint with the policy's verifiers). */
export function policyCosigners(cp: SignedCheckpoint, policy: TlogPolicy): string[] {
  const got = new Set(cp.note.sigs.map((s) => `${s.name}+${s.keyId}`));
  return policy.witnesses.filter((w) => got.has(`${w.verifier.name}+${w.verifier.keyId}`)).map((w) => w.name);
}

/** Whether cosignatures by these witnesses (`name+keyId` of their keys) meet the quorum. */
export function policyMet(policy: TlogPolicy, cosigned: Iterable<string>): boolean {
  return policy.quorum === null || met(policy.quorum, new Set(cosigned));
}

/** Throws PolicyError("quorum") unless the checkpoint's verified cosignatures meet the policy's quorum. */
export function requirePolicy(cp: SignedCheckpoint, policy: TlogPolicy): void {
  if (policyMet(policy, cp.note.sigs.map((s) => `${s.name}+${s.keyId}`))) return;
  const who = policyCosigners(cp, policy);
  throw new PolicyError("quorum", `checkpoint ${cp.treeSize} does not meet the policy's quorum ${policy.quorum!.name}: cosigned by ${who.length ? who.join(", ") : "none of its witnesses"}`);
}

/** The fewest cosignatures that can meet the quorum (0 for `quorum none`). */
export function policyMinimum(policy: TlogPolicy): number {
  const min = (n: PolicyNode): number =>
    n.kind === "witness"
      ? 1
      : n.members
          .map(min)
          .sort((a, b) => a - b)
          .slice(0, n.k)
          .reduce((a, b) => a + b, 0);
  return policy.quorum === null ? 0 : min(policy.quorum);
}
