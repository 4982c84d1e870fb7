/**
 * fsync for the embedded database. PGlite runs PostgreSQL on Emscripten's
 * NODEFS, whose files have no fsync: PostgreSQL's own fsync calls return
 * success without syncing, so a commit reaches the kernel (it survives the
 * process being killed) but not the disk (an OS crash or power loss could
 * lose it). After each commit that acknowledges entries (a sequencer batch, a
 * mirror chunk) the store syncs what PostgreSQL itself would have synced at
 * COMMIT — the WAL it wrote, and pg_wal when its files changed — before the
 * commit is reported. When WAL segments were removed or recycled since the
 * last sync (a checkpoint wrote data pages, then dropped the WAL covering
 * them), every file of the data directory is synced as well.
 */
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";

const SEGMENT = /^[0-9A-F]{24}$/;

async function syncFile(path: string, directory = false): Promise<void> {
  const fh = await open(path, "r");
  try {
    if (directory) await fh.sync();
    else await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function syncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await syncTree(p);
    else if (e.isFile()) await syncFile(p);
  }
  await syncFile(dir, true);
}

export class PgliteSync {
  readonly #dataDir: string;
  #segments: Set<string> | undefined;
  #queue: Promise<void> = Promise.resolve();
  /** Syncs done, and full data-directory syncs among them (for tests and metrics). */
  readonly counts = { syncs: 0, full: 0 };

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** Makes everything committed so far durable on disk. One at a time; a failure rejects (the caller must not acknowledge). */
  sync(): Promise<void> {
    const run = this.#queue.then(() => this.#sync());
    this.#queue = run.catch(() => {});
    return run;
  }

  async #sync(): Promise<void> {
    const wal = join(this.#dataDir, "pg_wal");
    const now = new Set((await readdir(wal)).filter((n) => SEGMENT.test(n)));
    const before = this.#segments;
    const dropped = before !== undefined && [...before].some((n) => !now.has(n));
    if (before === undefined || dropped) {
      // First sync of this process (what an earlier one wrote may not be on disk), or a checkpoint dropped WAL: everything.
      await syncTree(this.#dataDir);
      this.counts.full++;
    } else {
      // The newest segments hold this commit (two: it may have crossed into a new one); pg_wal's entries when they changed.
      const newest = [...now].sort().slice(-2);
      for (const n of newest) await syncFile(join(wal, n));
      if ([...now].some((n) => !before.has(n))) await syncFile(wal, true);
    }
    this.#segments = now;
    this.counts.syncs++;
  }
}
