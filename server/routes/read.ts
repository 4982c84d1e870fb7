/** The public read API: checkpoint, log info, entries and proofs. */
import { Hono } from "hono";
import { encodeBase64 } from "../../client/bytes.js";
import { ApiError } from "../errors.js";
import { consistencyProof, inclusionProofAndLeaf } from "../log/proofs.js";
import type { HeadCache } from "../state/head.js";
import type { Store, StoreReader, StoredCheckpoint } from "../store/store.js";
import { decimalParam, hashParam, optionalDecimalParam } from "./params.js";
// Answers are typed by the wire schemas (schema/api.ts): a field that drifts does not compile.
import type { ConsistencyProofJson, EntriesJson, EntryJson, InclusionProofJson, LogInfo } from "../../schema/api.js";

export interface ReadDeps {
  store: Store;
  head: HeadCache;
  origin: string;
  verifierKey: string;
  servedCheckpoint?: () => Promise<string | undefined>;
  witnesses?: { quorum: number; vkeys: string[]; policy?: string };
  /** Where proofs read tree nodes (the node cache; default the store). */
  nodes?: Pick<StoreReader, "readNodes">;
}

export const MAX_ENTRIES_PER_PAGE = 1000;

export async function latest(head: HeadCache): Promise<StoredCheckpoint> {
  const c = await head.get();
  if (!c) throw new ApiError("no_checkpoint", "the log has no checkpoint yet", { retryAfter: 1 });
  return c;
}

export function entryJson(e: { index: bigint; entry: Uint8Array; leafHash: Uint8Array }): EntryJson {
  return { index: e.index.toString(), entry: encodeBase64(e.entry), leafHash: encodeBase64(e.leafHash) };
}

export function readRoutes(deps: ReadDeps): Hono {
  const { store } = deps;
  const nodes = deps.nodes ?? store;
  const app = new Hono();

  app.get("/checkpoint", async (c) => {
    const note = (await deps.servedCheckpoint?.()) ?? (await latest(deps.head)).note;
    c.header("Cache-Control", "public, max-age=2");
    return c.body(note, 200, { "Content-Type": "text/plain; charset=utf-8" });
  });

  app.get("/v1/log", async (c) => {
    const cp = await latest(deps.head);
    return c.json({
      origin: deps.origin,
      verifierKey: deps.verifierKey,
      treeSize: cp.treeSize.toString(),
      rootHash: encodeBase64(cp.rootHash),
      checkpoint: cp.note,
      ...(deps.witnesses ? { witnesses: deps.witnesses } : {}),
    } satisfies LogInfo);
  });

  app.get("/v1/entries/:index", async (c) => {
    const index = decimalParam(c.req.param("index"), "index");
    const e = await store.getEntry(index);
    if (!e) throw new ApiError("not_found", `entry ${index} does not exist`);
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    return c.json(entryJson(e));
  });

  app.get("/v1/entries", async (c) => {
    const start = decimalParam(c.req.query("start") ?? "0", "start");
    const limit = optionalDecimalParam(c.req.query("limit"), "limit") ?? 100n;
    if (limit < 1n || limit > BigInt(MAX_ENTRIES_PER_PAGE)) {
      throw new ApiError("invalid_parameter", `limit must be from 1 to ${MAX_ENTRIES_PER_PAGE}`);
    }
    const entries = await store.getEntries(start, Number(limit));
    return c.json({ entries: entries.map(entryJson) } satisfies EntriesJson);
  });

  app.get("/v1/proofs/inclusion", async (c) => {
    const cp = await latest(deps.head);
    const treeSize = optionalDecimalParam(c.req.query("treeSize"), "treeSize") ?? cp.treeSize;
    if (treeSize > cp.treeSize) throw new ApiError("invalid_parameter", `tree size ${treeSize} is beyond the log's size ${cp.treeSize}`);
    const byIndex = c.req.query("index");
    const byHash = c.req.query("leafHash");
    if ((byIndex === undefined) === (byHash === undefined)) throw new ApiError("invalid_parameter", "give exactly one of index and leafHash");
    let index: bigint;
    if (byIndex !== undefined) {
      index = decimalParam(byIndex, "index");
    } else {
      const found = await store.findLeafHash(hashParam(byHash, "leafHash"));
      if (found === undefined) throw new ApiError("not_found", "no entry has that leaf hash");
      index = found;
    }
    if (index >= treeSize) throw new ApiError("invalid_parameter", `index ${index} out of bounds for tree size ${treeSize}`);
    const { proof, leafHash } = await inclusionProofAndLeaf(nodes, index, treeSize);
    return c.json({ index: index.toString(), treeSize: treeSize.toString(), leafHash: encodeBase64(leafHash), proof: proof.map(encodeBase64) } satisfies InclusionProofJson);
  });

  app.get("/v1/proofs/consistency", async (c) => {
    const size1 = decimalParam(c.req.query("size1"), "size1");
    const size2 = decimalParam(c.req.query("size2"), "size2");
    const cp = await latest(deps.head);
    if (size2 > cp.treeSize) throw new ApiError("invalid_parameter", `size2 ${size2} is beyond the log's size ${cp.treeSize}`);
    if (size1 === 0n || size1 > size2) throw new ApiError("invalid_parameter", `no consistency proof from size ${size1} to size ${size2}: need 0 < size1 <= size2`);
    const proof = await consistencyProof(nodes, size1, size2);
    return c.json({ size1: size1.toString(), size2: size2.toString(), proof: proof.map(encodeBase64) } satisfies ConsistencyProofJson);
  });

  return app;
}
