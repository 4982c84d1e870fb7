/** untrusted: JSON request bodies, checked against their zod schema; a 4xx naming the first problem otherwise. */
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
