import { FormatError } from "./errors.js";

const textEncoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** untrusted: decodes UTF-8, refusing invalid sequences. */
export function parseUtf8(b: Uint8Array): string {
  try {
    return strictDecoder.decode(b);
  } catch {
    throw new FormatError("bad_note", "invalid utf-8");
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Node's Buffer when present: base64 and hex in native code (the server and
 * mirrors encode every hash they serve). Browsers take the portable path.
 * Both give the same strings; the tests run both.
 */
type NodeBufferLike = { from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: string): string }; from(s: string, enc: string): Uint8Array };
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;
let native = NodeBuffer !== undefined;

/** Tests only: switches the native (Buffer) encoding off and on. */
export function useNativeEncoding(on: boolean): void {
  native = on && NodeBuffer !== undefined;
}

export function encodeBase64(b: Uint8Array): string {
  if (native) return NodeBuffer!.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** untrusted: standard base64 (RFC 4648 §4) with padding, canonical encodings only. */
export function parseBase64(s: string): Uint8Array {
  if (typeof s !== "string" || !B64.test(s)) throw new FormatError("bad_base64", "invalid base64");
  if (native) {
    const buf = NodeBuffer!.from(s, "base64");
    const out = new Uint8Array(buf); // a copy: Buffer.from may hand out a slice of a shared pool
    if (encodeBase64(out) !== s) throw new FormatError("bad_base64", "non-canonical base64");
    return out;
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Refuse non-zero padding bits, so every byte string has exactly one encoding.
  if (encodeBase64(out) !== s) throw new FormatError("bad_base64", "non-canonical base64");
  return out;
}

export function encodeHex(b: Uint8Array): string {
  if (native) return NodeBuffer!.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** untrusted: lowercase or uppercase hex of even length. */
export function parseHex(s: string): Uint8Array {
  if (typeof s !== "string" || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new FormatError("bad_hex", "invalid hex");
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function uint32BE(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, false);
  return out;
}

export function uint64BE(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, false);
  return out;
}

/** untrusted: a non-negative decimal integer string without leading zeros (uint64). */
export function parseDecimal(s: string, what = "number"): bigint {
  if (typeof s !== "string" || !/^(0|[1-9][0-9]{0,19})$/.test(s)) {
    throw new FormatError("bad_number", `invalid ${what}: must be a decimal integer without leading zeros`);
  }
  const n = BigInt(s);
  if (n > 0xffff_ffff_ffff_ffffn) throw new FormatError("bad_number", `${what} out of range`);
  return n;
}
