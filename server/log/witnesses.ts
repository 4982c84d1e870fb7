/**
 * The log's side of C2SP tlog-witness: submits its latest checkpoint to the
 * configured witnesses (mirrors), verifies and stores their cosignatures,
 * and serves /checkpoint with the cosignatures of the newest checkpoint that
 * reached the quorum.
 */
import { readFileSync } from "node:fs";
import { encodeBase64 } from "../../client/bytes.js";
import { parsePolicy, policyMet, policyMinimum, type TlogPolicy } from "../../client/policy.js";
import { createVerifier, openNote, parseVerifierKey, SIG_TYPE_COSIGNATURE, SIG_TYPE_MLDSA44_COSIGNATURE, type NoteVerifier } from "../../client/note.js";
import { consistencyProof } from "./proofs.js";
import type { Store, StoredCheckpoint } from "../store/store.js";

export interface WitnessConfig {
  /** The fewest cosignatures that can meet the quorum (for a policy: of its k-of-n groups). */
  quorum: number;
  witnesses: Array<{ vkey: string; url: string }>;
  /** When given as a C2SP tlog-policy file: the policy and its text. */
  policy?: { parsed: TlogPolicy; text: string };
}

/**
 * untrusted: `<quorum>:<vkey>@<url>,<vkey>@<url>…` (cosigner vkeys, type
 * 0x04 or 0x06), or the path of a C2SP tlog-policy file whose witnesses
 * have URLs (their tlog-witness submission prefixes).
 */
export function parseWitnesses(s: string, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): WitnessConfig {
  if (!/^\d+:/.test(s.trim())) {
    let text: string;
    try {
      text = readFile(s.trim());
    } catch (e) {
      throw new Error(`must be <quorum>:<vkey>@<url>,… or a tlog-policy file: cannot read ${s.trim()} (${(e as Error).message})`);
    }
    const parsed = parsePolicy(text);
    const witnesses = parsed.witnesses.map((w) => {
      if (!w.url || !/^https?:\/\//.test(w.url)) throw new Error(`policy witness ${w.name} needs an http(s) URL (its tlog-witness submission prefix): the log submits checkpoints to it`);
      return { vkey: w.vkey, url: w.url };
    });
    if (parsed.quorum === null) throw new Error("a policy with quorum none needs no witnesses: leave LEDGER_WITNESSES unset");
    return { quorum: policyMinimum(parsed), witnesses, policy: { parsed, text } };
  }
  const m = /^(\d+):(.+)$/.exec(s.trim());
  if (!m) throw new Error("must be <quorum>:<vkey>@<url>,…");
  const witnesses = m[2]!.split(",").map((w) => {
    const at = w.lastIndexOf("@");
    if (at < 0) throw new Error(`witness ${JSON.stringify(w)} must be <vkey>@<url>`);
    const vkey = w.slice(0, at).trim();
    const url = w.slice(at + 1).trim();
    const t = parseVerifierKey(vkey).sigType;
    if (t !== SIG_TYPE_COSIGNATURE && t !== SIG_TYPE_MLDSA44_COSIGNATURE) throw new Error("witness vkeys must be cosignature keys (type 0x04 Ed25519 or 0x06 ML-DSA-44)");
    if (!/^https?:\/\//.test(url)) throw new Error(`witness URL ${JSON.stringify(url)} must be http(s)`);
    return { vkey, url };
  });
  const quorum = Number(m[1]);
  if (quorum < 1 || quorum > witnesses.length) throw new Error(`quorum ${quorum} must be from 1 to ${witnesses.length}`);
  return { quorum, witnesses };
}

interface WitnessState {
  verifier: NoteVerifier;
  url: string;
  /** The size the witness last cosigned, as far as we know (its 409s tell us). */
  known: bigint;
  /** The size whose cosignature by this witness we hold. */
  cosigned: bigint;
}

export class WitnessSubmitter {
  readonly #store: Store;
  readonly #config: WitnessConfig;
  readonly #state: WitnessState[];
  readonly #log: (l: string) => void;
  readonly #fetch: typeof fetch;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  readonly #onResult: ((witness: string, ok: boolean, cosigned: bigint) => void) | undefined;

  constructor(
    store: Store,
    config: WitnessConfig,
    opts: { log: (l: string) => void; fetch?: typeof fetch; onResult?: (witness: string, ok: boolean, cosigned: bigint) => void },
  ) {
    this.#onResult = opts.onResult;
    this.#store = store;
    this.#config = config;
    this.#log = opts.log;
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#state = config.witnesses.map((w) => ({ verifier: createVerifier(w.vkey), url: w.url, known: 0n, cosigned: -1n }));
  }

  /** The note /checkpoint serves: the newest checkpoint with a quorum of cosignatures. */
  async served(): Promise<string | undefined> {
    const policy = this.#config.policy?.parsed;
    const c = await this.#store.latestCosigned(policy ? (ws) => policyMet(policy, ws) : this.#config.quorum);
    return c && c.checkpoint.note + c.lines.join("");
  }

  start(intervalMs: number): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.submitLatest().finally(() => {
        this.#timer = setTimeout(tick, intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async submitLatest(): Promise<void> {
    const cp = await this.#store.latestCheckpoint();
    if (!cp) return;
    await Promise.all(
      this.#state.map((w) =>
        this.#submit(w, cp).then(
          () => this.#onResult?.(w.verifier.name, true, w.cosigned),
          (e) => {
            this.#onResult?.(w.verifier.name, false, w.cosigned);
            const cause = (e as Error).cause instanceof Error ? `: ${((e as Error).cause as Error).message}` : "";
            this.#log(`witness ${w.verifier.name}: ${(e as Error).message}${cause}`);
          },
        ),
      ),
    );
  }

  async #submit(w: WitnessState, cp: StoredCheckpoint, retried = false): Promise<void> {
    if (w.cosigned === cp.treeSize) return;
    const old = w.known <= cp.treeSize ? w.known : 0n;
    const proof = old > 0n && old < cp.treeSize ? await consistencyProof(this.#store, old, cp.treeSize) : [];
    const body = `old ${old}\n${proof.map((h) => encodeBase64(h) + "\n").join("")}\n${cp.note}`;
    const res = await this.#fetch(`${w.url.replace(/\/$/, "")}/add-checkpoint`, { method: "POST", body, headers: { "content-type": "text/plain" } });
    const text = await res.text();
    if (res.status === 409 && /^\d+\n$/.test(text) && !retried) {
      w.known = BigInt(text.trim());
      return this.#submit(w, cp, true);
    }
    if (res.status !== 200) throw new Error(`add-checkpoint answered ${res.status}: ${text.trim().slice(0, 200)}`);
    const lines = text.split("\n").filter(Boolean).map((l) => l + "\n");
    try {
      const note = openNote(cp.note + lines.join(""), [w.verifier]);
      if (!note.sigs.some((s) => s.name === w.verifier.name && s.keyId === w.verifier.keyId)) throw new Error("no cosignature by this witness");
    } catch (e) {
      throw new Error("cosignature does not verify", { cause: e });
    }
    const ours = lines.filter((l) => l.startsWith(`\u2014 ${w.verifier.name} `));
    await this.#store.addCosignature(cp.treeSize, `${w.verifier.name}+${w.verifier.keyId}`, ours.join(""));
    w.known = w.cosigned = cp.treeSize;
  }
}
