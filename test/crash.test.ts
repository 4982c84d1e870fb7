/**
 * Crash safety: SIGKILL the server at random moments under concurrent load,
 * restart it, and check that every acknowledged append is at its
 * acknowledged index, the tree and hash chain verify from scratch, and every
 * checkpoint ever served is consistent with the final one. A few iterations
 * by default; LEDGER_LONG=1 runs many.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bytesEqual, encodeBase64, parseBase64 } from "../client/bytes.js";
import { openCheckpoint, type SignedCheckpoint } from "../client/checkpoint.js";
import { ZERO_HASH, entryLeafHash, parseEntry } from "../client/entry.js";
import { rootFromLeafHashes } from "../client/merkle-tree.js";
import { verifyConsistency } from "../client/merkle-verify.js";
import { createVerifier } from "../client/note.js";
import { parseEntryBundle, tilePath } from "../client/tiles.js";
import { postRecord, TEST_WRITERS, type Fetch } from "./helpers/http.js";
import { startServer, type Running } from "./helpers/process.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { STORES } from "./helpers/stores.js";

const ITERATIONS = process.env.LEDGER_LONG ? 25 : 3;

describe.each(STORES)("crash safety under SIGKILL: $kind", (fixture) => {
  it(`survives ${ITERATIONS} kills with nothing acknowledged lost`, { timeout: 300_000 }, async () => {
    const loc = await fixture.create();
    const dir = mkdtempSync(join(tmpdir(), "ledger-crash-"));
    const env = { LEDGER_DATA_DIR: dir, DATABASE_URL: loc.databaseUrl ?? "", LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "5", LEDGER_ORIGIN: "" };
    const acked = new Map<bigint, string>();
    const served: SignedCheckpoint[] = [];
    const k = testKey(600);
    let n = 0;
    let vkey = "";
    let server: Running | undefined;
    try {
      for (let it = 0; it < ITERATIONS; it++) {
        server = await startServer(env);
        const url = server.url;
        const fetchS: Fetch = (p, i) => fetch(url + p, i);
        if (it === 0) {
          vkey = (await (await fetch(`${url}/v1/log`)).json()).verifierKey;
          const r = await postRecord(fetchS, registerKey("npm:@crash", k, "publish"));
          acked.set(BigInt(r.body.index), r.body.leafHash);
        }
        let alive = true;
        const writers = Array.from({ length: 24 }, async () => {
          while (alive) {
            try {
              const r = await postRecord(fetchS, signRelease("npm:@crash", k, "c", `1.0.${n++}`));
              if (r.status === 201 || r.status === 200) acked.set(BigInt(r.body.index), r.body.leafHash);
            } catch {
              return; // connection refused or reset: the server is gone
            }
          }
        });
        const watcher = (async () => {
          while (alive) {
            try {
              served.push(openCheckpoint(await (await fetch(`${url}/checkpoint`)).text(), { origin: "localhost/ledger", logVerifier: createVerifier(vkey) }));
            } catch {
              return;
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 700)));
        await server.stop("SIGKILL");
        alive = false;
        await Promise.all([...writers, watcher]);
      }
      // Restart once more and audit everything from scratch, over HTTP.
      server = await startServer(env);
      const url = server.url;
      const final = openCheckpoint(await (await fetch(`${url}/checkpoint`)).text(), { origin: "localhost/ledger", logVerifier: createVerifier(vkey) });
      const leaves: Uint8Array[] = [];
      let prev: Uint8Array = ZERO_HASH;
      for (let t = 0n; BigInt(leaves.length) < final.treeSize; t++) {
        const width = final.treeSize - t * 256n >= 256n ? 256 : Number(final.treeSize - t * 256n);
        const res = await fetch(`${url}/${tilePath("entries", t, width)}`);
        expect(res.status).toBe(200);
        for (const bytes of parseEntryBundle(new Uint8Array(await res.arrayBuffer()))) {
          const e = parseEntry(bytes);
          expect(e.index).toBe(BigInt(leaves.length));
          expect(bytesEqual(e.prev, prev)).toBe(true);
          prev = entryLeafHash(bytes);
          leaves.push(prev);
        }
      }
      expect(bytesEqual(rootFromLeafHashes(leaves), final.rootHash)).toBe(true);
      for (const [index, leafHash] of acked) {
        expect(index < final.treeSize, `acknowledged index ${index} beyond the final size ${final.treeSize}`).toBe(true);
        expect(encodeBase64(leaves[Number(index)]!)).toBe(leafHash);
      }
      for (const cp of served) {
        if (cp.treeSize === 0n || cp.treeSize === final.treeSize) {
          expect(cp.treeSize === 0n || bytesEqual(cp.rootHash, final.rootHash)).toBe(true);
          continue;
        }
        const proof = (await (await fetch(`${url}/v1/proofs/consistency?size1=${cp.treeSize}&size2=${final.treeSize}`)).json()).proof.map(parseBase64);
        verifyConsistency(cp.treeSize, final.treeSize, proof, cp.rootHash, final.rootHash);
      }
      console.log(`[crash ${fixture.kind}] ${ITERATIONS} SIGKILLs survived; ${acked.size} appends acknowledged and found at their index; ${served.length} served checkpoints consistent with the final one (size ${final.treeSize})`);
      expect(acked.size).toBeGreaterThan(ITERATIONS * 4); // the kills landed under real load
    } finally {
      await server?.stop();
      await loc.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
