/**
 * C2SP tlog-tiles read API, served from stored nodes and entries: no tree
 * recomputation per request. Full hash tiles come from the node cache
 * (shared with proofs); full entry bundles are kept in a byte LRU of their
 * own. Both never change. A partial tile is served only at a width some
 * checkpoint justified.
 */
import { Hono } from "hono";
import { FormatError } from "../../client/errors.js";
import { encodeEntryBundle, parseTileIndex, TILE_HEIGHT, TILE_WIDTH } from "../../client/tiles.js";
import { ApiError } from "../errors.js";
import type { Store } from "../store/store.js";
import type { HeadCache } from "../state/head.js";
import type { NodeCache } from "../state/node-cache.js";

const IMMUTABLE = "public, max-age=31536000, immutable";

class ByteLru {
  #map = new Map<string, Uint8Array>();
  #bytes = 0;
  constructor(readonly maxBytes: number) {}
  get(k: string): Uint8Array | undefined {
    const v = this.#map.get(k);
    if (v) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }
  set(k: string, v: Uint8Array): void {
    this.#map.set(k, v);
    this.#bytes += v.length;
    while (this.#bytes > this.maxBytes) {
      const [oldK, oldV] = this.#map.entries().next().value!;
      this.#map.delete(oldK);
      this.#bytes -= oldV.length;
    }
  }
}

/** untrusted: `<N>` or `<N>.p/<W>`. */
function parseTileRest(rest: string): { n: bigint; width: number } {
  const m = /^(.+?)(?:\.p\/(\d{1,3}))?$/.exec(rest);
  try {
    if (!m) throw new Error();
    const n = parseTileIndex(m[1]!);
    const width = m[2] === undefined ? TILE_WIDTH : Number(m[2]);
    if (m[2] !== undefined && (!/^[1-9]\d*$/.test(m[2]) || width < 1 || width > 255)) throw new Error();
    return { n, width };
  } catch (e) {
    if (e instanceof FormatError || e instanceof Error) throw new ApiError("not_found", `no tile ${rest}`);
    throw e;
  }
}

export function tileRoutes(deps: { store: Store; head: HeadCache; cacheBytes?: number; nodeCache?: NodeCache }): Hono {
  const { store } = deps;
  const cache = new ByteLru(deps.cacheBytes ?? 64 << 20); // full entry bundles
  const app = new Hono();

  /** Checks the tile (level, n, width) exists under the latest checkpoint and a checkpoint justifies it. */
  async function check(level: number, n: bigint, width: number): Promise<void> {
    const cp = await deps.head.get();
    const perNode = 1n << BigInt(TILE_HEIGHT * level);
    const end = (n * BigInt(TILE_WIDTH) + BigInt(width)) * perNode; // leaves covered up to this tile width
    if (!cp || cp.treeSize < end) throw new ApiError("not_found", "tile beyond the tree");
    if (width < TILE_WIDTH && !(await store.hasCheckpointIn(end, end + perNode))) {
      throw new ApiError("not_found", "no checkpoint has this partial tile width");
    }
  }

  app.get("/tile/*", async function tile(c) {
    const rest = c.req.path.slice(c.req.path.indexOf("/tile/") + "/tile/".length); // also mounted under a mirror's /<origin hash>
    const slash = rest.indexOf("/");
    const head = rest.slice(0, slash);
    const { n, width } = parseTileRest(rest.slice(slash + 1));
    const key = rest;
    let body = width === TILE_WIDTH ? cache.get(key) : undefined;
    if (!body) {
      if (head === "entries") {
        await check(0, n, width);
        const entries = await store.getEntries(n * BigInt(TILE_WIDTH), width);
        if (entries.length !== width) throw new ApiError("not_found", "entries missing");
        body = encodeEntryBundle(entries.map((e) => e.entry));
      } else {
        if (!/^(0|[1-9]\d?)$/.test(head) || Number(head) > 63) throw new ApiError("not_found", `no tile ${rest}`);
        const level = Number(head);
        await check(level, n, width);
        // Full hash tiles come from the node cache (which proofs share); partial ones from the store.
        const full = width === TILE_WIDTH ? await deps.nodeCache?.fullTile(level, n) : undefined;
        if (full) {
          body = full;
        } else {
          const hashes = await store.readNodeRange(level * TILE_HEIGHT, n * BigInt(TILE_WIDTH), width);
          body = new Uint8Array(width * 32);
          hashes.forEach((h, i) => body!.set(h, i * 32));
        }
      }
      if (width === TILE_WIDTH && head === "entries") cache.set(key, body);
    }
    return c.body(body as Uint8Array<ArrayBuffer>, 200, { "Content-Type": "application/octet-stream", "Cache-Control": IMMUTABLE });
  });
  return app;
}
