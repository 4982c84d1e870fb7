/**
 * LedgerClient: what a package manager embeds. It keeps a trusted
 * checkpoint, moves it only forward along verified consistency proofs,
 * syncs and verifies every entry (leaf hashes, hash chain, tree root),
 * replays the records with the same rules as the server, and verifies
 * releases. Node and browsers; `fetch` is injectable.
 */
import { bytesEqual, encodeBase64, parseBase64 } from "./bytes.js";
import { openCheckpoint, type SignedCheckpoint } from "./checkpoint.js";
import { entryLeafHash } from "./entry.js";
import { FormatError, HttpError, InconsistencyError, LedgerError, PolicyError, RootMismatchError } from "./errors.js";
import { LeafHashes } from "./leaf-hashes.js";
import { parseEntriesResponse, parseEntryResponse, parseInclusionResponse, parseProofResponse } from "./wire.js";
import { LogBuilder } from "./log-builder.js";
import { consistencyProofRanges, hashRanges, inclusionProofRanges } from "./merkle-tree.js";
import { verifyConsistency, verifyInclusion } from "./merkle-verify.js";
import { createVerifier, type NoteVerifier } from "./note.js";
import { requirePolicy, type TlogPolicy } from "./policy.js";
import { requireCosignatures, type Quorum } from "./quorum.js";
import { releaseStatus, Replayer, type Artifact, type BreakGlassPolicy, type CoreKeys, type ReplayEvent, type Verify } from "./replay.js";
import { canonicalize } from "./jcs.js";
import { parseEntryBundle, tilePath, tileWidth, TILE_WIDTH } from "./tiles.js";

export interface TrustedStateStore {
  load(): Promise<string | undefined>;
  save(checkpointNote: string): Promise<void>;
}

export class MemoryStateStore implements TrustedStateStore {
  #note: string | undefined;
  constructor(note?: string) {
    this.#note = note;
  }
  async load() {
    return this.#note;
  }
  async save(note: string) {
    this.#note = note;
  }
}

export interface LedgerClientOptions {
  /** Base URL of the log (or of a mirror serving the same read API). */
  url: string;
  /** The log's C2SP vkey; its key name is the origin. */
  logKey: string;
  breakGlass: BreakGlassPolicy;
  coreKeys?: CoreKeys;
  /** Cosigner quorum and mirrors that vouch for checkpoints. */
  quorum?: Quorum & { mirrors?: string[] };
  /**
   * A C2SP tlog-policy: the checkpoint must carry cosignatures that meet its
   * quorum (witnesses and k-of-n groups). When it lists logs, the log key
   * must be one of them.
   */
  policy?: TlogPolicy;
  state?: TrustedStateStore;
  fetch?: typeof globalThis.fetch;
  verify?: Verify;
  /**
   * Bulk Ed25519 verification elsewhere (worker threads): sync then applies
   * each entry bundle with every signature taken as valid while the bundle's
   * signatures are verified in bulk and the next bundle is fetched; a bundle
   * commits only when all its signatures verified, and is applied again one
   * signature at a time (with `verify`) when one did not: the same state and
   * counts as inline verification; without it (or with `onRecord`, whose callers see the state at
   * each record's index) every signature is verified inline.
   */
  verifyBatch?: (items: Array<[publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array]>) => Promise<boolean[]>;
  onProgress?: (done: bigint, total: bigint) => void;
  /** Called for every record synced, after replay applied (or refused, or ignored) it; `entry` is the leaf's bytes. */
  onRecord?: (event: ReplayEvent, record: unknown, entry: Uint8Array) => void | Promise<void>;
  /** How sync fetches entries: C2SP entry bundles (default) or the JSON API. */
  transport?: "tiles" | "json";
}

export interface ReleaseQuery {
  namespace: string;
  package: string;
  version: string;
  artifacts: Artifact[];
}

/** Who approved a release, as the log shows it: re-verified by this client's replay. */
export interface Approver {
  keyId: string;
  label?: string;
  kind: "passkey" | "ed25519";
  /** The passkey assertion's UV flag (null for Ed25519 keys). */
  userVerified: boolean | null;
  /** The groups of the release's policy this approval counted in. */
  groups: string[];
}

export interface VerifiedRelease extends ReleaseQuery {
  index: bigint;
  treeSize: bigint;
  signedBy: string[];
  approved: boolean;
  approvalIndex: bigint | null;
  /** The index of the policy.set the release is judged by (null: none, no approval needed). */
  policyIndex: bigint | null;
  approvers: Approver[];
  /** Applied break-glass records of the namespace (empty when refused or none). */
  breakGlass: { involved: boolean; indices: bigint[] };
  checkpoint: string;
}

interface Sync {
  log: LogBuilder;
  /** Every synced leaf hash, to prove a smaller forked checkpoint from what we hold. */
  leaves: LeafHashes;
  replayer: Replayer;
  stats: ReplayStats;
}

export interface ReplayStats {
  applied: number;
  /** Records the rules refuse (a log should never hold one). */
  refused: number;
  /** Break-glass records ignored under `breakGlass: "refuse"`. */
  ignored: number;
}

export class LedgerClient {
  readonly origin: string;
  readonly #opts: LedgerClientOptions;
  readonly #log: NoteVerifier;
  readonly #state: TrustedStateStore;
  readonly #fetch: typeof globalThis.fetch;
  /** The quorum's and the policy's cosigner verifiers. */
  readonly #cosigners: NoteVerifier[];
  #sync: Sync;
  readonly #events: Array<[ReplayEvent, unknown, Uint8Array]> = [];

  constructor(opts: LedgerClientOptions) {
    this.#opts = opts;
    this.#log = createVerifier(opts.logKey);
    this.origin = this.#log.name;
    if (opts.policy && opts.policy.logs.length > 0 && !opts.policy.logs.some((l) => l.key.name === this.#log.name && l.key.keyId === this.#log.keyId)) {
      throw new PolicyError("quorum", `the log key ${this.#log.name}+${this.#log.keyId.toString(16).padStart(8, "0")} is not among the policy's logs`);
    }
    this.#state = opts.state ?? new MemoryStateStore();
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#cosigners = [...(opts.quorum?.witnesses ?? []), ...(opts.policy?.witnesses.map((w) => w.verifier) ?? [])];
    this.#sync = this.#freshSync();
  }

  #freshSync(): Sync {
    return {
      log: new LogBuilder(),
      leaves: new LeafHashes(),
      replayer: new Replayer({ breakGlass: this.#opts.breakGlass, coreKeys: this.#opts.coreKeys, verify: this.#opts.verify }),
      stats: { applied: 0, refused: 0, ignored: 0 },
    };
  }

  /** Counts of what replay did with the records synced so far. */
  get stats(): Readonly<ReplayStats> {
    return this.#sync.stats;
  }

  /** Entries synced and verified so far. */
  get syncedSize(): bigint {
    return this.#sync.log.size;
  }

  /** The replayed state of every namespace synced so far. */
  get replayer(): Replayer {
    return this.#sync.replayer;
  }

  async #get(base: string, path: string): Promise<Response> {
    let res: Response;
    try {
      res = await this.#fetch(base.replace(/\/$/, "") + path);
    } catch (e) {
      throw new HttpError(0, `cannot reach ${base}: ${(e as Error).message}`);
    }
    if (!res.ok) {
      let code: string | undefined;
      try {
        code = ((await res.json()) as { error?: { code?: string } }).error?.code;
      } catch {}
      throw new HttpError(res.status, `GET ${path}: ${res.status}${code ? ` ${code}` : ""}`, code);
    }
    return res;
  }

  /** untrusted: the answer's JSON, to be read by a parse* function of client/wire.ts. */
  async #json(base: string, path: string): Promise<unknown> {
    const res = await this.#get(base, path);
    try {
      return await res.json();
    } catch {
      throw new FormatError("bad_json", `GET ${path}: not json`);
    }
  }

  async #proof(base: string, path: string): Promise<Uint8Array[]> {
    return parseProofResponse(await this.#json(base, path), `GET ${path}`);
  }

  #open(note: string): SignedCheckpoint {
    return openCheckpoint(note, { origin: this.origin, logVerifier: this.#log, cosigners: this.#cosigners });
  }

  /** The trusted checkpoint, if any was verified before. */
  async trusted(): Promise<SignedCheckpoint | undefined> {
    const note = await this.#state.load();
    return note === undefined ? undefined : this.#open(note);
  }

  /**
   * Fetches the log's checkpoint, verifies its signature, the quorum and
   * its consistency with the trusted one, and makes it the trusted one.
   * Never moves the trusted state backwards or sideways.
   */
  async update(): Promise<SignedCheckpoint> {
    const note = await (await this.#get(this.#opts.url, "/checkpoint")).text();
    const candidate = this.#open(note);
    const trusted = await this.trusted();
    if (trusted && candidate.treeSize < trusted.treeSize) {
      // Holding the trusted tree's leaves, we prove a smaller fork from them alone.
      await this.#checkOlderAgainstHeld(candidate, trusted);
      // A server behind our trusted state (a lagging mirror) cannot prove its
      // older tree is ours; its checkpoint is not used and the state stays.
      await this.#checkConsistent(candidate, trusted, this.#opts.url).catch((e) => {
        if (!(e instanceof HttpError && e.status === 400)) throw e;
      });
      return trusted;
    }
    if (trusted) await this.#checkConsistent(trusted, candidate, this.#opts.url);
    if (this.#opts.quorum) await this.#checkQuorum(candidate);
    if (this.#opts.policy) requirePolicy(candidate, this.#opts.policy);
    if (trusted && candidate.treeSize === trusted.treeSize) return trusted;
    await this.#state.save(note);
    return candidate;
  }

  /** Throws InconsistencyError with both notes and the proof when a and b cannot both be honest. */
  async #checkConsistent(a: SignedCheckpoint, b: SignedCheckpoint, base: string): Promise<void> {
    const [older, newer] = a.treeSize <= b.treeSize ? [a, b] : [b, a];
    if (older.treeSize === newer.treeSize) {
      if (!bytesEqual(older.rootHash, newer.rootHash)) throw new InconsistencyError(`two checkpoints of size ${older.treeSize} with different roots`, older.raw, newer.raw, []);
      return;
    }
    if (older.treeSize === 0n) return;
    const proof = await this.#proof(base, `/v1/proofs/consistency?size1=${older.treeSize}&size2=${newer.treeSize}`);
    try {
      verifyConsistency(older.treeSize, newer.treeSize, proof, older.rootHash, newer.rootHash);
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      throw new InconsistencyError(`checkpoint ${newer.treeSize} is not consistent with checkpoint ${older.treeSize}: ${e.message}`, older.raw, newer.raw, proof);
    }
  }

  /**
   * When we synced the trusted tree, compares an older checkpoint with our own
   * root at its size; a difference is equivocation, with the consistency
   * proof from our leaves as evidence that verifies on its own.
   */
  async #checkOlderAgainstHeld(older: SignedCheckpoint, trusted: SignedCheckpoint): Promise<void> {
    const s = this.#sync;
    if (older.treeSize === 0n || s.log.size !== trusted.treeSize || !bytesEqual(s.log.root(), trusted.rootHash)) return;
    const reader = s.leaves.reader();
    const [ours] = await hashRanges([[0n, older.treeSize]], reader);
    if (bytesEqual(ours!, older.rootHash)) return; // a lagging server: consistent, nothing more to compute
    const proof = await hashRanges(consistencyProofRanges(older.treeSize, trusted.treeSize), reader);
    throw new InconsistencyError(
      `checkpoint ${older.treeSize} is not a prefix of the trusted checkpoint ${trusted.treeSize} whose entries we verified`,
      older.raw,
      trusted.raw,
      proof,
      ours,
    );
  }

  async #checkQuorum(candidate: SignedCheckpoint): Promise<void> {
    const q = this.#opts.quorum!;
    let vouching = 0;
    for (const mirror of q.mirrors ?? []) {
      let theirs: SignedCheckpoint;
      try {
        theirs = this.#open(await (await this.#get(mirror, "/checkpoint")).text());
      } catch (e) {
        if (e instanceof HttpError) continue; // an unreachable mirror vouches for nothing
        throw e;
      }
      // The larger of the two serves the proof; a failing proof is evidence of a fork.
      await this.#checkConsistent(candidate, theirs, theirs.treeSize >= candidate.treeSize ? mirror : this.#opts.url);
      vouching++;
    }
    requireCosignatures(candidate, q, vouching);
  }

  /** Verifies that the entry at `index` is in the trusted tree; returns its bytes. */
  async verifyInclusion(which: bigint | Uint8Array): Promise<{ index: bigint; entry: Uint8Array; leafHash: Uint8Array; treeSize: bigint }> {
    const cp = (await this.trusted()) ?? (await this.update());
    let index: bigint;
    let entry: Uint8Array;
    if (typeof which === "bigint") {
      index = which;
      const path = `/v1/entries/${index}`;
      entry = parseEntryResponse(await this.#json(this.#opts.url, path), `GET ${path}`, entryLeafHash);
    } else {
      // The entry's bytes: find its index by leaf hash; the proof then binds hash and index.
      entry = which;
      const path = `/v1/proofs/inclusion?leafHash=${encodeURIComponent(encodeBase64(entryLeafHash(entry)))}&treeSize=${cp.treeSize}`;
      index = parseInclusionResponse(await this.#json(this.#opts.url, path), `GET ${path}`).index;
    }
    const leafHash = entryLeafHash(entry);
    const proof = await this.#proof(this.#opts.url, `/v1/proofs/inclusion?index=${index}&treeSize=${cp.treeSize}`);
    verifyInclusion(index, cp.treeSize, leafHash, proof, cp.rootHash);
    return { index, entry, leafHash, treeSize: cp.treeSize };
  }

  /**
   * The inclusion proof of entry `index` in the synced tree, computed from the
   * leaves this client verified (no request): what offline bundles carry.
   */
  async proveSynced(index: bigint): Promise<Uint8Array[]> {
    const s = this.#sync;
    if (index < 0n || index >= s.log.size) throw new RangeError(`entry ${index} is not in the synced tree of size ${s.log.size}`);
    return hashRanges(inclusionProofRanges(index, s.log.size), s.leaves.reader());
  }

  /** Verifies that an older checkpoint note is consistent with the trusted one. */
  async verifyConsistency(olderNote: string): Promise<void> {
    const cp = (await this.trusted()) ?? (await this.update());
    await this.#checkConsistent(this.#open(olderNote), cp, this.#opts.url);
  }

  /**
   * Fetches every entry up to the trusted checkpoint, checks each leaf, the
   * hash chain and that all leaves give the signed root, and replays records.
   */
  async sync(): Promise<SignedCheckpoint> {
    const cp = await this.update();
    const s = this.#sync;
    // Pipelined only without onRecord: its callers see the state at each record's index.
    if (this.#opts.verifyBatch && !this.#opts.onRecord && this.#opts.transport !== "json") await this.#syncPipelined(cp);
    while (s.log.size < cp.treeSize) {
      const entries = this.#opts.transport === "json" ? await this.#jsonPage(cp.treeSize) : await this.#bundle(cp.treeSize, s.log.size);
      for (const e of entries) {
        this.#applyEntry(e);
        // Reported right after each record applies, so the state it sees is the state at that index.
        for (const [event, record, bytes] of this.#events.splice(0)) await this.#opts.onRecord?.(event, record, bytes);
      }
      this.#opts.onProgress?.(s.log.size, cp.treeSize);
    }
    if (!bytesEqual(s.log.root(), cp.rootHash)) {
      const got = s.log.root();
      this.#sync = this.#freshSync(); // nothing from a log that lies is kept
      throw new RootMismatchError(got, cp.rootHash);
    }
    return cp;
  }

  /**
   * sync with `verifyBatch`: bundle k+1 is fetched while bundle k's
   * signatures are verified, and applied (optimistically, on forks) before
   * bundle k commits. The log part (index, hash chain, leaf hashes) is never
   * optimistic: only the record signatures are.
   */
  async #syncPipelined(cp: SignedCheckpoint): Promise<void> {
    const s = this.#sync;
    const verifyBatch = this.#opts.verifyBatch!;
    type Taken = Array<[record: unknown, index: bigint]>;
    interface Stretch {
      taken: Taken;
      events: ReplayEvent[];
      items: Array<[Uint8Array, Uint8Array, Uint8Array]>;
      verified: Promise<boolean[]>;
    }
    const optimistic = (taken: Taken): Stretch => {
      s.replayer.begin();
      const items: Stretch["items"] = [];
      const take = (p: Uint8Array, m: Uint8Array, sig: Uint8Array) => (items.push([p, m, sig]), true);
      const events = taken.map(([record, index]) => s.replayer.apply(record, index, take));
      const verified = verifyBatch(items);
      verified.catch(() => {}); // awaited in settleOldest
      return { taken, events, items, verified };
    };
    const open: Stretch[] = [];
    /** Commits the oldest stretch if all its signatures verified; else applies it again exactly and reopens the younger ones on that state. */
    const settleOldest = async () => {
      const oldest = open[0]!;
      const ok = await oldest.verified.then((r) => r.length === oldest.items.length && r.every(Boolean), () => false);
      let events = oldest.events;
      if (ok) s.replayer.commitOldest();
      else {
        s.replayer.rollbackAll();
        events = oldest.taken.map(([record, index]) => s.replayer.apply(record, index));
        for (let i = 1; i < open.length; i++) open[i] = optimistic(open[i]!.taken);
      }
      open.shift();
      for (const e of events) s.stats[e.result]++;
      const last = oldest.taken.at(-1);
      if (last) this.#opts.onProgress?.(last[1] + 1n, cp.treeSize);
    };
    let at = s.log.size;
    let next = at < cp.treeSize ? this.#bundle(cp.treeSize, at) : undefined;
    try {
      while (next) {
        const entries = await next;
        at += BigInt(entries.length);
        next = at < cp.treeSize ? this.#bundle(cp.treeSize, at) : undefined;
        next?.catch(() => {}); // awaited on the next turn
        const taken: Taken = [];
        let broken: unknown;
        for (const bytes of entries) {
          try {
            const { entry } = s.log.appendBytes(bytes, s.leaves.onNode); // next index, linked to the previous leaf
            taken.push([entry.record, entry.index]);
          } catch (e) {
            broken = e; // the entries before it are replayed (below) before this is thrown
            break;
          }
        }
        if (taken.length > 0) open.push(optimistic(taken));
        if (broken) throw broken;
        if (open.length > 1) await settleOldest();
      }
      while (open.length > 0) await settleOldest();
    } catch (e) {
      // Settle what was applied, so the replayed state matches the entries taken; if even that fails, start over.
      try {
        while (open.length > 0) await settleOldest();
      } catch {
        this.#sync = this.#freshSync();
      }
      throw e;
    }
  }

  /** The next entries from the C2SP entry bundle (immutable, CDN-cacheable) that holds them. */
  async #bundle(treeSize: bigint, start: bigint): Promise<Uint8Array[]> {
    const t = start / BigInt(TILE_WIDTH);
    const w = tileWidth(0, t, treeSize);
    const all = parseEntryBundle(new Uint8Array(await (await this.#get(this.#opts.url, "/" + tilePath("entries", t, w))).arrayBuffer()));
    if (all.length !== w) throw new PolicyError("entry", `bundle ${t} has ${all.length} entries, want ${w}`);
    return all.slice(Number(start - t * BigInt(TILE_WIDTH)));
  }

  async #jsonPage(treeSize: bigint): Promise<Uint8Array[]> {
    const start = this.#sync.log.size;
    const limit = treeSize - start > 1000n ? 1000n : treeSize - start;
    const path = `/v1/entries?start=${start}&limit=${limit}`;
    let entries: Uint8Array[];
    try {
      entries = parseEntriesResponse(await this.#json(this.#opts.url, path), `GET ${path}`, entryLeafHash);
    } catch (e) {
      if (e instanceof FormatError) throw new PolicyError("entry", e.message);
      throw e;
    }
    if (entries.length === 0) throw new PolicyError("entry", `the log serves no entry at ${start} below its checkpoint ${treeSize}`);
    return entries;
  }

  #applyEntry(bytes: Uint8Array): void {
    const s = this.#sync;
    const { entry } = s.log.appendBytes(bytes, s.leaves.onNode); // the shared core: next index, linked to the previous leaf
    const event = s.replayer.apply(entry.record, entry.index);
    s.stats[event.result]++;
    this.#events.push([event, entry.record, bytes]);
  }

  /**
   * Verifies a release: logged under the trusted checkpoint, signed by a key
   * valid at its index, approved per the namespace policy, not revoked, with
   * exactly these artifacts. Throws PolicyError naming the failed check.
   */
  async verifyRelease(q: ReleaseQuery): Promise<VerifiedRelease> {
    const cp = await this.sync();
    const ns = this.#sync.replayer.namespaces.get(q.namespace);
    const status = ns && releaseStatus(ns, q.package, q.version);
    if (!ns || !status) throw new PolicyError("not_logged", `${q.namespace} ${q.package}@${q.version} is not in the log (tree size ${cp.treeSize})`);
    if (canonicalize(status.release.artifacts) !== canonicalize(q.artifacts)) {
      throw new PolicyError("artifacts_mismatch", `${q.package}@${q.version}: the artifacts differ from the logged release at ${status.release.index}`);
    }
    if (status.revoked) throw new PolicyError("revoked", `${q.package}@${q.version} was revoked at ${status.release.revokedAt}`);
    if (status.rejected) throw new PolicyError("rejected", `${q.package}@${q.version} was rejected at ${status.outcome!.index}`);
    if (!status.approved) throw new PolicyError("not_approved", `${q.package}@${q.version} has no approved outcome that meets the policy of ${q.namespace}`);
    await this.verifyInclusion(status.release.index); // an explicit proof to the trusted checkpoint
    const bgSigners = status.release.signedBy.some((id) => ns.keys.get(id)?.breakGlass);
    return {
      ...q,
      index: status.release.index,
      treeSize: cp.treeSize,
      signedBy: status.release.signedBy,
      approved: status.approved,
      approvalIndex: status.approvalIndex,
      policyIndex: status.policyIndex,
      approvers: (status.approvalIndex !== null ? status.outcome!.approvers : []).map((a) => {
        const label = ns.keys.get(a.keyId)?.label;
        return { keyId: a.keyId, ...(label !== undefined ? { label } : {}), kind: a.passkey ? "passkey" : "ed25519", userVerified: a.userVerified, groups: a.groups };
      }),
      breakGlass: { involved: bgSigners || ns.breakGlass.length > 0, indices: [...ns.breakGlass] },
      checkpoint: cp.raw,
    };
  }
}
