/** untrusted: query and path parameters. */
import { parseBase64, parseDecimal } from "../../client/bytes.js";
import { canonicalNamespace, isCanonicalNamespace } from "../../client/namespace.js";
import { ApiError } from "../errors.js";

/** The largest index or size the store can hold (int8); nothing beyond it can exist. */
export const MAX_INDEX = (1n << 63n) - 1n;

export function decimalParam(value: string | undefined, name: string): bigint {
  if (value === undefined) throw new ApiError("invalid_parameter", `${name} is required`);
  let n: bigint;
  try {
    n = parseDecimal(value, name);
  } catch {
    throw new ApiError("invalid_parameter", `${name} must be a decimal integer without leading zeros`);
  }
  if (n > MAX_INDEX) throw new ApiError("invalid_parameter", `${name} ${value} is beyond the largest possible index ${MAX_INDEX}`);
  return n;
}

export function optionalDecimalParam(value: string | undefined, name: string): bigint | undefined {
  return value === undefined ? undefined : decimalParam(value, name);
}

export function hashParam(value: string | undefined, name: string): Uint8Array {
  if (value === undefined) throw new ApiError("invalid_parameter", `${name} is required`);
  let h: Uint8Array;
  try {
    // A '+' left unescaped in a query string arrives as a space; base64 has no spaces.
    h = parseBase64(value.replaceAll(" ", "+"));
  } catch {
    throw new ApiError("invalid_parameter", `${name} must be standard base64`);
  }
  if (h.length !== 32) throw new ApiError("invalid_parameter", `${name} must be 32 bytes`);
  return h;
}

/** One project, one namespace: a non-canonical name (`npm:@ACME`) is refused before anything else looks at it. */
export function requireCanonicalNamespace(namespace: string): void {
  if (!isCanonicalNamespace(namespace)) {
    throw new ApiError("non_canonical_namespace", `namespace ${namespace} is not canonical: ${canonicalNamespace(namespace)} names the same project`);
  }
}
