/**
 * The mirror's follower: fetches the source's checkpoint, tiles and entry
 * bundles; verifies the log signature, consistency with what it holds, every
 * leaf, the hash chain and the record rules; stores the copy in chunks, each
 * checked against the signed root by a consistency proof; and cosigns the
 * checkpoint once its whole tree is stored. It never cosigns past a fork.
 */
import { bytesEqual } from "../../client/bytes.js";
import { openCheckpoint, type SignedCheckpoint } from "../../client/checkpoint.js";
import { entryLeafHash, parseEntry, recordHash, ZERO_HASH } from "../../client/entry.js";
import type { VerifyItem, VerifyPool } from "../log/verify-pool.js";
import { LedgerError } from "../../client/errors.js";
import { evidenceOf, type EquivocationEvidence } from "../../client/evidence.js";
import { CompactRange, consistencyProofRanges, hashRanges, nodeKey, rangeNodes } from "../../client/merkle-tree.js";
import { verifyConsistency } from "../../client/merkle-verify.js";
import type { NoteVerifier } from "../../client/note.js";
import { parseEntryBundle, tileNodeReader, tilePath, tileWidth, TILE_WIDTH } from "../../client/tiles.js";
import { ApiError } from "../errors.js";
import { createRecordRules } from "../log/rules.js";
import { consistencyProof } from "../log/proofs.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { NamespaceState } from "../../client/replay.js";
import type { NewEntry, SequencerTx, Store, StoredCheckpoint, StoredNode } from "../store/store.js";
import type { Cosigner } from "./cosigner.js";

/** Entries verified and committed together (64 full bundles). */
const CHUNK = 64n * BigInt(TILE_WIDTH);

/** A chunk parsed and checked, waiting for its signatures before it is stored. */
interface Chunk {
  cp: SignedCheckpoint | undefined;
  rows: NewEntry[];
  nodes: StoredNode[];
  verification: Promise<boolean[]>;
  /** The entry index of each deferred signature. */
  deferredAt: bigint[];
  end: bigint;
  total: bigint;
  /** The namespace states this chunk changed (kept referenced until it is stored). */
  states: Map<string, NamespaceState>;
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
    const res = await this.#fetch(`${base.replace(/\/$/, "")}/${path.replace(/^\//, "")}`);
    if (!res.ok) throw new ApiError("store_unavailable", `source answered ${res.status} for ${path}`, { retryAfter: 5 });
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
    if (this.failing) throw new ApiError("not_signing", this.failing, { retryAfter: 60 });
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
      return this.#store(cp, [], []);
    }
    const ids = rangeNodes(0n, size);
    const got = await store.readNodes(size > 0n ? [...ids, { level: 0, index: size - 1n }] : ids);
    const range = new CompactRange(size, ids.map((id) => got.get(nodeKey(id))!));
    let prev = size > 0n ? got.get(`0/${size - 1n}`)! : ZERO_HASH;
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
        const deferred: VerifyItem[] = [];
        const deferredAt: bigint[] = [];
        let at = 0n;
        const rules = createRecordRules(this.#d.namespaces, { verify: (p, m, sig) => (deferred.push([p, m, sig]), deferredAt.push(at), true), pending: inFlight?.states })();
        await rules.begin(size, store as unknown as SequencerTx);
        const entries = await fetching!;
        fetching = end < cp.treeSize ? this.#fetchEntries(end, chunkEnd(end), cp.treeSize) : undefined;
        fetching?.catch(() => {}); // awaited on the next turn; a failure there is reported then
        const rows: NewEntry[] = [];
        const nodes: StoredNode[] = [];
        for (const [i, bytes] of entries.entries()) {
          const index = size + BigInt(i);
          at = index;
          const leafHash = entryLeafHash(bytes);
          const entry = parseEntry(bytes);
          if (entry.index !== index) throw new ApiError("invalid_record", `source entry at ${index} says index ${entry.index}`);
          if (!bytesEqual(entry.prev, prev)) throw new ApiError("invalid_record", `source entry ${index} breaks the hash chain`);
          await rules.check(store as unknown as SequencerTx, entry.record, index).catch((e) => {
            if (e instanceof ApiError) this.fatal = `the log holds a record the rules refuse at index ${index}: ${e.code}: ${e.message}`;
            throw e;
          });
          range.append(leafHash, (id, hash) => nodes.push({ ...id, hash }));
          rows.push({ index, leafHash, entry: bytes, recordHash: recordHash(entry.record), type: entry.record.type, namespace: entry.record.namespace });
          prev = leafHash;
        }
        // This chunk's tree must be a prefix of the signed tree.
        if (end < cp.treeSize) {
          const proof = await hashRanges(consistencyProofRanges(end, cp.treeSize), tiles);
          verifyConsistency(end, cp.treeSize, proof, range.root(), cp.rootHash);
        } else if (!bytesEqual(range.root(), cp.rootHash)) {
          throw new ApiError("invalid_record", `the source's entries do not give the root of its checkpoint ${cp.treeSize}`);
        }
        // The namespace states now include this chunk; if it is not stored after all, they are dropped.
        rules.committed(end);
        if (inFlight) stored = await this.#finish(inFlight);
        inFlight = { cp: end === cp.treeSize ? cp : undefined, rows, nodes, verification: this.#d.verifyPool.verify(deferred), deferredAt, end, total: cp.treeSize, states: rules.states };
        size = end;
      }
      if (inFlight) stored = await this.#finish(inFlight);
    } catch (e) {
      this.#d.namespaces.clear();
      if (e instanceof LedgerError && !this.fatal) throw new ApiError("store_unavailable", `source served data that does not verify: ${e.message}`, { retryAfter: 5 });
      throw e;
    }
    return stored ?? (await this.#store(cp, [], []));
  }

  /** Waits for a chunk's signatures; stores it if all verified, else stops the mirror. */
  async #finish(c: Chunk): Promise<StoredCheckpoint> {
    const results = await c.verification;
    const bad = results.indexOf(false);
    if (bad >= 0) {
      const index = c.deferredAt[bad];
      this.fatal = `the log holds a record the rules refuse at index ${index}: bad_signature: a signature does not verify`;
      throw new ApiError("bad_signature", this.fatal);
    }
    const stored = await this.#store(c.cp, c.rows, c.nodes);
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
        if (b.length !== w) throw new ApiError("store_unavailable", `bundle ${t} has ${b.length} entries, want ${w}`);
        return b;
      }),
    );
    const all = bundles.flat();
    const offset = Number(start - first * BigInt(TILE_WIDTH));
    return all.slice(offset, offset + Number(end - start));
  }

  /** Commits entries and nodes, and the cosigned checkpoint when given, in one transaction. */
  async #store(cp: SignedCheckpoint | undefined, rows: NewEntry[], nodes: StoredNode[]): Promise<StoredCheckpoint> {
    return this.#d.store.sequence(async (tx) => {
      await tx.lock();
      await tx.insertEntries(rows);
      await tx.insertNodes(nodes);
      if (!cp) return (await tx.latestCheckpoint())!;
      const existing = await tx.latestCheckpoint();
      if (existing && existing.treeSize >= cp.treeSize) return existing;
      const stored = { treeSize: cp.treeSize, rootHash: cp.rootHash, note: cp.raw + this.#d.cosigner.cosign(cp.raw, this.#d.now?.()) };
      await tx.insertCheckpoint(stored);
      this.#d.log(`mirror: verified and cosigned ${this.#d.origin} at size ${cp.treeSize}`);
      return stored;
    });
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
      throw new ApiError("store_unavailable", `checkpoint ${cp.treeSize} disagrees with entries stored beyond our checkpoint ${local.treeSize}`, { retryAfter: 5 });
    }
    const proof = local.treeSize > cp.treeSize ? await consistencyProof(store, cp.treeSize, local.treeSize) : [];
    await this.#recordFork(evidenceOf(cp.raw, local.note, proof, local.treeSize > cp.treeSize ? ours : undefined), peer);
  }

  /** Checks that `cp` (larger) extends `local`, using the larger tree's tiles. */
  async #checkExtends(local: StoredCheckpoint, cp: SignedCheckpoint, tiles: ReturnType<typeof tileNodeReader>, peer: string): Promise<void> {
    const [alt] = await hashRanges([[0n, local.treeSize]], tiles);
    const proof = await hashRanges(consistencyProofRanges(local.treeSize, cp.treeSize), tiles);
    try {
      verifyConsistency(local.treeSize, cp.treeSize, proof, alt!, cp.rootHash);
    } catch (e) {
      if (e instanceof LedgerError) throw new ApiError("store_unavailable", `${peer} served tiles that do not match its own checkpoint`, { retryAfter: 5 });
      throw e;
    }
    if (!bytesEqual(alt!, local.rootHash)) await this.#recordFork(evidenceOf(local.note, cp.raw, proof, alt), peer);
  }

  /** Cross-checks a peer's checkpoint for the same origin (another mirror, or the source). */
  async crossCheck(peer: string): Promise<void> {
    const local = await this.#d.store.latestCheckpoint();
    if (!local || this.fork) return;
    const theirs = this.open(await (await this.#get(peer, "/checkpoint")).text());
    if (theirs.treeSize <= local.treeSize) await this.checkAgainstOwn(theirs, peer);
    else if (local.treeSize > 0n) await this.#checkExtends(local, theirs, this.#tiles(peer, theirs.treeSize), peer);
  }

  async #recordFork(e: EquivocationEvidence, peer: string): Promise<never> {
    await this.#d.store.addEvidence(peer, JSON.stringify(e));
    this.fork = e;
    this.#d.log(`mirror: EQUIVOCATION by ${this.#d.origin} detected via ${peer}: two signed checkpoints that cannot both be honest; evidence stored and served at /v1/evidence; cosigning stopped`);
    throw new ApiError("not_signing", `equivocation detected via ${peer}`, { retryAfter: 60 });
  }
}
