import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes } from "./bytes.js";
import { FormatError } from "./errors.js";
import { ByteReader, canonicalPackages, encodeAddEntriesHeader, encodeEntryPackage, formatMirrorInfo, parseMirrorInfo, readAddEntriesHeader, readEntryPackage } from "./tlog-mirror.js";

/** Feeds bytes in chunks cut at the given points, as a network would. */
async function* chunks(b: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (b.length + 1)))].sort((x, y) => x - y)) {
    yield b.subarray(at, c);
    at = c;
  }
  yield b.subarray(at);
}

describe("the canonical sequence of entry packages (C2SP tlog-mirror)", () => {
  it("follows the spec's example arithmetic: aligned to 256, first and last clipped", () => {
    expect(canonicalPackages(5n, 5n)).toEqual([]);
    expect(canonicalPackages(0n, 256n)).toEqual([{ start: 0n, end: 256n, subtreeStart: 0n }]);
    expect(canonicalPackages(300n, 800n)).toEqual([
      { start: 300n, end: 512n, subtreeStart: 256n },
      { start: 512n, end: 768n, subtreeStart: 512n },
      { start: 768n, end: 800n, subtreeStart: 768n },
    ]);
    expect(canonicalPackages(300n, 800n, 1, 1)).toEqual([{ start: 512n, end: 768n, subtreeStart: 512n }]);
    expect(() => canonicalPackages(9n, 8n)).toThrow(FormatError);
  });

  it("covers [start, end) exactly, in order, each package inside one 256-aligned stretch", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 40n }), fc.integer({ min: 0, max: 3000 }), (start, len) => {
        const ps = canonicalPackages(start, start + BigInt(len));
        let at = start;
        for (const p of ps) {
          expect(p.start).toBe(at);
          expect(p.end > p.start).toBe(true);
          expect(p.subtreeStart % 256n).toBe(0n);
          expect(p.start - p.subtreeStart < 256n && p.end - p.subtreeStart <= 256n).toBe(true);
          at = p.end;
        }
        expect(at).toBe(start + BigInt(len));
      }),
    );
  });
});

describe("add-entries bodies read from a stream", () => {
  it("reads back what was written, however the body is cut into chunks", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (entries, proof, cuts) => {
          const head = { origin: "example.com/log", uploadStart: 3n, uploadEnd: 3n + BigInt(entries.length), ticket: new Uint8Array([1, 2]) };
          const body = concatBytes(encodeAddEntriesHeader(head), encodeEntryPackage(entries, proof));
          const r = new ByteReader(chunks(body, cuts));
          expect(await readAddEntriesHeader(r)).toEqual(head);
          const p = await readEntryPackage(r, entries.length);
          expect(p?.entries).toEqual(entries);
          expect(p?.proof).toEqual(proof);
          expect(await r.peek()).toBe(false);
        },
      ),
    );
  });

  it("a body cut anywhere reads as ended (undefined), never as a shorter package", async () => {
    const entries = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(9)];
    const pkg = encodeEntryPackage(entries, [new Uint8Array(32).fill(1)]);
    for (let cut = 0; cut < pkg.length; cut++) {
      expect(await readEntryPackage(new ByteReader(chunks(pkg.subarray(0, cut), [cut >> 1])), entries.length)).toBeUndefined();
    }
    const header = encodeAddEntriesHeader({ origin: "o", uploadStart: 0n, uploadEnd: 3n, ticket: new Uint8Array(0) });
    for (let cut = 0; cut < header.length; cut++) expect(await readAddEntriesHeader(new ByteReader(chunks(header.subarray(0, cut), [])))).toBeUndefined();
  });

  it("refuses more than 63 proof hashes, a start past the end and an origin that is not UTF-8", async () => {
    const bad = concatBytes(encodeEntryPackage([new Uint8Array([7])], []).subarray(0, 3), new Uint8Array([64]), new Uint8Array(64 * 32));
    await expect(readEntryPackage(new ByteReader(chunks(bad, [])), 1)).rejects.toThrow(/at most 63/);
    const swapped = encodeAddEntriesHeader({ origin: "o", uploadStart: 9n, uploadEnd: 3n, ticket: new Uint8Array(0) });
    await expect(readAddEntriesHeader(new ByteReader(chunks(swapped, [])))).rejects.toThrow(FormatError);
    const latin = concatBytes(new Uint8Array([0, 1, 0xff]), new Uint8Array(18));
    await expect(readAddEntriesHeader(new ByteReader(chunks(latin, [])))).rejects.toThrow(FormatError);
  });
});

describe("text/x.tlog.mirror-info", () => {
  it("round-trips and refuses anything but three newline-terminated lines of decimal, decimal, base64", () => {
    const i = { treeSize: 1300n, nextEntry: 1024n, ticket: new Uint8Array([1, 2, 3]) };
    expect(parseMirrorInfo(formatMirrorInfo(i))).toEqual(i);
    expect(parseMirrorInfo("5\n0\n\n")).toEqual({ treeSize: 5n, nextEntry: 0n, ticket: new Uint8Array(0) });
    for (const bad of ["5\n0\n", "5\n0\n\n\n", "5\n0\nAA\nextra\n", "05\n0\n\n", "5\n-1\n\n", "5\n0\n!!\n", "5 \n0\n\n", ""]) {
      expect(() => parseMirrorInfo(bad), JSON.stringify(bad)).toThrow(FormatError);
    }
  });
});
