/**
 * Log entries: the exact leaf bytes, RFC 8785 canonical JSON of
 * {"v":1,"index","prev","time","record"}. `prev` is the leaf hash of the
 * previous entry (32 zero bytes for index 0), making the leaves a hash chain.
 */
import type { LedgerRecord } from "../schema/records.js";
import { encodeBase64, encodeHex, parseBase64, parseDecimal, parseUtf8, utf8 } from "./bytes.js";
import { FormatError } from "./errors.js";
import { hashLeaf, sha256 } from "./hash.js";
import { canonicalizeAt } from "./jcs.js";

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

/**
 * One canonicalization per record: the JCS of a record, and of the part its
 * signatures cover, computed once and kept with the record object. Entries,
 * record hashes and signing messages are all built from these strings (the
 * record's canonical form is a substring of its entry's: keys sorted, no
 * whitespace). A hit is taken only while the record still holds the same
 * field values it was canonicalized with; records are not changed in place
 * once parsed (a field replaced is seen, a change deep inside one is not).
 */
interface CanonicalRecord {
  /** JCS of the whole record. */
  record: string;
  /** RECORD_DOMAIN ‖ JCS({type, namespace, statement}). */
  signing: Uint8Array;
  of: [unknown, unknown, unknown, unknown];
}

const canonicalRecords = new WeakMap<object, CanonicalRecord>();

function canonicalRecord(record: Pick<LedgerRecord, "type" | "namespace" | "statement"> & { signatures?: unknown }): CanonicalRecord {
  const of: CanonicalRecord["of"] = [record.type, record.namespace, record.statement, record.signatures];
  const hit = canonicalRecords.get(record);
  if (hit && hit.of.every((v, i) => v === of[i])) return hit;
  let signing: string;
  let whole: string;
  const keys = Object.keys(record).filter((k) => (record as Record<string, unknown>)[k] !== undefined);
  if (typeof record.type === "string" && typeof record.namespace === "string" && record.statement !== undefined) {
    // The same bytes as canonicalizing the objects below; nesting counted as inside an entry (the record at depth 1).
    const type = canonicalizeAt(record.type, 2);
    const namespace = canonicalizeAt(record.namespace, 2);
    const statement = canonicalizeAt(record.statement, 2);
    signing = `{"namespace":${namespace},"statement":${statement},"type":${type}}`;
    whole =
      record.signatures !== undefined && keys.length === 4
        ? `{"namespace":${namespace},"signatures":${canonicalizeAt(record.signatures, 2)},"statement":${statement},"type":${type}}`
        : canonicalizeAt(record, 1);
  } else {
    signing = canonicalizeAt({ type: record.type, namespace: record.namespace, statement: record.statement }, 1);
    whole = canonicalizeAt(record, 1);
  }
  const c = { record: whole, signing: utf8(RECORD_DOMAIN + signing), of };
  canonicalRecords.set(record, c);
  return c;
}

/** The entry's canonical JSON from its parts: keys index, prev, record, time, v in order, none needing escapes. */
function entryJson(index: string, prev: string, record: string, time: string): string {
  return `{"index":"${index}","prev":"${prev}","record":${record},"time":"${time}","v":1}`;
}

export function formatEntry(e: Entry): Uint8Array {
  if (!TIME_RE.test(e.time)) throw new FormatError("bad_json", "entry time must be RFC 3339 UTC with milliseconds");
  if (e.index < 0n) throw new FormatError("bad_json", "entry index must not be negative");
  const bytes = utf8(entryJson(e.index.toString(), encodeBase64(e.prev), canonicalRecord(e.record).record, e.time));
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
  let text: string;
  try {
    text = parseUtf8(bytes);
    v = JSON.parse(text);
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
  // index and prev were parsed strictly (decimal digits, base64) and time matched its pattern: none needs escaping.
  let canonical: string;
  try {
    canonical = entryJson(o.index as string, o.prev as string, canonicalRecord(entry.record).record, o.time);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError("bad_json", "entry record is not canonicalizable");
  }
  if (canonical !== text) throw new FormatError("bad_json", "entry is not canonical json");
  return entry;
}

/** Leaf hash of entry bytes (RFC 6962). */
export function entryLeafHash(bytes: Uint8Array): Uint8Array {
  return hashLeaf(bytes);
}

/** Hash that identifies a record's content, used to answer duplicate submissions. */
export function recordHash(record: LedgerRecord): Uint8Array {
  return sha256(utf8(canonicalRecord(record).record));
}

const RECORD_DOMAIN = "ledger-record/v1\n";

/** The bytes every record signature covers: domain string ‖ JCS({type, namespace, statement}). Shared: do not modify. */
export function recordSigningMessage(record: Pick<LedgerRecord, "type" | "namespace" | "statement">): Uint8Array {
  return canonicalRecord(record).signing;
}

/** keyId = lowercase hex SHA-256 of the 32-byte public key. */
export function keyIdOf(publicKey: Uint8Array): string {
  return encodeHex(sha256(publicKey));
}
