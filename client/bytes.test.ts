import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { encodeBase64, encodeHex, parseBase64, parseHex, useNativeEncoding } from "./bytes.js";
import { FormatError } from "./errors.js";

describe("base64 and hex: Node's native path and the browsers' portable path agree", () => {
  afterEach(() => useNativeEncoding(true));

  const both = <T>(f: () => T): [T, T] => {
    useNativeEncoding(false);
    const portable = f();
    useNativeEncoding(true);
    return [portable, f()];
  };

  it("encode and parse the same", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const [p64, n64] = both(() => encodeBase64(b));
        expect(n64).toBe(p64);
        expect(both(() => encodeHex(b))).toEqual([encodeHex(b), encodeHex(b)]);
        const [pp, np] = both(() => parseBase64(p64));
        expect(pp).toEqual(b);
        expect(np).toEqual(b);
        expect(parseHex(encodeHex(b))).toEqual(b);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it("both refuse non-canonical and malformed base64", () => {
    // AB==, QR==, QUJ= decode but have non-zero padding bits: another string encodes the same bytes.
    for (const bad of ["AB==", "QR==", "QUJ=", "A", "AAA", "AA=A", "AAAA\n", " AAAA", "AA-_", "Zm9v YmFy"]) {
      const run = (native: boolean) => {
        useNativeEncoding(native);
        return () => parseBase64(bad);
      };
      expect(run(false), bad).toThrow(FormatError);
      expect(run(true), bad).toThrow(FormatError);
    }
    useNativeEncoding(true);
    expect(parseBase64("QQ==")).toEqual(Uint8Array.of(0x41));
  });
});
