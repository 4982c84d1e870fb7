/**
 * The log's side of C2SP tlog-witness: submits its latest checkpoint to the
 * configured witnesses (mirrors), verifies and stores their cosignatures,
 * and serves /checkpoint with the cosignatures of the newest checkpoint that
 * reached the quorum.
 */
import { readFileSync } from "node:fs";
import { encodeBase64 } from "../../client/bytes.js";
import { parsePolicy, policyMet, policyMinimum, type TlogPolicy } from "../../client/policy.js";
import { createVerifier, openNote, parseNote, parseVerifierKey, SIG_TYPE_COSIGNATURE, SIG_TYPE_MLDSA44_COSIGNATURE, type NoteVerifier } from "../../client/note.js";
import { consistencyProof } from "./proofs.js";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { concatBytes } from "../../client/bytes.js";
import { parseCheckpoint } from "../../client/checkpoint.js";
import { hashRanges, subtreeConsistencyProofRanges } from "../../client/merkle-tree.js";
import { canonicalPackages, encodeAddEntriesHeader, encodeEntryPackage, MAX_PACKAGES_PER_REQUEST, parseMirrorInfo } from "../../client/tlog-mirror.js";
import type { Store, StoredCheckpoint } from "../store/store.js";

export interface WitnessConfig {
  /** The fewest cosignatures that can meet the quorum (for a policy: of its k-of-n groups). */
  quorum: number;
  /** `push`: a C2SP tlog-mirror mirror (`ledger mirror --push`): entries are uploaded to it. */
  witnesses: Array<{ vkey: string; url: string; push?: boolean }>;
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

/**
 * A C2SP tlog-mirror add-entries body for [start, end) of the stored log,
 * proofs against its tree of size `end`: the header and at most `limit`
 * packages of the canonical sequence (default 32, the spec's advice).
 */
export async function addEntriesBody(
  store: Pick<Store, "entriesBetween" | "readNodes">,
  origin: string,
  start: bigint,
  end: bigint,
  limit = MAX_PACKAGES_PER_REQUEST,
): Promise<{ body: Uint8Array; packages: number }> {
  const spans = canonicalPackages(start, end, 0, limit);
  const parts: Uint8Array[] = [encodeAddEntriesHeader({ origin, uploadStart: start, uploadEnd: end, ticket: new Uint8Array(0) })];
  for (const span of spans) {
    const entries = await store.entriesBetween(span.start, span.end);
    const proof = await hashRanges(subtreeConsistencyProofRanges(span.subtreeStart, span.end, end), (ids) => store.readNodes(ids));
    parts.push(encodeEntryPackage(entries.map((e) => e.entry), proof));
  }
  return { body: concatBytes(...parts), packages: spans.length };
}

const gzipAsync = promisify(gzip);

/** Marks the witnesses at these URLs (LEDGER_PUSH_MIRRORS) as push mirrors. */
export function markPushMirrors(c: WitnessConfig, urls: string[]): WitnessConfig {
  const norm = (u: string) => u.replace(/\/+$/, "");
  for (const u of urls) {
    if (!c.witnesses.some((w) => norm(w.url) === norm(u))) throw new Error(`${u} is not the URL of a witness in LEDGER_WITNESSES`);
  }
  return { ...c, witnesses: c.witnesses.map((w) => (urls.some((u) => norm(u) === norm(w.url)) ? { ...w, push: true } : w)) };
}

interface WitnessState {
  verifier: NoteVerifier;
  url: string;
  /** The size the witness last cosigned, as far as we know (its 409s tell us). */
  known: bigint;
  /** The size whose cosignature by this witness we hold. */
  cosigned: bigint;
  /** A push mirror: its next entry as it last told us, if it did. */
  push: { next: bigint | undefined } | undefined;
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
    this.#state = config.witnesses.map((w) => ({ verifier: createVerifier(w.vkey), url: w.url, known: 0n, cosigned: -1n, push: w.push ? { next: undefined } : undefined }));
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
    if (w.push) {
      // A push mirror took it as its pending checkpoint: upload the entries; add-entries cosigns.
      w.known = cp.treeSize;
      return this.#upload(w, w.push, cp);
    }
    await this.#keep(w, cp, text);
  }

  /** Verifies and stores a witness's cosignature lines on `cp`. */
  async #keep(w: WitnessState, cp: StoredCheckpoint, text: string): Promise<void> {
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

  /**
   * C2SP tlog-mirror add-entries up to `cp`, at most 32 packages a request,
   * following the mirror's 202 and 409 answers (its next entry). Without one
   * known yet, the first request is empty (upload_start = upload_end): the
   * mirror then cosigns if it holds everything, or says where it stands.
   */
  async #upload(w: WitnessState, push: { next: bigint | undefined }, cp: StoredCheckpoint): Promise<void> {
    const end = cp.treeSize;
    const origin = parseCheckpoint(parseNote(cp.note).text).origin;
    let stalled = 0;
    for (;;) {
      const start = push.next !== undefined && push.next <= end ? push.next : end;
      const { body, packages } = await addEntriesBody(this.#store, origin, start, end);
      const res = await this.#fetch(`${w.url.replace(/\/$/, "")}/add-entries`, {
        method: "POST",
        body: await gzipAsync(body), // on libuv's threads: a request of 8,192 entries is megabytes, and appends share this loop
        headers: { "content-type": "application/octet-stream", "content-encoding": "gzip" },
      });
      const text = await res.text();
      if (res.status === 200) {
        push.next = end;
        return this.#keep(w, cp, text);
      }
      if (res.status !== 202 && res.status !== 409) throw new Error(`add-entries answered ${res.status}: ${text.trim().slice(0, 200)}`);
      let info;
      try {
        info = parseMirrorInfo(text);
      } catch {
        throw new Error(`add-entries answered ${res.status} without mirror info`);
      }
      if (info.treeSize !== end) {
        // Our checkpoint is no longer one the mirror accepts: the next round moves its pending checkpoint again.
        w.known = info.treeSize;
        push.next = info.nextEntry;
        throw new Error(`add-entries: the mirror's pending checkpoint is ${info.treeSize}, not ${end}`);
      }
      stalled = info.nextEntry > start || (packages === 0 && push.next === undefined) ? 0 : stalled + 1;
      push.next = info.nextEntry;
      if (stalled >= 2) throw new Error(`add-entries: the mirror stays at next entry ${info.nextEntry} (${res.status})`);
    }
  }
}
