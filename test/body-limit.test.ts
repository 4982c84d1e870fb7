/**
 * The body limit over a real socket (the in-process tests send no
 * Content-Length): with a Content-Length only the header is read and the
 * handler reads the body directly; a chunked body is counted as it streams.
 * Both refuse what is over the limit with 413 too_large and log nothing.
 */
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { TEST_TOKEN } from "./helpers/http.js";
import { useLedger } from "./helpers/ledger.js";
import { STORES } from "./helpers/stores.js";
import { registerKey, testKey } from "./helpers/records.js";

function post(port: number, body: string, mode: "length" | "chunked" | { lie: number }): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "content-type": "application/json", authorization: `Bearer ${TEST_TOKEN}` };
    if (mode === "length") headers["content-length"] = Buffer.byteLength(body);
    else if (mode === "chunked") headers["transfer-encoding"] = "chunked";
    else headers["content-length"] = mode.lie;
    const req = request({ host: "127.0.0.1", port, path: "/v1/records", method: "POST", headers }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on("error", reject);
    if (mode === "chunked") {
      // In pieces, as a streaming client would.
      for (let i = 0; i < body.length; i += 8192) req.write(body.slice(i, i + 8192));
      req.end();
    } else req.end(body);
  });
}

describe("request body limit over HTTP (LEDGER_MAX_BODY_BYTES)", () => {
  const t = useLedger(STORES[0]!, { env: { LEDGER_MAX_BODY_BYTES: "4096" }, serve: true });
  const port = () => Number(new URL(t.url).port);

  it("takes a record with a Content-Length and one sent chunked", async () => {
    expect((await post(port(), JSON.stringify(registerKey("npm:bl", testKey(1))), "length")).status).toBe(201);
    expect((await post(port(), JSON.stringify(registerKey("npm:bl2", testKey(2))), "chunked")).status).toBe(201);
  });

  it("refuses an oversized body either way with 413 too_large, and logs nothing", async () => {
    const before = await t.ledger.store.entryCount();
    const big = JSON.stringify({ ...registerKey("npm:bl3", testKey(3)), pad: "x".repeat(10_000) });
    for (const mode of ["length", "chunked"] as const) {
      const r = await post(port(), big, mode);
      expect([r.status, r.body.error.code]).toEqual([413, "too_large"]);
    }
    // A Content-Length that understates the body: Node reads only that many bytes, which are not the record.
    const r = await post(port(), JSON.stringify(registerKey("npm:bl4", testKey(4))), { lie: 20 });
    expect(r.status).toBe(400);
    expect(await t.ledger.store.entryCount()).toBe(before);
  });
});
