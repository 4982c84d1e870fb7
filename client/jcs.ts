/**
 * RFC 8785 JSON Canonicalization Scheme. Object keys sorted by UTF-16 code
 * units, no whitespace, ECMAScript number and string serialization.
 */
import { FormatError } from "./errors.js";
import { utf8 } from "./bytes.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function canonicalize(value: unknown): string {
  return canonicalizeAt(value, 0);
}

/** canonicalize for a value found at `depth` inside another (the nesting limit counts from the outer value). */
export function canonicalizeAt(value: unknown, depth: number): string {
  const parts: string[] = [];
  write(value, parts, depth);
  return parts.join("");
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalize(value));
}

const MAX_DEPTH = 64;

function write(value: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) throw new FormatError("bad_json", `json nested deeper than ${MAX_DEPTH}`);
  if (value === null) {
    out.push("null");
  } else if (typeof value === "boolean") {
    out.push(value ? "true" : "false");
  } else if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FormatError("bad_json", "json numbers must be finite");
    out.push(JSON.stringify(value)); // ECMAScript Number::toString, as RFC 8785 §3.2.2.3 requires
  } else if (typeof value === "string") {
    out.push(writeString(value));
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((v, i) => {
      if (i > 0) out.push(",");
      write(v, out, depth + 1);
    });
    out.push("]");
  } else if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    out.push("{");
    keys.forEach((k, i) => {
      if (i > 0) out.push(",");
      out.push(writeString(k), ":");
      write(obj[k], out, depth + 1);
    });
    out.push("}");
  } else {
    throw new FormatError("bad_json", `cannot canonicalize a ${typeof value}`);
  }
}

function writeString(s: string): string {
  if (!s.isWellFormed()) throw new FormatError("bad_json", "json strings must not contain lone surrogates");
  return JSON.stringify(s);
}
