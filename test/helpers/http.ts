/** Reading a ledger over HTTP as an outside client would: only responses, parsed with the wire schemas. */
import type { z } from "zod";
import { parseBase64 } from "../../client/bytes.js";
import { openCheckpoint, type SignedCheckpoint } from "../../client/checkpoint.js";
import { createVerifier } from "../../client/note.js";
import * as api from "../../schema/api.js";

export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

export async function getJson<S extends z.ZodType>(fetch: Fetch, path: string, schema: S): Promise<z.infer<S>> {
  const res = await fetch(path);
  const body = await res.json();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)}`);
  return schema.parse(body);
}

/** The writer token tests configure with LEDGER_WRITER_TOKENS=`test:${TEST_TOKEN}:*`. */
export const TEST_TOKEN = "test-writer-token-0123456789abcdef";
export const TEST_WRITERS = `test:${TEST_TOKEN}:*`;

export async function postRecord(fetch: Fetch, record: unknown, query = "", token: string | null = TEST_TOKEN): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`/v1/records${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof record === "string" ? record : JSON.stringify(record),
  });
  const body = await res.json();
  if (res.status >= 400) api.ErrorResponse.parse(body);
  else api.AppendResponse.parse(body);
  return { status: res.status, body, headers: res.headers };
}

export async function fetchCheckpoint(fetch: Fetch, origin: string, vkey: string): Promise<SignedCheckpoint> {
  const res = await fetch("/checkpoint");
  if (res.headers.get("content-type") !== "text/plain; charset=utf-8") throw new Error("checkpoint content type");
  return openCheckpoint(await res.text(), { origin, logVerifier: createVerifier(vkey) });
}

export const b64 = parseBase64;
