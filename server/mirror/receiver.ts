/**
 * C2SP tlog-mirror, the mirror side of the push protocol (`ledger mirror --push`).
 *
 * `add-checkpoint` moves the pending checkpoint (a witness's checks, no
 * cosignature); `add-entries` streams entry packages, each authenticated by a
 * subtree consistency proof against a pending checkpoint, then verified as in
 * pull mode (the hash chain, every record's rules and signatures) and committed
 * in its own transaction; once every entry up to `upload_end` is held, the
 * mirror checkpoint moves there and is cosigned. Parsing a body runs outside
 * the commit queue, so a client that stalls mid-stream holds no lock.
 */
import { evidenceOf } from "../../client/evidence.js";
import { LedgerError, RuleError } from "../../client/errors.js";
import { hashLeaf } from "../../client/hash.js";
import { nodeKey, rootFromLeafHashes, type NodeId } from "../../client/merkle-tree.js";
import { verifySubtreeConsistency } from "../../client/merkle-verify.js";
import { canonicalPackages, formatMirrorInfo, readAddEntriesHeader, readEntryPackage, type ByteReader, type PackageSpan } from "../../client/tlog-mirror.js";
import type { VerifyPool } from "../../cli/verify-pool.js";
import { loadLog } from "../log/sequence.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { Store, StoredCheckpoint } from "../store/store.js";
import { MirrorError } from "./errors.js";
import { refuseAddCheckpoint, signatureLinesBy } from "./witness-checks.js";
import type { MirrorFollower } from "./follower.js";

/** How many recent pending checkpoints stay valid as `upload_end` (the spec: "the last several"). */
export const PENDING_KEPT = 16;
/** Entries a request may re-send below the mirror's next entry before it is refused with 409. */
export const MAX_EXCESS_ENTRIES = 8192n;

export interface PushAnswer {
  status: 200 | 202 | 400 | 403 | 404 | 409 | 422 | 503;
  body: string;
  type: string;
}

const TEXT = "text/plain; charset=utf-8";
const answer = (status: PushAnswer["status"], body: string, type = TEXT): PushAnswer => ({ status, body, type });

/** A package that does not authenticate: 422, processing ends. */
class Unauthenticated extends Error {}

export interface ReceiverDeps {
  store: Store;
  follower: MirrorFollower;
  namespaces: NamespaceCache;
  verifyPool: VerifyPool;
  origin: string;
  cosignerName: string;
  log: (line: string) => void;
}

interface MirrorState {
  /** The mirror checkpoint (cosigned), if any. */
  mirror: StoredCheckpoint | undefined;
  /** Recent pending checkpoints at or past the mirror checkpoint, largest first. */
  pending: StoredCheckpoint[];
  next: bigint;
}

export class MirrorReceiver {
  readonly #d: ReceiverDeps;
  /** Commits (pending checkpoints, packages, the mirror checkpoint) run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(d: ReceiverDeps) {
    this.#d = d;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Resolves when no commit is running. */
  idle(): Promise<void> {
    return this.#queue.then(() => {});
  }

  async #state(): Promise<MirrorState> {
    const { store } = this.#d;
    const [mirror, pending, next] = await Promise.all([store.latestCheckpoint(), store.pendingCheckpoints(PENDING_KEPT), store.entryCount()]);
    return { mirror, pending: pending.filter((p) => !mirror || p.treeSize >= mirror.treeSize), next };
  }

  /** The current pending checkpoint: the newest pending one, or the mirror checkpoint. */
  static current(s: MirrorState): StoredCheckpoint | undefined {
    return s.pending[0] ?? s.mirror;
  }

  /**
   * tlog-witness add-checkpoint on the pending checkpoint. `old`, `proof` and
   * the note were parsed, the origin and the log's signature checked.
   */
  addCheckpoint(old: bigint, proof: Uint8Array[], note: string, size: bigint, root: Uint8Array): Promise<PushAnswer> {
    return this.#serial(async () => {
      if (this.#d.follower.failing) return answer(503, `not mirroring: ${this.#d.follower.failing}\n`);
      const current = MirrorReceiver.current(await this.#state());
      const refusal = refuseAddCheckpoint(old, proof, size, root, current);
      if (refusal?.sameSizeOtherRoot) {
        // Two log-signed checkpoints of one size with different roots: self-contained evidence.
        await this.#d.follower.recordFork(evidenceOf(current!.note, note, []), "add-checkpoint").catch(() => {});
        return answer(422, "same size, different root: equivocation recorded\n");
      }
      if (refusal) return answer(refusal.status, refusal.body, refusal.type);
      if (old === size && current) return answer(200, ""); // already pending
      await this.#d.store.addPendingCheckpoint({ treeSize: size, rootHash: root, note });
      return answer(200, "");
    });
  }

  /** tlog-mirror add-entries over a (decompressed) request body. */
  async addEntries(body: ByteReader): Promise<PushAnswer> {
    const { follower } = this.#d;
    if (follower.failing) return answer(503, `not mirroring: ${follower.failing}\n`);
    let header;
    try {
      header = await readAddEntriesHeader(body);
    } catch (e) {
      if (e instanceof LedgerError) return answer(400, `malformed request: ${e.message}\n`);
      throw e;
    }
    if (!header) return answer(400, "the body ends inside the request header\n");
    if (header.origin !== this.#d.origin) return answer(404, "unknown origin\n");
    const { uploadStart, uploadEnd } = header;
    const s = await this.#state();
    const info = (treeSize: bigint, next: bigint) => answer(409, formatMirrorInfo({ treeSize, nextEntry: next, ticket: new Uint8Array(0) }), "text/x.tlog.mirror-info");
    if (!s.mirror && s.pending.length === 0) return answer(422, "no pending checkpoint from the log yet: add-checkpoint first\n");
    const target = s.mirror?.treeSize === uploadEnd ? s.mirror : s.pending.find((p) => p.treeSize === uploadEnd);
    if (!target) return info(MirrorReceiver.current(s)!.treeSize, s.next);
    if (uploadStart > s.next) return info(uploadEnd, s.next);
    if ((uploadEnd < s.next ? uploadEnd : s.next) - uploadStart > MAX_EXCESS_ENTRIES) return info(uploadEnd, s.next);

    const packages = canonicalPackages(uploadStart, uploadEnd);
    let saved = 0;
    for (const span of packages) {
      let pkg;
      try {
        pkg = await readEntryPackage(body, Number(span.end - span.start));
      } catch (e) {
        if (e instanceof LedgerError) return answer(422, `package [${span.start}, ${span.end}): ${e.message}\n`);
        throw e;
      }
      if (!pkg) {
        // The body ended mid-package: its bytes are dropped, the packages before it stay.
        if (saved === 0) return answer(400, `the body ends inside the package for [${span.start}, ${span.end})\n`);
        return this.#accepted(uploadEnd);
      }
      try {
        await this.#serial(() => this.#commitPackage(span, pkg.entries, pkg.proof, target, uploadEnd));
      } catch (e) {
        if (e instanceof Unauthenticated) return answer(422, `${e.message}\n`);
        if (e instanceof MirrorError) return answer(e.code === "log_breaks_rules" ? 422 : 503, `not mirrored: ${e.message}\n`);
        throw e;
      }
      saved++;
    }
    if (await body.peek()) return answer(400, "bytes after the last package of the canonical sequence\n");
    return this.#serial(async () => {
      const now = await this.#state();
      if (now.next < uploadEnd) return info(uploadEnd, now.next);
      if (now.mirror && now.mirror.treeSize > uploadEnd) return info(now.mirror.treeSize, now.next);
      let stored = now.mirror;
      if (!stored || stored.treeSize < uploadEnd) {
        if (follower.failing) return answer(503, `not mirroring: ${follower.failing}\n`);
        // The stored nodes must give the pending checkpoint's root (commit checks it before cosigning).
        stored = await follower.commit(follower.open(target.note), [], []);
      }
      return answer(200, signatureLinesBy(stored.note, this.#d.cosignerName));
    });
  }

  async #accepted(uploadEnd: bigint): Promise<PushAnswer> {
    const next = await this.#d.store.entryCount();
    return answer(202, formatMirrorInfo({ treeSize: uploadEnd, nextEntry: next, ticket: new Uint8Array(0) }), "text/x.tlog.mirror-info");
  }

  /**
   * Authenticates one package against `target` and stores the entries not yet
   * held, after the same checks as pull mode. Runs in the commit queue.
   */
  async #commitPackage(span: PackageSpan, entries: Uint8Array[], proof: Uint8Array[], target: StoredCheckpoint, uploadEnd: bigint): Promise<void> {
    const { store, follower, namespaces } = this.#d;
    const next = await store.entryCount();
    if (next < span.start) throw new Unauthenticated(`entries before ${span.start} are missing (next entry ${next})`);
    // The subtree [subtreeStart, end): stored leaves before the upload's start, then the received ones.
    const held: NodeId[] = [];
    for (let i = span.subtreeStart; i < span.start; i++) held.push({ level: 0, index: i });
    const got = held.length > 0 ? await store.readNodes(held) : new Map<string, Uint8Array>();
    const leaves = [...held.map((id) => got.get(nodeKey(id))!), ...entries.map(hashLeaf)];
    try {
      verifySubtreeConsistency(span.subtreeStart, span.end, target.treeSize, proof, rootFromLeafHashes(leaves), target.rootHash);
    } catch (e) {
      if (e instanceof LedgerError) throw new Unauthenticated(`package [${span.start}, ${span.end}) does not verify against checkpoint ${target.treeSize}: ${e.message}`);
      throw e;
    }
    if (next >= span.end) return; // held already (another upload, or a retry): nothing to save
    if (follower.failing) throw new MirrorError(follower.fork ? "equivocation" : "log_breaks_rules", follower.failing, { retryAfter: 60 });
    const log = await loadLog(store, next, undefined);
    try {
      let checked;
      try {
        checked = await follower.checkEntries(log, entries.slice(Number(next - span.start)));
      } catch (e) {
        // The package is the log's (its proof verified): an entry that does not fit is the log's fault.
        if (e instanceof LedgerError && !(e instanceof RuleError)) follower.fatal = `the log holds a record the rules refuse at index ${log.size}: ${e.code}: ${e.message}`;
        if (follower.fatal) throw new MirrorError("log_breaks_rules", follower.fatal, { retryAfter: 60, cause: e });
        throw e;
      }
      const { deferred, ...rest } = checked;
      await follower.finish({ ...rest, cp: undefined, verification: this.#d.verifyPool.verify(deferred), end: span.end, total: uploadEnd });
    } catch (e) {
      namespaces.clear();
      throw e;
    }
  }
}
