import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { encodeHex } from "./bytes.js";
import { EMPTY_ROOT, hashChildren, hashLeaf, sha256, useNativeHash } from "./hash.js";

describe("SHA-256: node:crypto and noble give the same bytes", () => {
  afterEach(() => useNativeHash(true));

  it("on the RFC 6962 empty tree and leaf/node hashing of random input", () => {
    expect(encodeHex(EMPTY_ROOT)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (data, h) => {
        const run = () => [sha256(data), hashLeaf(data), hashChildren(h, data.subarray(0, 32))].map(encodeHex);
        useNativeHash(false);
        const noble = run();
        useNativeHash(true);
        expect(run()).toEqual(noble);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
