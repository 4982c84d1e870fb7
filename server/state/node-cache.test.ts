import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nodeKey, type NodeId } from "../../client/merkle-tree.js";
import { MissingNodeError, type StoredCheckpoint } from "../store/store.js";
import { NodeCache } from "./node-cache.js";
import { inclusionProof, consistencyProof } from "../log/proofs.js";

const h = (...parts: Uint8Array[]) => {
  const x = createHash("sha256");
  for (const p of parts) x.update(p);
  return new Uint8Array(x.digest());
};

/** Every completed node of a tree of `size` leaves, as the store keeps them. */
function storedTree(size: number) {
  const levels: Uint8Array[][] = [Array.from({ length: size }, (_, i) => h(Uint8Array.of(0), new TextEncoder().encode(`leaf ${i}`)))];
  while (levels[levels.length - 1]!.length > 1) {
    const prev = levels[levels.length - 1]!;
    levels.push(Array.from({ length: prev.length >> 1 }, (_, i) => h(Uint8Array.of(1), prev[2 * i]!, prev[2 * i + 1]!)));
  }
  let queries = 0;
  let queried = 0;
  const store = {
    async readNodes(ids: NodeId[]) {
      queries++;
      queried += ids.length;
      const out = new Map<string, Uint8Array>();
      for (const id of ids) {
        const v = levels[id.level]?.[Number(id.index)];
        if (!v) throw new MissingNodeError(nodeKey(id));
        out.set(nodeKey(id), v);
      }
      return out;
    },
    async readNodeRange(level: number, start: bigint, count: number) {
      queries++;
      const row = levels[level]!.slice(Number(start), Number(start) + count);
      if (row.length !== count) throw new MissingNodeError(`${level}/${start + BigInt(row.length)}`);
      return row;
    },
  };
  const head = async (): Promise<StoredCheckpoint> => ({ treeSize: BigInt(size), rootHash: new Uint8Array(32), note: "" });
  return { levels, store, head, stats: () => ({ queries, queried }) };
}

describe("NodeCache", () => {
  it("answers every stored node of a 700-leaf tree as the store does, reading partial tiles from the store", async () => {
    const t = storedTree(700);
    const cache = new NodeCache(t.store, t.head);
    const ids: NodeId[] = t.levels.flatMap((row, level) => row.map((_, i) => ({ level, index: BigInt(i) })));
    const got = await cache.readNodes(ids);
    for (const id of ids) expect(got.get(nodeKey(id)), nodeKey(id)).toEqual(t.levels[id.level]![Number(id.index)]);
    // Leaves 0..511 are two full tiles; everything right of them comes from the store, once.
    expect(cache.loads).toBe(2);
    const before = t.stats().queries;
    await cache.readNodes([{ level: 3, index: 10n }, { level: 0, index: 300n }, { level: 0, index: 650n }]);
    expect(t.stats().queries).toBe(before); // full tiles and right-edge nodes already read: no query
    const fresh = new NodeCache(t.store, t.head);
    await fresh.readNodes([{ level: 0, index: 600n }, { level: 0, index: 601n }]);
    expect(t.stats().queries).toBe(before + 1); // a partial tile's nodes: the store, once
    await fresh.readNodes([{ level: 0, index: 601n }]);
    expect(t.stats().queries).toBe(before + 1); // and then kept
    await expect(cache.readNodes([{ level: 0, index: 700n }])).rejects.toBeInstanceOf(MissingNodeError);
  });

  it("serves level-1 tiles (nodes at levels 8-15) and proofs equal to the store's, within a byte bound", async () => {
    const size = 70_000;
    const t = storedTree(size);
    const cache = new NodeCache(t.store, t.head, 40 * 16_352); // room for 40 tiles
    const viaCache = { readNodes: (ids: NodeId[]) => cache.readNodes(ids), ranges: cache.ranges };
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let k = 0; k < 300; k++) {
      const s = BigInt(1 + rand(size));
      const i = BigInt(rand(Number(s)));
      expect(await inclusionProof(viaCache, i, s)).toEqual(await inclusionProof(t.store, i, s));
      const s1 = BigInt(1 + rand(Number(s)));
      expect(await consistencyProof(viaCache, s1, s)).toEqual(await consistencyProof(t.store, s1, s));
    }
    expect(cache.bytes).toBeLessThanOrEqual(40 * 16_352);
    expect(cache.ranges.size).toBeGreaterThan(0); // folded right-edge ranges were kept, and the proofs still matched
    const tile = await cache.fullTile(1, 0n);
    expect(tile?.length).toBe(256 * 32);
    expect(tile!.subarray(32 * 5, 32 * 6)).toEqual(t.levels[8]![5]);
    expect(await cache.fullTile(1, 1n)).toBeUndefined(); // 2·65,536 leaves needed
    expect(await cache.fullTile(0, 273n)).toBeUndefined(); // 70,000 = 273·256 + 112: partial
  });
});
