/** untrusted: JSON request bodies, checked against their zod schema; a 4xx naming the first problem otherwise. */
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { ApiError, type ErrorCode } from "../errors.js";

/** Bodies are JSON: a Content-Type other than application/json is refused (415); none is taken as JSON. */
export function requireJsonContent(type: string | undefined, what: string): void {
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) throw new ApiError("unsupported_media_type", `${what} are sent as application/json`);
}

/** Parses `text` as JSON of `schema`; a parse error is 400 invalid_json, a schema error `code` naming the field. */
export function parseJsonBody<S extends z.ZodType>(text: string, schema: S, code: ErrorCode, what: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", "request body is not valid json");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(code, `${issue.path.length > 0 ? issue.path.join(".") : what}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Refuses bodies over `maxBytes` with 413 too_large. With a Content-Length
 * (what clients send), only the header is read: the handler's `c.req.text()`
 * then takes @hono/node-server's direct read of the body, without building a
 * Fetch Request (Hono's bodyLimit reads `c.req.raw.body`, which builds one on
 * every request: measurable per append). A chunked body is counted as it
 * streams and refused as soon as it passes the limit.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new ApiError("too_large", `request body exceeds ${maxBytes} bytes`);
  return async function limitBody(c, next) {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (!/^\d+$/.test(length.trim()) || Number(length) > maxBytes) throw tooLarge();
      return next();
    }
    const stream = c.req.raw.body;
    if (!stream) return next();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) });
    return next();
  };
}
