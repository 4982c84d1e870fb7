/**
 * untrusted: the JSON answers of a log or mirror, as the client reads them.
 * The shapes are schema/api.ts's (imported as types only: no zod here); each
 * parse* function checks what it uses and turns it into bytes and bigints, or
 * throws FormatError("bad_json") naming the request. Nothing from the network
 * reaches the verifier unparsed.
 */
import type { EntryJson, InclusionProofJson } from "../schema/api.js";
import { parseBase64, parseDecimal } from "./bytes.js";
import { FormatError, LedgerError } from "./errors.js";

function fail(what: string, why: string): never {
  throw new FormatError("bad_json", `${what}: ${why}`);
}

/** The object's own fields only (a null-prototype copy): nothing inherited is read as a field. */
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(what, "not a json object");
  return Object.assign(Object.create(null) as Record<string, unknown>, v);
}

function hash(v: unknown, what: string): Uint8Array {
  if (typeof v !== "string") fail(what, "a hash is not a string");
  let h: Uint8Array;
  try {
    h = parseBase64(v);
  } catch (e) {
    if (e instanceof LedgerError) fail(what, "a hash is not canonical base64");
    throw e;
  }
  if (h.length !== 32) fail(what, "a hash is not 32 bytes");
  return h;
}

function decimal(v: unknown, what: string, field: string): bigint {
  if (typeof v !== "string") fail(what, `${field} is not a decimal string`);
  try {
    return parseDecimal(v, field);
  } catch (e) {
    if (e instanceof LedgerError) fail(what, `${field} is not a decimal integer`);
    throw e;
  }
}

/** `{proof: [base64 hash…]}` of an inclusion or consistency proof answer (at most 63 hashes). */
export function parseProofResponse(v: unknown, what: string): Uint8Array[] {
  const proof = obj(v, what).proof;
  if (!Array.isArray(proof) || proof.length > 63) fail(what, "no proof of at most 63 hashes");
  return proof.map((h) => hash(h, what));
}

/** An inclusion proof answer: the index it names, and its proof. */
export function parseInclusionResponse(v: unknown, what: string): { index: bigint; proof: Uint8Array[] } {
  const body = obj(v, what) as Partial<Record<keyof InclusionProofJson, unknown>>;
  return { index: decimal(body.index, what, "index"), proof: parseProofResponse(body, what) };
}

/** One entry answer: the exact leaf bytes; the served leaf hash must be theirs. */
export function parseEntryResponse(v: unknown, what: string, leafHashOf: (entry: Uint8Array) => Uint8Array): Uint8Array {
  const body = obj(v, what) as Partial<Record<keyof EntryJson, unknown>>;
  if (typeof body.entry !== "string") fail(what, "no entry");
  let entry: Uint8Array;
  try {
    entry = parseBase64(body.entry);
  } catch (e) {
    if (e instanceof LedgerError) fail(what, "entry is not canonical base64");
    throw e;
  }
  if (body.leafHash !== undefined) {
    const served = hash(body.leafHash, what);
    const ours = leafHashOf(entry);
    if (served.length !== ours.length || served.some((b, i) => b !== ours[i])) fail(what, "served leaf hash is not the hash of its bytes");
  }
  return entry;
}

/** A page of entries (`{entries: [...]}`), as leaf bytes in order. */
export function parseEntriesResponse(v: unknown, what: string, leafHashOf: (entry: Uint8Array) => Uint8Array): Uint8Array[] {
  const entries = obj(v, what).entries;
  if (!Array.isArray(entries)) fail(what, "no entries");
  return entries.map((e) => parseEntryResponse(e, what, leafHashOf));
}
