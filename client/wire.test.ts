/** Hostile answers from a log or mirror: every parse* function throws FormatError, never a TypeError. */
import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./bytes.js";
import { entryLeafHash } from "./entry.js";
import { FormatError } from "./errors.js";
import { parseEntriesResponse, parseEntryResponse, parseInclusionResponse, parseProofResponse } from "./wire.js";

const H = encodeBase64(new Uint8Array(32).fill(7));
const entry = new TextEncoder().encode('{"x":1}');
const good = { index: "3", entry: encodeBase64(entry), leafHash: encodeBase64(entryLeafHash(entry)) };

describe("client/wire", () => {
  it("reads well-formed answers", () => {
    expect(parseProofResponse({ proof: [H, H] }, "t")).toHaveLength(2);
    expect(parseInclusionResponse({ index: "9223372036854775807", treeSize: "1", leafHash: H, proof: [] }, "t").index).toBe(9223372036854775807n);
    expect(parseEntryResponse(good, "t", entryLeafHash)).toEqual(entry);
    expect(parseEntriesResponse({ entries: [good, good] }, "t", entryLeafHash)).toHaveLength(2);
  });
  it.each([
    ["null", () => parseProofResponse(null, "t")],
    ["an array", () => parseProofResponse([H], "t")],
    ["no proof", () => parseProofResponse({}, "t")],
    ["a proof of numbers", () => parseProofResponse({ proof: [1] }, "t")],
    ["a short hash", () => parseProofResponse({ proof: ["AAAA"] }, "t")],
    ["non-canonical base64", () => parseProofResponse({ proof: [H.replace(/=$/, "")] }, "t")],
    ["64 hashes", () => parseProofResponse({ proof: Array(64).fill(H) }, "t")],
    ["an index that is a number", () => parseInclusionResponse({ index: 3, proof: [] }, "t")],
    ["an index with a sign", () => parseInclusionResponse({ index: "-1", proof: [] }, "t")],
    ["an index past uint64", () => parseInclusionResponse({ index: "18446744073709551616", proof: [] }, "t")],
    ["an index with leading zeros", () => parseInclusionResponse({ index: "01", proof: [] }, "t")],
    ["an entry that is not a string", () => parseEntryResponse({ entry: {} }, "t", entryLeafHash)],
    ["a leaf hash of other bytes", () => parseEntryResponse({ ...good, leafHash: H }, "t", entryLeafHash)],
    ["entries that are not a list", () => parseEntriesResponse({ entries: "x" }, "t", entryLeafHash)],
    ["an entry inherited, not own", () => parseEntryResponse(Object.create({ entry: good.entry }), "t", entryLeafHash)],
  ])("refuses %s with FormatError", (_d, f) => {
    expect(f).toThrow(FormatError);
  });
});
