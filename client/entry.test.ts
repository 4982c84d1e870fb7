/**
 * Entries, record hashes and signing messages are built from one
 * canonicalization per record (kept with the record object). They must be
 * byte for byte what canonicalizing the whole objects gives, for any record,
 * and a field replaced after the first use must be seen.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBase64, utf8 } from "./bytes.js";
import { formatEntry, parseEntry, recordHash, recordSigningMessage } from "./entry.js";
import { FormatError } from "./errors.js";
import { sha256 } from "./hash.js";
import { canonicalBytes, canonicalize } from "./jcs.js";

const json = fc.jsonValue({ maxDepth: 4 }).filter((v) => v === null || typeof v !== "number" || Number.isFinite(v));
const record = fc.record(
  {
    type: fc.oneof(fc.constantFrom("release.sign", "key.register"), fc.string()),
    namespace: fc.oneof(fc.constant("npm:@x"), fc.string()),
    statement: json,
    signatures: fc.array(fc.record({ keyId: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }), sig: fc.base64String() }, { noNullPrototype: true }), { maxLength: 3 }),
    extra: json,
  },
  { requiredKeys: ["type", "namespace", "statement"], noNullPrototype: true },
);

describe("one canonicalization per record", () => {
  it("formatEntry, recordHash and recordSigningMessage equal canonicalizing the whole objects; parseEntry takes the entry back", () => {
    fc.assert(
      fc.property(record, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (r, index, prev) => {
        const time = "2026-12-04T06:00:00.000Z";
        const want = canonicalBytes({ v: 1, index: index.toString(), prev: encodeBase64(prev), time, record: r });
        let got: Uint8Array;
        try {
          got = formatEntry({ index, prev, time, record: r as never });
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
          expect(want.length > 65535).toBe(true);
          return;
        }
        expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
        expect(recordHash(r as never)).toEqual(sha256(canonicalBytes(r)));
        expect(recordSigningMessage(r as never)).toEqual(utf8("ledger-record/v1\n" + canonicalize({ type: r.type, namespace: r.namespace, statement: r.statement })));
        const back = parseEntry(got);
        expect(back.index).toBe(index);
        expect(canonicalize(back.record)).toBe(canonicalize(r));
      }),
    );
  });

  it("a field replaced after the first use is seen (the signing message and hash follow it)", () => {
    const r = { type: "release.sign", namespace: "npm:@x", statement: { package: "p", version: "1.0.0" }, signatures: [] as unknown[] };
    const before = recordSigningMessage(r as never);
    const h = recordHash(r as never);
    r.statement = { package: "p", version: "6.6.6" };
    expect(recordSigningMessage(r as never)).not.toEqual(before);
    r.signatures = [{ keyId: "a".repeat(64), sig: "AA==" }];
    expect(recordHash(r as never)).not.toEqual(h);
    expect(recordHash(r as never)).toEqual(sha256(canonicalBytes(r)));
  });

  it("parseEntry refuses entries that are not canonical: spaces, key order, escapes, number forms", () => {
    const r = { type: "release.sign", namespace: "npm:@x", statement: { n: 1, s: "é" }, signatures: [] };
    const ok = new TextDecoder().decode(formatEntry({ index: 7n, prev: new Uint8Array(32), time: "2026-12-04T06:00:00.000Z", record: r as never }));
    expect(parseEntry(utf8(ok)).index).toBe(7n);
    for (const bad of [ok.replace('"index"', ' "index"'), ok.replace('{"n":1,"s":"é"}', '{"s":"é","n":1}'), ok.replace('"s":"é"', '"s":"\\u00e9"'), ok.replace('"n":1', '"n":1.0'), ok.replace('"index":"7"', '"index":7'), ok.replace('"index":"7"', '"index":"07"')]) {
      expect(bad).not.toBe(ok);
      expect(() => parseEntry(utf8(bad)), bad).toThrow(FormatError);
    }
  });
});
