/** tlog-tiles: paths, widths, contents, partial-tile justification, and proofs from tiles equal to JSON proofs. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64 } from "../client/bytes.js";
import { recordHash } from "../client/entry.js";
import { consistencyProofRanges, hashRanges, inclusionProofRanges, rootFromLeafHashes } from "../client/merkle-tree.js";
import { formatTileIndex, parseEntryBundle, parseTileIndex, tileNodeReader, tilePath, tileWidth } from "../client/tiles.js";
import { LedgerError } from "../client/errors.js";
import * as api from "../schema/api.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { sequenceBatch } from "../server/log/sequence.js";
import { getJson, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";

describe("tile paths and widths (C2SP tlog-tiles)", () => {
  it.each([
    [0n, "000"],
    [5n, "005"],
    [1000n, "x001/000"],
    [1234067n, "x001/x234/067"],
  ])("index %s is %s", (n, path) => {
    expect(formatTileIndex(n)).toBe(path);
    expect(parseTileIndex(path)).toBe(n);
  });
  it.each(["5", "x001", "001/234", "x000/005", "x1/005", "0005", ""])("refuses %j", (p) => {
    expect(() => parseTileIndex(p)).toThrow(LedgerError);
  });
  it("size 70,000: 273 full level-0 tiles + .p/112, 1 full level-1 tile + .p/17, level 2 .p/1", () => {
    expect(tileWidth(0, 272n, 70_000n)).toBe(256);
    expect(tileWidth(0, 273n, 70_000n)).toBe(112);
    expect(tileWidth(0, 274n, 70_000n)).toBe(0);
    expect(tileWidth(1, 0n, 70_000n)).toBe(256);
    expect(tileWidth(1, 1n, 70_000n)).toBe(17);
    expect(tileWidth(2, 0n, 70_000n)).toBe(1);
    expect(tilePath(0, 273n, 112)).toBe("tile/0/273.p/112");
    expect(tilePath("entries", 1234067n)).toBe("tile/entries/x001/x234/067");
  });
});

describe("tiles served by the log", () => {
  let dir: string;
  let ledger: Ledger;
  const get = async (p: string) => ledger.app.request(p);
  const k = testKey(400);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-tiles-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS }), { log: () => {} });
    const records = [registerKey("npm:@t", k, "publish"), ...Array.from({ length: 669 }, (_, i) => signRelease("npm:@t", k, "t", `0.0.${i}`))];
    // Checkpoints at 300, 600 and 670 only.
    for (const [a, b] of [[0, 300], [300, 600], [600, 670]] as const) {
      await sequenceBatch(ledger.sequenceDeps, records.slice(a, b).map((record) => ({ record, recordHash: recordHash(record) })));
    }
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("level-0 tiles hold the leaf hashes; entry bundles hold the exact entries", async () => {
    const page = await getJson(get, "/v1/entries?start=0&limit=1000", api.EntriesResponse);
    const full = new Uint8Array(await (await get("/tile/0/000")).arrayBuffer());
    expect(full.length).toBe(256 * 32);
    expect(encodeBase64(full.subarray(32 * 7, 32 * 8))).toBe(page.entries[7]!.leafHash);
    const res = await get("/tile/entries/001");
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("cache-control")).toMatch(/immutable/);
    const bundle = parseEntryBundle(new Uint8Array(await res.arrayBuffer()));
    expect(bundle.map(encodeBase64)).toEqual(page.entries.slice(256, 512).map((e) => e.entry));
    const partial = parseEntryBundle(new Uint8Array(await (await get("/tile/entries/002.p/88")).arrayBuffer()));
    expect(partial).toHaveLength(88);
  });

  it("higher levels hold subtree roots; partial widths only where a checkpoint justifies them", async () => {
    const page = await getJson(get, "/v1/entries?start=0&limit=1000", api.EntriesResponse);
    const l1 = new Uint8Array(await (await get("/tile/1/000.p/2")).arrayBuffer());
    const leaves = page.entries.map((e) => Buffer.from(e.leafHash, "base64"));
    expect(Buffer.from(l1.subarray(0, 32))).toEqual(Buffer.from(rootFromLeafHashes(leaves.slice(0, 256))));
    expect(Buffer.from(l1.subarray(32, 64))).toEqual(Buffer.from(rootFromLeafHashes(leaves.slice(256, 512))));
    for (const [path, status] of [
      ["/tile/0/002.p/88", 200], // size 600
      ["/tile/0/002.p/158", 200], // size 670
      ["/tile/0/001.p/44", 200], // size 300
      ["/tile/0/002.p/100", 404], // no checkpoint at 612
      ["/tile/0/002", 404], // not full yet
      ["/tile/0/003.p/1", 404], // beyond the tree
      ["/tile/1/000", 404],
      ["/tile/0/x001/000", 404],
      ["/tile/0/2", 404],
      ["/tile/0/002.p/0", 404],
      ["/tile/0/002.p/256", 404],
      ["/tile/64/000", 404],
      ["/tile/entries/002.p/100", 404],
    ] as const) {
      expect((await get(path)).status, path).toBe(status);
    }
  });

  it("proofs built from tiles equal the JSON proofs, from at most log256(N)+1 tiles", async () => {
    const fetchTile = async (p: string) => {
      const r = await get("/" + p);
      if (r.status !== 200) throw new Error(`${p}: ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    };
    for (const index of [0n, 1n, 255n, 256n, 300n, 511n, 600n, 669n]) {
      const reader = tileNodeReader(670n, fetchTile);
      const fromTiles = await hashRanges(inclusionProofRanges(index, 670n), reader);
      const json = await getJson(get, `/v1/proofs/inclusion?index=${index}&treeSize=670`, api.InclusionProofResponse);
      expect(fromTiles.map(encodeBase64)).toEqual(json.proof);
      expect(reader.tilesFetched()).toBeLessThanOrEqual(3);
    }
    for (const [m, n] of [[300n, 670n], [600n, 670n], [1n, 670n], [256n, 670n]] as const) {
      const reader = tileNodeReader(n, fetchTile);
      const fromTiles = await hashRanges(consistencyProofRanges(m, n), reader);
      const json = await getJson(get, `/v1/proofs/consistency?size1=${m}&size2=${n}`, api.ConsistencyProofResponse);
      expect(fromTiles.map(encodeBase64)).toEqual(json.proof);
    }
  });
});

describe("DESIGN: a proof for a 10M-entry tree from at most 5 tiles", () => {
  it("holds for edge and random indices, counting the tiles a client fetches", async () => {
    const N = 10_000_000n;
    const fetched: string[] = [];
    // Tile contents do not change which tiles are needed; widths come from the paths.
    const fakeTile = async (p: string) => {
      fetched.push(p);
      const w = /\.p\/(\d+)$/.exec(p);
      return new Uint8Array((w ? Number(w[1]) : 256) * 32);
    };
    let seed = 11;
    const random = Array.from({ length: 60 }, () => BigInt(((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed) % 10_000_000));
    for (const index of [0n, 1n, 255n, 256n, 65_535n, 65_536n, 5_000_000n, 9_983_615n, 9_999_744n, 9_999_999n, ...random]) {
      fetched.length = 0;
      const reader = tileNodeReader(N, fakeTile);
      const proof = await hashRanges(inclusionProofRanges(index, N), reader);
      expect(proof.length).toBeGreaterThanOrEqual(10); // log2(10M) ≈ 23 hashes, fewer at the right edge
      expect(reader.tilesFetched(), `index ${index}: ${fetched.join(" ")}`).toBeLessThanOrEqual(5);
    }
  });
});
