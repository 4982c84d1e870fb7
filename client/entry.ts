/**
 * Log entries: the exact leaf bytes, RFC 8785 canonical JSON of
 * {"v":1,"index","prev","time","record"}. `prev` is the leaf hash of the
 * previous entry (32 zero bytes for index 0), making the leaves a hash chain.
 */
import type { LedgerRecord } from "../schema/records.js";
import { bytesEqual, concatBytes, encodeBase64, encodeHex, parseBase64, parseDecimal, parseUtf8, utf8 } from "./bytes.js";
import { FormatError } from "./errors.js";
import { hashLeaf, sha256 } from "./hash.js";
import { canonicalBytes, canonicalize } from "./jcs.js";

export const ZERO_HASH = new Uint8Array(32);
/** Entries are served in tlog-tiles bundles with uint16 lengths. */
export const MAX_ENTRY_SIZE = 65535;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface Entry {
  index: bigint;
  prev: Uint8Array;
  time: string;
  record: LedgerRecord;
}

export function formatEntry(e: Entry): Uint8Array {
  if (!TIME_RE.test(e.time)) throw new FormatError("bad_json", "entry time must be RFC 3339 UTC with milliseconds");
  const bytes = canonicalBytes({ v: 1, index: e.index.toString(), prev: encodeBase64(e.prev), time: e.time, record: e.record });
  if (bytes.length > MAX_ENTRY_SIZE) throw new FormatError("bad_json", `entry of ${bytes.length} bytes exceeds ${MAX_ENTRY_SIZE}`);
  return bytes;
}

/**
 * untrusted: parses leaf bytes into an entry, requiring canonical JSON so
 * that every entry has exactly one byte encoding. The record is returned as
 * logged; replay validates its contents.
 */
export function parseEntry(bytes: Uint8Array): Entry {
  let v: unknown;
  try {
    v = JSON.parse(parseUtf8(bytes));
  } catch {
    throw new FormatError("bad_json", "entry is not json");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new FormatError("bad_json", "entry is not an object");
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(",");
  if (keys !== "index,prev,record,time,v" || o.v !== 1) throw new FormatError("bad_json", "entry fields must be v, index, prev, time, record");
  if (typeof o.time !== "string" || !TIME_RE.test(o.time)) throw new FormatError("bad_json", "entry time is not RFC 3339 UTC with milliseconds");
  if (typeof o.record !== "object" || o.record === null || Array.isArray(o.record)) throw new FormatError("bad_json", "entry record is not an object");
  const prev = parseBase64(o.prev as string);
  if (prev.length !== 32) throw new FormatError("bad_json", "entry prev must be 32 bytes");
  const entry: Entry = { index: parseDecimal(o.index as string, "index"), prev, time: o.time, record: o.record as LedgerRecord };
  if (!bytesEqual(canonicalBytes(v), bytes)) throw new FormatError("bad_json", "entry is not canonical json");
  return entry;
}

/** Leaf hash of entry bytes (RFC 6962). */
export function entryLeafHash(bytes: Uint8Array): Uint8Array {
  return hashLeaf(bytes);
}

/** Hash that identifies a record's content, used to answer duplicate submissions. */
export function recordHash(record: LedgerRecord): Uint8Array {
  return sha256(canonicalBytes(record));
}

const RECORD_DOMAIN = "ledger-record/v1\n";

/** The bytes every record signature covers: domain string ‖ JCS({type, namespace, statement}). */
export function recordSigningMessage(record: Pick<LedgerRecord, "type" | "namespace" | "statement">): Uint8Array {
  return concatBytes(utf8(RECORD_DOMAIN), utf8(canonicalize({ type: record.type, namespace: record.namespace, statement: record.statement })));
}

/** keyId = lowercase hex SHA-256 of the 32-byte public key. */
export function keyIdOf(publicKey: Uint8Array): string {
  return encodeHex(sha256(publicKey));
}
