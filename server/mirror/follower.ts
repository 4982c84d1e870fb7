/**
 * The mirror's follower: fetches the source's checkpoint, tiles and entry
 * bundles; verifies the log signature, consistency with what it holds, every
 * leaf, the hash chain and the record rules; stores the copy in chunks, each
 * checked against the signed root by a consistency proof; and cosigns the
 * checkpoint once its whole tree is stored. It never cosigns past a fork.
 */
import { bytesEqual } from "../../client/bytes.js";
import { openCheckpoint, type SignedCheckpoint } from "../../client/checkpoint.js";
import type { VerifyItem, VerifyPool } from "../../cli/verify-pool.js";
import { LedgerError } from "../../client/errors.js";
import { evidenceOf, type EquivocationEvidence } from "../../client/evidence.js";
import { consistencyProofRanges, hashRanges } from "../../client/merkle-tree.js";
import { verifyConsistency } from "../../client/merkle-verify.js";
import type { NoteVerifier } from "../../client/note.js";
import { parseEntryBundle, tileNodeReader, tilePath, tileWidth, TILE_WIDTH } from "../../client/tiles.js";
import { MirrorError } from "./errors.js";
import { RuleError } from "../../client/errors.js";
import { EMPTY_ROOT } from "../../client/hash.js";
import { loadLog, type BatchRules } from "../log/sequence.js";
import type { LogBuilder } from "../../client/log-builder.js";
import { createRecordRules } from "../log/rules.js";
import { consistencyProof } from "../log/proofs.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { NamespaceState } from "../../client/replay.js";
import { newEntry, type NewEntry, type SequencerTx, type Store, type StoredCheckpoint, type StoredNode } from "../store/store.js";
import type { Cosigner } from "./cosigner.js";

/** Entries verified and committed together (64 full bundles). */
const CHUNK = 64n * BigInt(TILE_WIDTH);

/** Entries appended to a log and their records checked, their signatures set aside. */
export interface CheckedEntries {
  rows: NewEntry[];
  nodes: StoredNode[];
  /** The signatures the rules took as valid, for the verification threads. */
  deferred: VerifyItem[];
  /** The entry index of each deferred signature. */
  deferredAt: bigint[];
  /**
   * The chunk's rules: their forks of the namespace states (`states`) are what the next
   * chunk forks, and become the cached states (`committed`) once this chunk is stored.
   */
  rules: BatchRules & { states: Map<string, NamespaceState> };
}

/** A chunk parsed and checked, waiting for its signatures before it is stored. */
export interface Chunk extends Omit<CheckedEntries, "deferred"> {
  /** The checkpoint to cosign once stored, when the chunk reaches it. */
  cp: SignedCheckpoint | undefined;
  verification: Promise<boolean[]>;
  end: bigint;
  total: bigint;
}


export interface FollowerDeps {
  store: Store;
  source: string;
  origin: string;
  logVerifier: NoteVerifier;
  cosigner: Cosigner;
  namespaces: NamespaceCache;
  fetch?: typeof fetch;
  now?: () => Date;
  log: (line: string) => void;
  onProgress?: (done: bigint, total: bigint) => void;
  /** Where record signatures are verified (threads, or in process with size 0). */
  verifyPool: VerifyPool;
}

export class MirrorFollower {
  readonly #d: FollowerDeps;
  readonly #fetch: typeof fetch;
  #queue: Promise<unknown> = Promise.resolve();
  /** Set once the log is caught equivocating: nothing is cosigned after. */
  fork: EquivocationEvidence | undefined;
  /** Set when the log accepted a record the rules refuse. */
  fatal: string | undefined;

  constructor(d: FollowerDeps) {
    this.#d = d;
    this.#fetch = d.fetch ?? globalThis.fetch.bind(globalThis);
  }

  get failing(): string | undefined {
    if (this.fork) return "equivocation detected: see /v1/evidence; cosigning stopped";
    return this.fatal;
  }

  /** Resolves when no sync is running. */
  idle(): Promise<void> {
    return this.#queue.then(() => {});
  }

  /** Runs one sync at a time (the witness endpoint and the poll loop share it). */
  syncTo(note?: string): Promise<StoredCheckpoint> {
    const run = this.#queue.then(() => this.#syncTo(note));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #get(base: string, path: string): Promise<Response> {
    const url = `${base.replace(/\/$/, "")}/${path.replace(/^\//, "")}`;
    let res: Response;
    try {
      // A GET is idempotent: one more try on a connection error (a keep-alive connection the server had just closed).
      res = await this.#fetch(url).catch(() => this.#fetch(url));
    } catch (e) {
      throw new MirrorError("source_unreachable", `cannot reach ${base}`, { retryAfter: 5, cause: e });
    }
    if (!res.ok) throw new MirrorError("source_unreachable", `${base} answered ${res.status} for ${path}`, { retryAfter: 5 });
    return res;
  }

  #tiles(base: string, treeSize: bigint) {
    return tileNodeReader(treeSize, async (p) => new Uint8Array(await (await this.#get(base, p)).arrayBuffer()));
  }

  open(note: string): SignedCheckpoint {
    return openCheckpoint(note, { origin: this.#d.origin, logVerifier: this.#d.logVerifier });
  }

  async #syncTo(note?: string): Promise<StoredCheckpoint> {
    const { store } = this.#d;
    if (this.failing) throw new MirrorError(this.fork ? "equivocation" : "log_breaks_rules", this.failing, { retryAfter: 60 });
    const cp = this.open(note ?? (await (await this.#get(this.#d.source, "/checkpoint")).text()));
    const local = await store.latestCheckpoint();
    if (local && cp.treeSize <= local.treeSize) {
      await this.checkAgainstOwn(cp, this.#d.source);
      return local;
    }
    const tiles = this.#tiles(this.#d.source, cp.treeSize);
    if (local && local.treeSize > 0n) await this.#checkExtends(local, cp, tiles, this.#d.source);
    let size = await store.entryCount();
    if (size > cp.treeSize) {
      // Entries of an earlier, larger target survived a crash: this checkpoint must be a prefix of them.
      await this.checkAgainstOwn(cp, this.#d.source);
      return this.commit(cp, [], []);
    }
    // What we hold: entries of our checkpoint (whose root must match), and perhaps more an
    // interrupted catch-up left, which the first chunk's proof against `cp` checks.
    const log = await loadLog(store, size, size === (local?.treeSize ?? 0n) ? (local?.rootHash ?? EMPTY_ROOT) : undefined);
    let stored: StoredCheckpoint | undefined;
    // Signatures are verified on the pool's threads while the next chunk is parsed and checked
    // here; a chunk is stored only once all its signatures verified. The rules run with every
    // signature taken as valid first: if one is not, the log logged a record the rules refuse,
    // which stops the mirror whatever else that record changed.
    let inFlight: Chunk | undefined;
    try {
      const chunkEnd = (from: bigint) => (from - (from % BigInt(TILE_WIDTH)) + CHUNK < cp.treeSize ? from - (from % BigInt(TILE_WIDTH)) + CHUNK : cp.treeSize);
      // The next chunk's bundles are fetched while this one is checked.
      let fetching = size < cp.treeSize ? this.#fetchEntries(size, chunkEnd(size), cp.treeSize) : undefined;
      fetching?.catch(() => {});
      while (size < cp.treeSize) {
        const end = chunkEnd(size);
        const entries = await fetching!;
        fetching = end < cp.treeSize ? this.#fetchEntries(end, chunkEnd(end), cp.treeSize) : undefined;
        fetching?.catch(() => {}); // awaited on the next turn; a failure there is reported then
        const { deferred, ...checked } = await this.checkEntries(log, entries, inFlight?.rules.states);
        // This chunk's tree must be a prefix of the signed tree.
        if (end < cp.treeSize) {
          const proof = await hashRanges(consistencyProofRanges(end, cp.treeSize), tiles);
          verifyConsistency(end, cp.treeSize, proof, log.root(), cp.rootHash);
        } else if (!bytesEqual(log.root(), cp.rootHash)) {
          throw new MirrorError("source_invalid", `the source's entries do not give the root of its checkpoint ${cp.treeSize}`, { retryAfter: 5 });
        }
        // This chunk's signatures go to the threads now, queued behind the previous chunk's, so they
        // are verified while the previous chunk is stored.
        const verification = this.#d.verifyPool.verify(deferred);
        verification.catch(() => {}); // awaited in #finish
        if (inFlight) stored = await this.finish(inFlight);
        inFlight = { ...checked, cp: end === cp.treeSize ? cp : undefined, verification, end, total: cp.treeSize };
        size = end;
      }
      if (inFlight) stored = await this.finish(inFlight);
    } catch (e) {
      this.#d.namespaces.clear();
      if (e instanceof MirrorError) throw e;
      if (this.fatal) throw new MirrorError("log_breaks_rules", this.fatal, { retryAfter: 60, cause: e });
      if (e instanceof LedgerError) throw new MirrorError("source_invalid", `source served data that does not verify: ${e.message}`, { retryAfter: 5, cause: e });
      throw e;
    }
    return stored ?? (await this.commit(cp, [], []));
  }

  /**
   * Appends `entries` to `log` — each the next index, linked to the previous leaf (LedgerError
   * otherwise) — and checks each record's rules, its signatures set aside for the verification
   * threads. A record the rules refuse stops the mirror (`fatal` set, the RuleError thrown).
   * `pending`: the states of a checked chunk not stored yet, which these records fork; without,
   * the namespace cache is first brought to the log's size (only our own chunks write the store).
   */
  async checkEntries(log: LogBuilder, entries: Uint8Array[], pending?: Map<string, NamespaceState>): Promise<CheckedEntries> {
    const store = this.#d.store as unknown as SequencerTx;
    const deferred: VerifyItem[] = [];
    const deferredAt: bigint[] = [];
    let at = log.size;
    const rules = createRecordRules(this.#d.namespaces, { verify: (p, m, sig) => (deferred.push([p, m, sig]), deferredAt.push(at), true), pending })();
    if (!pending) await rules.begin(log.size, store);
    const rows: NewEntry[] = [];
    const nodes: StoredNode[] = [];
    for (const bytes of entries) {
      at = log.size;
      // The shared core: canonical entry, next index, linked to the previous leaf (PolicyError otherwise).
      const { entry, leafHash } = log.appendBytes(bytes, (id, hash) => nodes.push({ ...id, hash }));
      await rules.check(store, entry.record, entry.index).catch((e) => {
        if (e instanceof RuleError) this.fatal = `the log holds a record the rules refuse at index ${entry.index}: ${e.code}: ${e.message}`;
        throw e;
      });
      rows.push(newEntry(entry.index, leafHash, bytes, entry.record));
    }
    return { rows, nodes, deferred, deferredAt, rules };
  }

  /** Waits for a chunk's signatures; stores it if all verified, else stops the mirror. */
  async finish(c: Chunk): Promise<StoredCheckpoint> {
    const results = await c.verification;
    const bad = results.indexOf(false);
    if (bad >= 0) {
      const index = c.deferredAt[bad];
      this.fatal = `the log holds a record the rules refuse at index ${index}: bad_signature: a signature does not verify`;
      throw new MirrorError("log_breaks_rules", this.fatal, { retryAfter: 60 });
    }
    const stored = await this.commit(c.cp, c.rows, c.nodes);
    c.rules.committed(c.end); // stored: the chunk's namespace states become the cached ones
    this.#d.onProgress?.(c.end, c.total);
    return stored;
  }

  async #fetchEntries(start: bigint, end: bigint, treeSize: bigint): Promise<Uint8Array[]> {
    const first = start / BigInt(TILE_WIDTH);
    const last = (end - 1n) / BigInt(TILE_WIDTH);
    const bundles = await Promise.all(
      Array.from({ length: Number(last - first + 1n) }, async (_, i) => {
        const t = first + BigInt(i);
        const w = tileWidth(0, t, treeSize);
        const b = parseEntryBundle(new Uint8Array(await (await this.#get(this.#d.source, tilePath("entries", t, w))).arrayBuffer()));
        if (b.length !== w) throw new MirrorError("source_invalid", `bundle ${t} has ${b.length} entries, want ${w}`, { retryAfter: 5 });
        return b;
      }),
    );
    const all = bundles.flat();
    const offset = Number(start - first * BigInt(TILE_WIDTH));
    return all.slice(offset, offset + Number(end - start));
  }

  /**
   * The mirror's commit: a verified chunk's entries and nodes and, when the
   * chunk reaches the checkpoint, the cosigned checkpoint, in ONE transaction.
   * The comment at each write says what a crash right there leaves behind.
   */
  async commit(cp: SignedCheckpoint | undefined, rows: NewEntry[], nodes: StoredNode[]): Promise<StoredCheckpoint> {
    return this.#d.store.sequence(async (tx) => {
      // One writer at a time. Nothing written yet: a crash here leaves the copy as it was.
      await tx.lock();
      // Writes below are uncommitted until this function returns: a crash at any of them
      // rolls the chunk back, and the next sync fetches it again.
      await tx.insertEntries(rows);
      await tx.insertNodes(nodes);
      if (!cp) return (await tx.latestCheckpoint())!; // committed entries past our checkpoint: the next chunk's proof checks them
      const existing = await tx.latestCheckpoint();
      if (existing && existing.treeSize >= cp.treeSize) return existing;
      // Invariant, as in commitBatch: the stored nodes must give the root we are about to cosign.
      await loadLog(tx, cp.treeSize, cp.rootHash);
      const stored = { treeSize: cp.treeSize, rootHash: cp.rootHash, note: cp.raw + this.#d.cosigner.cosign(cp.raw, this.#d.now?.()) };
      // The cosignature exists only in memory until COMMIT: if COMMIT fails it was never served.
      await tx.insertCheckpoint(stored);
      this.#d.log(`mirror: verified and cosigned ${this.#d.origin} at size ${cp.treeSize}`);
      return stored;
    });
    // After COMMIT returns, the chunk (and the cosigned checkpoint) are durable.
  }

  /**
   * Checks a checkpoint against the entries we hold: a different root at its
   * size is equivocation, recorded as evidence with our own signed note.
   */
  async checkAgainstOwn(cp: SignedCheckpoint, peer: string): Promise<void> {
    const { store } = this.#d;
    const local = await store.latestCheckpoint();
    if (!local || cp.treeSize === 0n) return;
    const [ours] = cp.treeSize === local.treeSize ? [local.rootHash] : await hashRanges([[0n, cp.treeSize]], (ids) => store.readNodes(ids));
    if (bytesEqual(ours!, cp.rootHash)) return;
    if (cp.treeSize > local.treeSize) {
      // Only unsigned leftovers of an interrupted catch-up cover this size: no signed note of ours to show.
      throw new MirrorError("unsigned_leftovers", `checkpoint ${cp.treeSize} disagrees with entries stored beyond our checkpoint ${local.treeSize}`, { retryAfter: 5 });
    }
    const proof = local.treeSize > cp.treeSize ? await consistencyProof(store, cp.treeSize, local.treeSize) : [];
    await this.recordFork(evidenceOf(cp.raw, local.note, proof, local.treeSize > cp.treeSize ? ours : undefined), peer);
  }

  /** Checks that `cp` (larger) extends `local`, using the larger tree's tiles. */
  async #checkExtends(local: StoredCheckpoint, cp: SignedCheckpoint, tiles: ReturnType<typeof tileNodeReader>, peer: string): Promise<void> {
    const [alt] = await hashRanges([[0n, local.treeSize]], tiles);
    const proof = await hashRanges(consistencyProofRanges(local.treeSize, cp.treeSize), tiles);
    try {
      verifyConsistency(local.treeSize, cp.treeSize, proof, alt!, cp.rootHash);
    } catch (e) {
      if (e instanceof LedgerError) throw new MirrorError("source_invalid", `${peer} served tiles that do not match its own checkpoint`, { retryAfter: 5, cause: e });
      throw e;
    }
    if (!bytesEqual(alt!, local.rootHash)) await this.recordFork(evidenceOf(local.note, cp.raw, proof, alt), peer);
  }

  /** Cross-checks a peer's checkpoint for the same origin (another mirror, or the source). */
  async crossCheck(peer: string): Promise<void> {
    const local = await this.#d.store.latestCheckpoint();
    if (!local || this.fork) return;
    const theirs = this.open(await (await this.#get(peer, "/checkpoint")).text());
    if (theirs.treeSize <= local.treeSize) await this.checkAgainstOwn(theirs, peer);
    else if (local.treeSize > 0n) await this.#checkExtends(local, theirs, this.#tiles(peer, theirs.treeSize), peer);
  }

  async recordFork(e: EquivocationEvidence, peer: string): Promise<never> {
    await this.#d.store.addEvidence(peer, JSON.stringify(e));
    this.fork = e;
    this.#d.log(`mirror: EQUIVOCATION by ${this.#d.origin} detected via ${peer}: two signed checkpoints that cannot both be honest; evidence stored and served at /v1/evidence; cosigning stopped`);
    throw new MirrorError("equivocation", `equivocation detected via ${peer}`, { retryAfter: 60 });
  }
}
