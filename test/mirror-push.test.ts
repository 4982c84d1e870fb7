/**
 * C2SP tlog-mirror push: a log uploads its entries to `ledger mirror --push`
 * (add-checkpoint, then add-entries with entry packages), the mirror checks
 * each package by its subtree consistency proof, verifies it as in pull mode
 * and cosigns once it holds everything. Then everything a client of the
 * protocol can get wrong or try on purpose, each with the spec's status.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concatBytes, encodeBase64, parseUtf8, utf8 } from "../client/bytes.js";
import { hashRanges, subtreeConsistencyProofRanges } from "../client/merkle-tree.js";
import { createVerifier, openNote } from "../client/note.js";
import { encodeEntryBundle, parseEntryBundle } from "../client/tiles.js";
import { canonicalPackages, encodeAddEntriesHeader, encodeEntryPackage, parseMirrorInfo } from "../client/tlog-mirror.js";
import type { LedgerRecord } from "../schema/records.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { WitnessSubmitter } from "../server/log/witnesses.js";
import { createMirror, type Mirror, type MirrorConfig } from "../server/mirror/mirror.js";
import type { StoredCheckpoint } from "../server/store/store.js";
import { postRecord, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, signRelease, testKey } from "./helpers/records.js";
import { sequenceUnchecked } from "./helpers/ledger.js";
import { STORES, type StoreLocation } from "./helpers/stores.js";

// PostgreSQL when the run has one (PGlite otherwise): several embedded databases per file are slow to start.
const fixture = STORES.find((x) => x.kind === "postgres") ?? STORES[0]!;

interface Parts {
  origin?: string;
  start: bigint;
  end: bigint;
  /** How many packages to send (default all). */
  packages?: number;
  /** Changes a package's entries or proof before it is encoded. */
  mutate?: (i: number, p: { entries: Uint8Array[]; proof: Uint8Array[] }) => void;
}

/** An add-entries body built from the log's store, as a client of the spec would. */
async function body(ledger: Ledger, p: Parts): Promise<Uint8Array> {
  const spans = canonicalPackages(p.start, p.end, 0, p.packages ?? Infinity);
  const out = [encodeAddEntriesHeader({ origin: p.origin ?? ledger.origin, uploadStart: p.start, uploadEnd: p.end, ticket: new Uint8Array(0) })];
  for (const [i, s] of spans.entries()) {
    const pkg = {
      entries: (await ledger.store.entriesBetween(s.start, s.end)).map((e) => e.entry.slice()),
      proof: await hashRanges(subtreeConsistencyProofRanges(s.subtreeStart, s.end, p.end), (ids) => ledger.store.readNodes(ids)),
    };
    p.mutate?.(i, pkg);
    out.push(encodeEntryPackage(pkg.entries, pkg.proof));
  }
  return concatBytes(...out);
}

async function addEntries(mirror: Mirror, b: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; text: string; type: string | null }> {
  const res = await mirror.app.request("/add-entries", { method: "POST", body: b as BodyInit, headers: { "content-type": "application/octet-stream", ...headers } });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
}

async function addCheckpoint(mirror: Mirror, ledger: Ledger, old: bigint, cp: StoredCheckpoint): Promise<{ status: number; text: string }> {
  const { consistencyProof } = await import("../server/log/proofs.js");
  const proof = old > 0n && old < cp.treeSize ? await consistencyProof(ledger.store, old, cp.treeSize) : [];
  const res = await mirror.app.request("/add-checkpoint", { method: "POST", body: `old ${old}\n${proof.map((h) => encodeBase64(h) + "\n").join("")}\n${cp.note}` });
  return { status: res.status, text: await res.text() };
}

/** `ledger mirror --push` of `ledger`'s log in `<dir>/mirror` on `loc`, verifying in process unless told. */
function openPushMirror(ledger: Ledger, dir: string, loc: StoreLocation, extra: Partial<MirrorConfig> = {}): Promise<Mirror> {
  return createMirror({ push: true, logKey: ledger.signer.verifierKey, dataDir: join(dir, "mirror"), ...(loc.databaseUrl ? { databaseUrl: loc.databaseUrl } : {}), peers: [], intervalMs: 60_000, verifyThreads: 0, ...extra }, { log: () => {}, explorer: false });
}

async function appendReleases(ledger: Ledger, from: number, count: number): Promise<void> {
  const req = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
  const k = testKey(700);
  for (let i = 0; i < count; i += 100) {
    const n = Math.min(100, count - i);
    const res = await Promise.all(Array.from({ length: n }, (_, j) => postRecord(req, signRelease("npm:push", k, "p", `1.0.${from + i + j}`))));
    for (const r of res) expect(r.status).toBe(201);
  }
}

async function waitForCheckpoint(ledger: Ledger, size: bigint): Promise<StoredCheckpoint> {
  for (let i = 0; i < 500; i++) {
    const cp = await ledger.store.latestCheckpoint();
    if (cp && cp.treeSize >= size) return cp;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no checkpoint of size ${size}`);
}

describe("C2SP tlog-mirror push: a log uploads to ledger mirror --push", () => {
  let dir: string;
  let ledger: Ledger;
  let mirror: Mirror;
  let submitter: WitnessSubmitter;
  const locs: StoreLocation[] = [];
  const sent: Array<{ bytes: number; status: number }> = [];
  let cut: number | undefined; // cut the next add-entries body to this fraction of its compressed bytes

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-mirror-push-"));
    for (let i = 0; i < 2; i++) locs.push(await fixture.create());
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: join(dir, "log"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1", ...(locs[0]!.databaseUrl ? { DATABASE_URL: locs[0]!.databaseUrl } : {}) }), { explorer: false });
    const req = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
    expect((await postRecord(req, registerKey("npm:push", testKey(700), "publish"))).status).toBe(201);
    await appendReleases(ledger, 0, 599); // 600 entries: three packages, the last partial
    mirror = await openPushMirror(ledger, dir, locs[1]!, { name: "push-mirror.test" });
    const toMirror: typeof fetch = async (input, init) => {
      const u = new URL(String(input));
      let b = init?.body as Uint8Array | string;
      if (u.pathname === "/add-entries" && cut !== undefined) {
        b = (b as Uint8Array).subarray(0, Math.floor((b as Uint8Array).length * cut));
        cut = undefined;
      }
      const res = await mirror.app.request(u.pathname, { ...init, body: b as BodyInit });
      if (u.pathname === "/add-entries") sent.push({ bytes: (b as Uint8Array).length, status: res.status });
      return res;
    };
    submitter = new WitnessSubmitter(ledger.store, { quorum: 1, witnesses: [{ vkey: mirror.cosigner.verifierKey, url: "http://mirror.test", push: true }] }, { log: (l) => console.error(l), fetch: toMirror });
  });

  afterAll(async () => {
    await mirror?.close();
    await ledger?.close();
    for (const l of locs) await l.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses add-entries before any pending checkpoint (422), and one for another log (404)", async () => {
    const cp = await waitForCheckpoint(ledger, 600n);
    expect((await addEntries(mirror, await body(ledger, { start: 0n, end: cp.treeSize, packages: 1 }))).status).toBe(422);
    expect((await addEntries(mirror, await body(ledger, { origin: "other.example/log", start: 0n, end: cp.treeSize, packages: 1 }))).status).toBe(404);
    expect(await mirror.store.entryCount()).toBe(0n);
  });

  it("the log's pusher uploads every entry, the mirror verifies, stores and cosigns; the log keeps the cosignature", async () => {
    const cp = await waitForCheckpoint(ledger, 600n);
    await submitter.submitLatest();
    const mine = await mirror.store.latestCheckpoint();
    expect(mine?.treeSize).toBe(cp.treeSize);
    // The mirror's copy is the log's, byte for byte.
    const theirs = await ledger.store.entriesBetween(0n, cp.treeSize);
    const ours = await mirror.store.entriesBetween(0n, cp.treeSize);
    expect(ours.map((e) => encodeBase64(e.entry))).toEqual(theirs.map((e) => encodeBase64(e.entry)));
    // The log stored the cosignature, and it verifies with the mirror's key.
    const cosigned = await ledger.store.latestCosigned(1);
    expect(cosigned?.checkpoint.treeSize).toBe(cp.treeSize);
    const note = openNote(cp.note + cosigned!.lines.join(""), [createVerifier(mirror.cosigner.verifierKey)]);
    expect(note.sigs.map((s) => s.name)).toContain("push-mirror.test");
    // An empty probe first (the pusher knew no next entry), then one request with all three packages.
    expect(sent.map((s) => s.status)).toEqual([409, 200]);
  });

  it("serves the copy under /<hex sha256(origin)>/ as tlog-tiles: checkpoint, entry bundles", async () => {
    const prefix = createHash("sha256").update(ledger.origin).digest("hex");
    const cp = await mirror.app.request(`/${prefix}/checkpoint`);
    expect(cp.status).toBe(200);
    expect(await cp.text()).toContain("\u2014 push-mirror.test ");
    const bundle = await mirror.app.request(`/${prefix}/tile/entries/000`);
    expect(bundle.status).toBe(200);
    const entries = parseEntryBundle(new Uint8Array(await bundle.arrayBuffer()));
    expect(entries.length).toBe(256);
    expect(encodeBase64(entries[5]!)).toBe(encodeBase64((await ledger.store.getEntry(5n))!.entry));
    expect((await mirror.app.request(`/${"0".repeat(64)}/checkpoint`)).status).toBe(404);
  });

  it("uploads only what is new, and resumes an upload cut mid-body (202) without resending what the mirror took", async () => {
    sent.length = 0;
    await appendReleases(ledger, 599, 300); // 900 entries: packages [512,768) and [768,900) are new or partly new
    const cp = await waitForCheckpoint(ledger, 900n);
    cut = 0.8; // [600, 768) is 56% of the entries: the cut falls in the second package, [768, 900)
    await submitter.submitLatest();
    expect((await mirror.store.latestCheckpoint())?.treeSize).toBe(cp.treeSize);
    expect(sent[0]!.status).toBe(202);
    expect(sent.at(-1)!.status).toBe(200);
    expect((await ledger.store.latestCosigned(1))?.checkpoint.treeSize).toBe(cp.treeSize);
    expect(await mirror.store.entryCount()).toBe(cp.treeSize);
  });

  it("a replayed upload and two concurrent ones store each entry once and cosign the same checkpoint", async () => {
    const cp = (await ledger.store.latestCheckpoint())!;
    const b = await body(ledger, { start: 600n, end: cp.treeSize });
    const [a1, a2, a3] = await Promise.all([addEntries(mirror, b), addEntries(mirror, b), addEntries(mirror, gzipSync(b), { "content-encoding": "gzip" })]);
    for (const a of [a1, a2, a3]) {
      expect(a.status).toBe(200);
      expect(a.text).toMatch(/^\u2014 push-mirror\.test \S+\n$/);
    }
    expect(await mirror.store.entryCount()).toBe(cp.treeSize);
  });

  describe("hostile or broken add-entries", () => {
    let cp: StoredCheckpoint;
    let before: bigint;

    beforeAll(async () => {
      await appendReleases(ledger, 899, 400); // 1,300 entries: the mirror holds 900
      cp = await waitForCheckpoint(ledger, 1300n);
      before = (await mirror.store.latestCheckpoint())!.treeSize;
      expect((await addCheckpoint(mirror, ledger, before, cp)).status).toBe(200);
    });

    const unchanged = async () => {
      expect(await mirror.store.entryCount()).toBe(before);
      expect((await mirror.store.latestCheckpoint())!.treeSize).toBe(before);
    };

    it("an upload_end that is no pending checkpoint: 409 with the pending size and next entry", async () => {
      const a = await addEntries(mirror, await body(ledger, { start: before, end: cp.treeSize - 1n, packages: 0 }));
      expect(a.status).toBe(409);
      expect(a.type).toBe("text/x.tlog.mirror-info");
      expect(parseMirrorInfo(a.text)).toMatchObject({ treeSize: cp.treeSize, nextEntry: before });
      await unchanged();
    });

    it("an upload_start past the next entry: 409 with the next entry", async () => {
      const a = await addEntries(mirror, await body(ledger, { start: before + 256n, end: cp.treeSize }));
      expect(a.status).toBe(409);
      expect(parseMirrorInfo(a.text)).toMatchObject({ treeSize: cp.treeSize, nextEntry: before });
      await unchanged();
    });

    it("a tampered entry, a wrong proof hash, a short proof, 64 proof hashes: 422, nothing stored", async () => {
      const flip = (b: Uint8Array) => {
        const c = b.slice();
        c[c.length - 3]! ^= 1;
        return c;
      };
      const cases: Array<Parts["mutate"]> = [
        (i, p) => i === 0 && (p.entries[100] = flip(p.entries[100]!)),
        (i, p) => i === 0 && (p.proof[0] = flip(p.proof[0]!)),
        (i, p) => i === 0 && p.proof.pop(),
      ];
      for (const mutate of cases) {
        const a = await addEntries(mirror, await body(ledger, { start: before, end: cp.treeSize, mutate }));
        expect(a.status).toBe(422);
      }
      // 64 proof hashes, one more than a package may carry (the encoder refuses to write it).
      const entries = (await ledger.store.entriesBetween(before, 1024n)).map((e) => e.entry);
      const head = await body(ledger, { start: before, end: cp.treeSize, packages: 0 });
      const a = await addEntries(mirror, concatBytes(head, encodeEntryBundle(entries), new Uint8Array([64]), new Uint8Array(64 * 32)));
      expect(a.status).toBe(422);
      expect(a.text).toMatch(/at most 63 hashes/);
      await unchanged();
    });

    it("a tampered second package: the first is kept, 422 ends the upload, nothing is cosigned", async () => {
      // [900, 1024) then [1024, 1280): the second's entry is flipped.
      const a = await addEntries(mirror, await body(ledger, { start: before, end: cp.treeSize, mutate: (i, p) => i === 1 && (p.entries[3] = utf8(parseUtf8(p.entries[3]!).replace('"1.0.', '"9.0.'))) }));
      expect(a.status).toBe(422);
      expect(await mirror.store.entryCount()).toBe(1024n);
      expect((await mirror.store.latestCheckpoint())!.treeSize).toBe(before);
      before = 1024n; // what the mirror holds from here on (its checkpoint is still 900)
    });

    it("a body cut in the header or the first package is 400; after a whole package it is 202 with the advanced next entry", async () => {
      const b = await body(ledger, { start: before, end: cp.treeSize });
      expect((await addEntries(mirror, b.subarray(0, 10))).status).toBe(400);
      expect((await addEntries(mirror, b.subarray(0, 5000))).status).toBe(400);
      expect(await mirror.store.entryCount()).toBe(1024n);
      const one = (await body(ledger, { start: before, end: cp.treeSize, packages: 1 })).length;
      const a = await addEntries(mirror, b.subarray(0, one + 100));
      expect(a.status).toBe(202);
      expect(a.type).toBe("text/x.tlog.mirror-info");
      expect(parseMirrorInfo(a.text)).toEqual({ treeSize: cp.treeSize, nextEntry: 1280n, ticket: new Uint8Array(0) });
      // A corrupt gzip stream reads as a body that ended there.
      const z = gzipSync(await body(ledger, { start: 1280n, end: cp.treeSize }));
      z[z.length - 20]! ^= 0xff;
      expect((await addEntries(mirror, z, { "content-encoding": "gzip" })).status).toBeGreaterThanOrEqual(400);
    });

    it("bytes past the canonical sequence: 400, not cosigned", async () => {
      const b = await body(ledger, { start: 1280n, end: cp.treeSize });
      const a = await addEntries(mirror, concatBytes(b, new Uint8Array([0, 1, 2])));
      expect(a.status).toBe(400);
      expect((await mirror.store.latestCheckpoint())!.treeSize).toBe(900n);
    });

    it("wrong Content-Type or Content-Encoding: 415", async () => {
      const b = await body(ledger, { start: 1280n, end: cp.treeSize });
      expect((await mirror.app.request("/add-entries", { method: "POST", body: b as BodyInit, headers: { "content-type": "text/plain" } })).status).toBe(415);
      expect((await addEntries(mirror, b, { "content-encoding": "br" })).status).toBe(415);
    });

    it("then the honest rest completes it: 200 with the cosignature", async () => {
      const a = await addEntries(mirror, await body(ledger, { start: 1280n, end: cp.treeSize }));
      expect(a.status).toBe(200);
      expect((await mirror.store.latestCheckpoint())!.treeSize).toBe(cp.treeSize);
      // An upload_end below the mirror checkpoint is no longer valid.
      expect((await addEntries(mirror, await body(ledger, { start: 900n, end: 900n }))).status).toBe(409);
    });
  });

  describe("add-checkpoint on a push mirror", () => {
    it("moves only the pending checkpoint and answers without a cosignature; a stale old size is 409, a bad proof 422, a bad signature 403", async () => {
      const before = (await mirror.store.latestCheckpoint())!;
      await appendReleases(ledger, 1299, 10);
      const cp = await waitForCheckpoint(ledger, before.treeSize + 10n);
      const stale = await addCheckpoint(mirror, ledger, 5n, cp);
      expect(stale).toEqual({ status: 409, text: `${before.treeSize}\n` });
      const { consistencyProof } = await import("../server/log/proofs.js");
      const proof = await consistencyProof(ledger.store, before.treeSize, cp.treeSize);
      proof[0] = new Uint8Array(32);
      const bad = await mirror.app.request("/add-checkpoint", { method: "POST", body: `old ${before.treeSize}\n${proof.map((h) => encodeBase64(h) + "\n").join("")}\n${cp.note}` });
      expect(bad.status).toBe(422);
      const forged = cp.note.replace(/— (\S+) (\S+)\n/, (_, n: string, s: string) => `— ${n} ${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}\n`);
      expect((await addCheckpoint(mirror, ledger, before.treeSize, { ...cp, note: forged })).status).toBe(403);
      const ok = await addCheckpoint(mirror, ledger, before.treeSize, cp);
      expect(ok).toEqual({ status: 200, text: "" });
      expect((await mirror.store.latestCheckpoint())!.treeSize).toBe(before.treeSize); // not cosigned yet
      expect((await addCheckpoint(mirror, ledger, before.treeSize, cp)).status).toBe(409); // the pending size moved
      expect((await addCheckpoint(mirror, ledger, cp.treeSize, cp)).status).toBe(200); // same checkpoint again: fine
    });

    it("the pending checkpoint survives a restart: the upload finishes after it", async () => {
      const pending = (await ledger.store.latestCheckpoint())!;
      await mirror.close();
      mirror = await openPushMirror(ledger, dir, locs[1]!);
      const held = await mirror.store.entryCount();
      const a = await addEntries(mirror, await body(ledger, { start: held, end: pending.treeSize }));
      expect(a.status).toBe(200);
      expect((await mirror.store.latestCheckpoint())!.treeSize).toBe(pending.treeSize);
    });

    it("a second log-signed checkpoint of the same size with another root is equivocation: 422, evidence kept, cosigning stops", async () => {
      const cp = (await mirror.store.latestCheckpoint())!;
      const text = cp.note.slice(0, cp.note.indexOf("\n\n") + 1);
      const lines = text.split("\n");
      lines[2] = encodeBase64(new Uint8Array(32).fill(7));
      const other = await ledger.signer.signNote(lines.join("\n"));
      const a = await addCheckpoint(mirror, ledger, cp.treeSize, { ...cp, note: other });
      expect(a.status).toBe(422);
      expect(a.text).toMatch(/equivocation/);
      const ev = (await (await mirror.app.request("/v1/evidence")).json()) as { evidence: Array<{ note1: string; note2: string }> };
      expect(ev.evidence.length).toBe(1);
      expect(ev.evidence[0]!.note2).toBe(other);
      expect((await mirror.app.request("/healthz")).status).toBe(503);
      expect((await addEntries(mirror, await body(ledger, { start: cp.treeSize, end: cp.treeSize }))).status).toBe(503);
    });
  });
});

describe("a push mirror refuses a log that logged a record with a bad signature", () => {
  let dir: string;
  let ledger: Ledger;
  let mirror: Mirror;
  const locs: StoreLocation[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-mirror-push-bad-"));
    for (let i = 0; i < 2; i++) locs.push(await fixture.create());
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: join(dir, "log"), LEDGER_WRITER_TOKENS: TEST_WRITERS, BATCH_MAX_AGE_MS: "1", ...(locs[0]!.databaseUrl ? { DATABASE_URL: locs[0]!.databaseUrl } : {}) }), { explorer: false });
    const req = async (p: string, init?: RequestInit) => ledger.app.request(p, init);
    const k = testKey(701);
    expect((await postRecord(req, registerKey("npm:bad", k, "publish"))).status).toBe(201);
    expect((await postRecord(req, signRelease("npm:bad", k, "p", "1.0.0"))).status).toBe(201);
    const forged = signRelease("npm:bad", k, "p", "6.6.6") as LedgerRecord;
    forged.signatures = [{ ...forged.signatures[0]!, sig: (signRelease("npm:bad", k, "p", "1.0.0").signatures[0] as { sig: string }).sig }];
    await sequenceUnchecked(ledger, [forged]);
    mirror = await openPushMirror(ledger, dir, locs[1]!, { verifyThreads: 1 });
  });

  afterAll(async () => {
    await mirror?.close();
    await ledger?.close();
    for (const l of locs) await l.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores nothing of that package, answers 422 naming the index, and stops", async () => {
    const cp = await waitForCheckpoint(ledger, 3n);
    expect((await addCheckpoint(mirror, ledger, 0n, cp)).status).toBe(200);
    const a = await addEntries(mirror, await body(ledger, { start: 0n, end: cp.treeSize }));
    expect(a.status).toBe(422);
    expect(a.text).toMatch(/index 2: bad_signature/);
    expect(await mirror.store.entryCount()).toBe(0n);
    expect(await mirror.store.latestCheckpoint()).toBeUndefined();
    expect((await mirror.app.request("/healthz")).status).toBe(503);
  });
});
