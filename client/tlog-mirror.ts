/**
 * C2SP tlog-mirror's wire formats: the `add-entries` request (a header, then
 * the canonical sequence of entry packages, each the entries of a stretch of
 * at most 256 with a subtree consistency proof) and the
 * `text/x.tlog.mirror-info` answer of 202 and 409. Pure formats: the log's
 * pusher writes them, the mirror reads them with `ByteReader` as the body
 * streams in.
 */
import { concatBytes, encodeBase64, parseBase64, parseDecimal, parseUtf8, uint64BE, utf8 } from "./bytes.js";
import { FormatError } from "./errors.js";
import { encodeEntryBundle } from "./tiles.js";

/** Entries per package: packages align with entry bundles. */
export const PACKAGE_WIDTH = 256n;
/** The most packages a client SHOULD put in one request (8,192 entries). */
export const MAX_PACKAGES_PER_REQUEST = 32;
export const MIRROR_INFO_TYPE = "text/x.tlog.mirror-info";

export interface AddEntriesHeader {
  origin: string;
  uploadStart: bigint;
  uploadEnd: bigint;
  ticket: Uint8Array;
}

/** One package of the canonical sequence: entries [start, end), proven as the subtree [subtreeStart, end). */
export interface PackageSpan {
  start: bigint;
  end: bigint;
  subtreeStart: bigint;
}

/** The canonical sequence of packages for [uploadStart, uploadEnd), from package `from` on, at most `limit` of them. */
export function canonicalPackages(uploadStart: bigint, uploadEnd: bigint, from = 0, limit = Infinity): PackageSpan[] {
  if (uploadStart > uploadEnd) throw new FormatError("bad_number", `upload_start ${uploadStart} is past upload_end ${uploadEnd}`);
  if (uploadStart === uploadEnd) return [];
  const roundedStart = uploadStart - (uploadStart % PACKAGE_WIDTH);
  const roundedEnd = uploadEnd + ((PACKAGE_WIDTH - (uploadEnd % PACKAGE_WIDTH)) % PACKAGE_WIDTH);
  const count = Number((roundedEnd - roundedStart) / PACKAGE_WIDTH);
  const out: PackageSpan[] = [];
  for (let i = from; i < count && out.length < limit; i++) {
    const subtreeStart = roundedStart + BigInt(i) * PACKAGE_WIDTH;
    const start = uploadStart > subtreeStart ? uploadStart : subtreeStart;
    const end = uploadEnd < subtreeStart + PACKAGE_WIDTH ? uploadEnd : subtreeStart + PACKAGE_WIDTH;
    out.push({ start, end, subtreeStart });
  }
  return out;
}

export function encodeAddEntriesHeader(h: AddEntriesHeader): Uint8Array {
  const origin = utf8(h.origin);
  if (origin.length > 0xffff) throw new FormatError("bad_number", "origin too long");
  if (h.ticket.length > 0xffff) throw new FormatError("bad_number", "ticket too long");
  return concatBytes(u16(origin.length), origin, uint64BE(h.uploadStart), uint64BE(h.uploadEnd), u16(h.ticket.length), h.ticket);
}

/** A package: its entries, each with a uint16 length, then num_hashes and the proof's hashes. */
export function encodeEntryPackage(entries: readonly Uint8Array[], proof: readonly Uint8Array[]): Uint8Array {
  if (proof.length > 63) throw new FormatError("bad_number", "a package proof has at most 63 hashes");
  return concatBytes(encodeEntryBundle([...entries]), new Uint8Array([proof.length]), ...proof);
}

function u16(n: number): Uint8Array {
  return new Uint8Array([n >> 8, n & 0xff]);
}

/** The body of a 202 or 409: a valid pending size, the next entry, the ticket. */
export interface MirrorInfo {
  treeSize: bigint;
  nextEntry: bigint;
  ticket: Uint8Array;
}

export function formatMirrorInfo(i: MirrorInfo): string {
  return `${i.treeSize}\n${i.nextEntry}\n${encodeBase64(i.ticket)}\n`;
}

/** untrusted: a mirror's `text/x.tlog.mirror-info` body. */
export function parseMirrorInfo(text: string): MirrorInfo {
  const lines = text.split("\n");
  if (lines.length !== 4 || lines[3] !== "") throw new FormatError("bad_number", "mirror info must be three lines, each ending in a newline");
  return { treeSize: parseDecimal(lines[0]!, "tree size"), nextEntry: parseDecimal(lines[1]!, "next entry"), ticket: lines[2] === "" ? new Uint8Array(0) : parseBase64(lines[2]!) };
}

/**
 * Reads exact byte counts from a stream of chunks (a request body), holding
 * only what the caller has not yet taken.
 */
export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Pulls chunks until `n` bytes are buffered or the stream ends; whether `n` are. */
  async #fill(n: number): Promise<boolean> {
    while (this.#buffered < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else if (r.value.length > 0) {
        this.#chunks.push(r.value);
        this.#buffered += r.value.length;
      }
    }
    return this.#buffered >= n;
  }

  /** Exactly n bytes, or undefined when the stream ends first. */
  async read(n: number): Promise<Uint8Array | undefined> {
    if (!(await this.#fill(n))) return undefined;
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, n - o);
      out.set(c.subarray(0, take), o);
      o += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    this.#buffered -= n;
    return out;
  }

  /** Whether any byte is left (reading ahead, without taking it). */
  peek(): Promise<boolean> {
    return this.#fill(1);
  }

  /** Stops reading the source (an error answer before the body is all sent). */
  async cancel(): Promise<void> {
    this.#done = true;
    this.#chunks = [];
    this.#buffered = 0;
    await this.#it.return?.().catch(() => {});
  }
}

/** untrusted: the request header; undefined when the body ends inside it; FormatError when it is malformed. */
export async function readAddEntriesHeader(r: ByteReader): Promise<AddEntriesHeader | undefined> {
  const ol = await r.read(2);
  if (!ol) return undefined;
  const originBytes = await r.read((ol[0]! << 8) | ol[1]!);
  const nums = originBytes && (await r.read(18));
  if (!originBytes || !nums) return undefined;
  const view = new DataView(nums.buffer, nums.byteOffset, nums.byteLength);
  const uploadStart = view.getBigUint64(0);
  const uploadEnd = view.getBigUint64(8);
  const ticket = await r.read(view.getUint16(16));
  if (!ticket) return undefined;
  let origin: string;
  try {
    origin = parseUtf8(originBytes);
  } catch {
    throw new FormatError("bad_note", "the origin is not UTF-8");
  }
  if (uploadStart > uploadEnd) throw new FormatError("bad_number", `upload_start ${uploadStart} is past upload_end ${uploadEnd}`);
  return { origin, uploadStart, uploadEnd, ticket: ticket.slice() };
}

/**
 * untrusted: one package of `count` entries; undefined when the body ends
 * inside it (the partial bytes are discarded); FormatError for more than 63
 * proof hashes.
 */
export async function readEntryPackage(r: ByteReader, count: number): Promise<{ entries: Uint8Array[]; proof: Uint8Array[] } | undefined> {
  const entries: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = await r.read(2);
    const e = len && (await r.read((len[0]! << 8) | len[1]!));
    if (!e) return undefined;
    entries.push(e.slice());
  }
  const nh = await r.read(1);
  if (!nh) return undefined;
  if (nh[0]! > 63) throw new FormatError("bad_number", `a package proof has at most 63 hashes, not ${nh[0]}`);
  const hashes = await r.read(32 * nh[0]!);
  if (!hashes) return undefined;
  return { entries, proof: Array.from({ length: nh[0]! }, (_, i) => hashes.slice(32 * i, 32 * i + 32)) };
}
