/**
 * /openapi.json against the real routes: every route the log and the mirror
 * register is documented and every documented operation exists; real
 * requests to every operation (successes and refusals) answer with a status
 * the document lists, in its content type, with a body its JSON Schema
 * accepts (Ajv, draft 2020-12); the request schema accepts a signed record
 * and refuses malformed ones.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { createMirror, type Mirror } from "../server/mirror/mirror.js";
import { addEntriesBody } from "../server/log/witnesses.js";
import { parseCheckpoint } from "../client/checkpoint.js";
import { parseNote } from "../client/note.js";
import { appendDemo, ART, DEMO_CORE_KEYS, DEMO_NS, DEMO_PKG, demoKeys, type DemoLog } from "./helpers/demo.js";
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { approvalSigningMessage, pushSigningMessage } from "../client/replay.js";
import { SoftPasskey } from "./helpers/soft-passkey.js";
import { TEST_TOKEN, TEST_WRITERS } from "./helpers/http.js";
import { registerKey, testKey } from "./helpers/records.js";

type Doc = { paths: Record<string, Record<string, { "x-route"?: string; tags: string[]; requestBody?: any; responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

/** A request to make and the app (log or mirror) that serves it. */
interface Example {
  method: "get" | "post" | "delete";
  /** The documented path this request exercises. */
  op: string;
  url: string;
  on?: "mirror" | "push";
  init?: RequestInit;
}

describe("OpenAPI document", () => {
  let dir: string;
  let ledger: Ledger;
  let mirror: Mirror;
  let push: Mirror;
  let demo: DemoLog;
  let doc: Doc;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ledger-openapi-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: join(dir, "log"), LEDGER_WRITER_TOKENS: TEST_WRITERS, LEDGER_CORE_KEYS: DEMO_CORE_KEYS, BATCH_MAX_AGE_MS: "1" }));
    demo = await appendDemo(async (p, init) => ledger.app.request(p, init), 3);
    const viaLog: typeof fetch = async (input, init) => {
      const u = new URL(String(input));
      return await ledger.app.request(u.pathname + u.search, init);
    };
    mirror = await createMirror({ source: "http://log.test", logKey: ledger.signer.verifierKey, dataDir: join(dir, "mirror"), peers: [], intervalMs: 60_000 }, { fetch: viaLog, log: () => {} });
    push = await createMirror({ push: true, logKey: ledger.signer.verifierKey, dataDir: join(dir, "push"), peers: [], intervalMs: 60_000 }, { log: () => {} });
    doc = (await (await ledger.app.request("/openapi.json")).json()) as Doc;
  }, 60_000);

  afterAll(async () => {
    await mirror?.close();
    await push?.close();
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Route patterns the app registered, as "method path" (middleware excluded). */
  function routesOf(app: Hono): Set<string> {
    return new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${r.path}`));
  }

  function documentedRoutes(tag?: (t: string) => boolean): Set<string> {
    const out = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (tag && !tag(op.tags[0]!)) continue;
        out.add(`${method} ${op["x-route"] ?? path.replace(/\{(\w+)\}/g, ":$1")}`);
      }
    }
    return out;
  }

  it("documents exactly the log's routes", () => {
    expect([...routesOf(ledger.app)].sort()).toEqual([...documentedRoutes((t) => t !== "mirror")].sort());
  });

  it("documents exactly the mirror's routes (the log's read API, tlog-witness, evidence; no appends)", () => {
    expect([...routesOf(mirror.app)].sort()).toEqual([...documentedRoutes((t) => t !== "records" && t !== "approvals")].sort());
  });

  it("every operation answers real requests as documented: status, content type and body schema", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const entry = await (await ledger.app.request(`/v1/entries/${demo.at.release1}`)).json();
    const checkpoint = await (await ledger.app.request("/checkpoint")).text();
    const checkpointSize = parseCheckpoint(parseNote(checkpoint).text).treeSize;
    const uploadAll = (await addEntriesBody(ledger.store, ledger.origin, 0n, checkpointSize)).body;
    const uploadSome = (await addEntriesBody(ledger.store, ledger.origin, 0n, checkpointSize - 1n)).body; // no such pending size: 409
    const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({ method: "POST", body, headers: { "content-type": "application/json", authorization: `Bearer ${TEST_TOKEN}`, ...headers } });
    const newRecord = JSON.stringify(registerKey("npm:openapi", testKey(400)));
    const examples: Example[] = [
      { method: "get", op: "/checkpoint", url: "/checkpoint" },
      { method: "get", op: "/v1/log", url: "/v1/log" },
      { method: "get", op: "/v1/entries", url: "/v1/entries?start=2&limit=3" },
      { method: "get", op: "/v1/entries", url: "/v1/entries?limit=5000" },
      { method: "get", op: "/v1/entries/{index}", url: `/v1/entries/${demo.at.admin}` },
      { method: "get", op: "/v1/entries/{index}", url: "/v1/entries/99999" },
      { method: "get", op: "/v1/entries/{index}", url: "/v1/entries/-1" },
      { method: "get", op: "/v1/proofs/inclusion", url: `/v1/proofs/inclusion?index=3&treeSize=${demo.size}` },
      { method: "get", op: "/v1/proofs/inclusion", url: `/v1/proofs/inclusion?leafHash=${encodeURIComponent(entry.leafHash)}` },
      { method: "get", op: "/v1/proofs/inclusion", url: `/v1/proofs/inclusion?leafHash=${encodeURIComponent("A".repeat(43) + "=")}` },
      { method: "get", op: "/v1/proofs/inclusion", url: "/v1/proofs/inclusion" },
      { method: "get", op: "/v1/proofs/consistency", url: `/v1/proofs/consistency?size1=3&size2=${demo.size}` },
      { method: "get", op: "/v1/proofs/consistency", url: "/v1/proofs/consistency?size1=0&size2=1" },
      { method: "post", op: "/v1/records", url: "/v1/records", init: post(newRecord) },
      { method: "post", op: "/v1/records", url: "/v1/records?wait=checkpoint", init: post(newRecord) },
      { method: "post", op: "/v1/records", url: "/v1/records", init: post("{") },
      { method: "post", op: "/v1/records", url: "/v1/records", init: post(newRecord, { authorization: "Bearer nope-nope-nope-nope" }) },
      { method: "post", op: "/v1/records", url: "/v1/records", init: post(newRecord, { "content-type": "text/plain" }) },
      { method: "post", op: "/v1/records", url: "/v1/records", init: post(JSON.stringify(registerKey(DEMO_NS, testKey(401)))) },
      { method: "post", op: "/v1/records", url: "/v1/records", init: post(JSON.stringify(registerKey(DEMO_NS, demoKeys.admin))) },
      { method: "get", op: "/v1/namespaces/{namespace}", url: `/v1/namespaces/${encodeURIComponent(DEMO_NS)}` },
      { method: "get", op: "/v1/namespaces/{namespace}", url: "/v1/namespaces/npm%3Anobody" },
      { method: "get", op: "/v1/namespaces/{namespace}", url: "/v1/namespaces/NOT%20A%20NAMESPACE" },
      { method: "get", op: "/v1/namespaces/{namespace}/entries", url: `/v1/namespaces/${encodeURIComponent(DEMO_NS)}/entries?limit=2` },
      { method: "get", op: "/v1/namespaces/{namespace}/entries", url: `/v1/namespaces/${encodeURIComponent(DEMO_NS)}/entries?after=x` },
      { method: "get", op: "/v1/keys/{keyId}", url: `/v1/keys/${demoKeys.stranger.keyId}` },
      { method: "get", op: "/v1/keys/{keyId}", url: `/v1/keys/${"0".repeat(64)}` },
      { method: "get", op: "/v1/keys/{keyId}", url: "/v1/keys/xyz" },
      { method: "get", op: "/v1/releases/{namespace}/{package}/{version}", url: `/v1/releases/${encodeURIComponent(DEMO_NS)}/${DEMO_PKG}/1.0.0` },
      { method: "get", op: "/v1/releases/{namespace}/{package}/{version}", url: `/v1/releases/${encodeURIComponent(DEMO_NS)}/${DEMO_PKG}/9.9.9` },
      { method: "get", op: "/v1/releases/{namespace}/{package}/{version}", url: `/v1/releases/${encodeURIComponent(DEMO_NS)}/nopath` },
      { method: "get", op: "/v1/growth", url: "/v1/growth?points=10" },
      { method: "get", op: "/v1/growth", url: "/v1/growth?points=1" },
      { method: "get", op: "/tile/{path}", url: "/tile/0/000.p/3" },
      { method: "get", op: "/tile/{path}", url: "/tile/entries/000.p/3" },
      { method: "get", op: "/tile/{path}", url: "/tile/0/x999/999" },
      { method: "get", op: "/healthz", url: "/healthz" },
      { method: "get", op: "/metrics", url: "/metrics" },
      { method: "get", op: "/openapi.json", url: "/openapi.json" },
      { method: "get", op: "/", url: "/" },
      { method: "get", op: "/explorer/app.js", url: "/explorer/app.js" },
      { method: "get", op: "/explorer/style.css", url: "/explorer/style.css" },
      { method: "post", op: "/add-checkpoint", url: "/add-checkpoint", on: "mirror", init: { method: "POST", body: `old 0\n\n${checkpoint}` } },
      { method: "post", op: "/add-checkpoint", url: "/add-checkpoint", on: "mirror", init: { method: "POST", body: `old 0\n\n${checkpoint}` } },
      { method: "post", op: "/add-checkpoint", url: "/add-checkpoint", on: "mirror", init: { method: "POST", body: "garbage" } },
      { method: "post", op: "/add-checkpoint", url: "/add-checkpoint", on: "mirror", init: { method: "POST", body: `old 0\n\n${checkpoint.replace(/^[^\n]+/, "other.example/log")}` } },
      { method: "get", op: "/{originHash}/checkpoint", url: `/${createHash("sha256").update(ledger.origin).digest("hex")}/checkpoint`, on: "mirror" },
      { method: "get", op: "/{originHash}/tile/{path}", url: `/${createHash("sha256").update(ledger.origin).digest("hex")}/tile/entries/000.p/${checkpointSize}`, on: "mirror" },
      { method: "get", op: "/{originHash}/tile/{path}", url: `/${"0".repeat(64)}/tile/entries/000.p/3`, on: "mirror" },
      // A pull mirror takes no uploads; a push mirror (test/mirror-push.test.ts runs every status) before its pending checkpoint, then after.
      { method: "post", op: "/add-entries", url: "/add-entries", on: "mirror", init: { method: "POST", body: new Uint8Array(4), headers: { "content-type": "application/octet-stream" } } },
      { method: "post", op: "/add-entries", url: "/add-entries", on: "push", init: { method: "POST", body: uploadAll as BodyInit, headers: { "content-type": "application/octet-stream" } } },
      { method: "post", op: "/add-entries", url: "/add-entries", on: "push", init: { method: "POST", body: uploadAll.subarray(0, 20) as BodyInit, headers: { "content-type": "application/octet-stream" } } },
      { method: "post", op: "/add-entries", url: "/add-entries", on: "push", init: { method: "POST", body: uploadAll as BodyInit, headers: { "content-type": "text/plain" } } },
      { method: "post", op: "/add-checkpoint", url: "/add-checkpoint", on: "push", init: { method: "POST", body: `old 0\n\n${checkpoint}` } },
      { method: "post", op: "/add-entries", url: "/add-entries", on: "push", init: { method: "POST", body: uploadSome as BodyInit, headers: { "content-type": "application/octet-stream" } } },
      { method: "post", op: "/add-entries", url: "/add-entries", on: "push", init: { method: "POST", body: uploadAll as BodyInit, headers: { "content-type": "application/octet-stream" } } },
      { method: "get", op: "/{originHash}/checkpoint", url: `/${"0".repeat(64)}/checkpoint`, on: "mirror" },
      { method: "get", op: "/v1/evidence", url: "/v1/evidence", on: "mirror" },
      { method: "get", op: "/v1/log", url: "/v1/log", on: "mirror" },
    ];
    const seen = new Map<string, Set<string>>();
    async function check(ex: Example): Promise<any> {
      const res = await (ex.on === "mirror" ? mirror.app : ex.on === "push" ? push.app : ledger.app).request(ex.url, ex.init);
      const what = `${ex.method.toUpperCase()} ${ex.url} → ${res.status}`;
      const op = doc.paths[ex.op]?.[ex.method];
      expect(op, `${ex.op} is not documented`).toBeDefined();
      const documented = op!.responses[String(res.status)];
      expect(documented, `${what}: status not documented`).toBeDefined();
      (seen.get(`${ex.method} ${ex.op}`) ?? seen.set(`${ex.method} ${ex.op}`, new Set()).get(`${ex.method} ${ex.op}`)!).add(String(res.status));
      if (res.status === 204) return undefined;
      const types = Object.keys(documented!.content ?? {});
      const got = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
      expect(types, `${what}: content type ${got} not documented`).toContain(got);
      if (got === "application/json" && ex.op !== "/openapi.json") {
        const validate = ajv.compile(documented!.content![got]!.schema);
        const body = await res.json();
        expect(validate(body), `${what}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(body).slice(0, 300)}`).toBe(true);
        return body;
      }
      return undefined;
    }
    for (const ex of examples) await check(ex);
    // The approval service, in order: its requests refer to what came before.
    const json = (method: string, b: unknown, token = true): RequestInit => ({ method, body: JSON.stringify(b), headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${TEST_TOKEN}` } : {}) } });
    const open = { namespace: DEMO_NS, package: DEMO_PKG, version: "1.1.0", artifacts: ART("1.1.0") };
    const AR = "/v1/approval-requests";
    const opened = await check({ method: "post", op: AR, url: AR, init: json("POST", open) });
    await check({ method: "post", op: AR, url: AR, init: json("POST", open) }); // 409 request_exists
    await check({ method: "post", op: AR, url: AR, init: json("POST", { ...open, version: "9.9.9" }) }); // 422 unknown_release
    await check({ method: "post", op: AR, url: AR, init: json("POST", open, false) }); // 401
    await check({ method: "post", op: AR, url: AR, init: json("POST", { ...open, extra: 1 }) }); // 400
    const one = `${AR}/{id}`;
    await check({ method: "get", op: one, url: `${AR}/${opened.id}` });
    await check({ method: "get", op: one, url: `${AR}/${opened.id}?wait=decided&timeout=0` });
    await check({ method: "get", op: one, url: `${AR}/nope` });
    await check({ method: "get", op: one, url: `${AR}/${opened.id}?wait=later` });
    const request = { ...open, namespace: DEMO_NS, requester: demoKeys.approve.keyId };
    const sig = (k: typeof demoKeys.approve, m: Uint8Array) => ({ keyId: k.keyId, sig: encodeBase64(ed25519Sign(k.seed, m)) });
    const dec = `${AR}/{id}/decisions`;
    await check({ method: "post", op: dec, url: `${AR}/${opened.id}/decisions`, init: json("POST", { decision: "approve", signature: sig(demoKeys.admin, approvalSigningMessage(request)) }, false) }); // 403
    await check({ method: "post", op: dec, url: `${AR}/${opened.id}/decisions`, init: json("POST", { decision: "approve", signature: { ...sig(demoKeys.admin, approvalSigningMessage(request)), keyId: demoKeys.approve.keyId } }, false) }); // 422
    await check({ method: "post", op: dec, url: `${AR}/${opened.id}/decisions`, init: json("POST", { decision: "maybe" }, false) }); // 400
    await check({ method: "post", op: dec, url: `${AR}/nope/decisions`, init: json("POST", { decision: "approve", signature: sig(demoKeys.approve, approvalSigningMessage(request)) }, false) }); // 404
    const approved = await check({ method: "post", op: dec, url: `${AR}/${opened.id}/decisions`, init: json("POST", { decision: "approve", signature: sig(demoKeys.approve, approvalSigningMessage(request)) }, false) });
    expect(approved.state).toBe("approved");
    await check({ method: "post", op: dec, url: `${AR}/${opened.id}/decisions`, init: json("POST", { decision: "approve", signature: sig(demoKeys.approve, approvalSigningMessage(request)) }, false) }); // 409
    await check({ method: "get", op: "/v1/push/vapid-public-key", url: "/v1/push/vapid-public-key" });
    const sub = { endpoint: "https://push.example/x", keys: { p256dh: "BA", auth: "AA" } };
    const PS = "/v1/push/subscriptions";
    await check({ method: "post", op: PS, url: PS, init: json("POST", { subscription: sub, signature: sig(demoKeys.approve, pushSigningMessage(demoKeys.approve.keyId, sub.endpoint)) }, false) });
    await check({ method: "post", op: PS, url: PS, init: json("POST", { subscription: sub, signature: { ...sig(demoKeys.admin, pushSigningMessage(demoKeys.approve.keyId, sub.endpoint)), keyId: demoKeys.approve.keyId } }, false) }); // 422
    await check({ method: "post", op: PS, url: PS, init: json("POST", { subscription: {} }, false) }); // 400
    await check({ method: "delete", op: PS, url: PS, init: json("DELETE", { subscription: sub, signature: sig(demoKeys.approve, pushSigningMessage(demoKeys.approve.keyId, sub.endpoint, true)) }, false) });
    await check({ method: "delete", op: PS, url: PS, init: json("DELETE", { subscription: sub, signature: sig(demoKeys.approve, pushSigningMessage(demoKeys.approve.keyId, sub.endpoint, true)) }, false) }); // 404
    const EN = "/v1/enrollments";
    const begun = await check({ method: "post", op: EN, url: EN, init: json("POST", { namespace: DEMO_NS, label: "openapi" }, false) });
    await check({ method: "post", op: EN, url: EN, init: json("POST", { namespace: "npm:nobody", label: "x" }, false) }); // 409
    await check({ method: "get", op: `${EN}/{id}`, url: `${EN}/${begun.id}` });
    await check({ method: "get", op: `${EN}/{id}`, url: `${EN}/nope` });
    const passkey = new SoftPasskey();
    await check({ method: "post", op: `${EN}/{id}/credential`, url: `${EN}/${begun.id}/credential`, init: json("POST", { response: passkey.registration("AAAA") }, false) }); // 422
    const unsigned = await check({ method: "post", op: `${EN}/{id}/credential`, url: `${EN}/${begun.id}/credential`, init: json("POST", { response: passkey.registration(begun.options.challenge) }, false) });
    await check({ method: "post", op: `${EN}/{id}/credential`, url: `${EN}/${begun.id}/credential`, init: json("POST", { response: passkey.registration(begun.options.challenge) }, false) }); // 409
    const m = Buffer.from(unsigned.message, "base64");
    await check({ method: "post", op: `${EN}/{id}/signatures`, url: `${EN}/${begun.id}/signatures`, init: json("POST", { signature: sig(demoKeys.admin, m) }, false) }); // 422 no proof of possession
    await check({ method: "post", op: `${EN}/{id}/signatures`, url: `${EN}/${begun.id}/signatures`, init: json("POST", { signature: passkey.signature(m) }, false) });
    const logged = await check({ method: "post", op: `${EN}/{id}/signatures`, url: `${EN}/${begun.id}/signatures`, init: json("POST", { signature: sig(demoKeys.admin, m) }, false) });
    expect(logged.state).toBe("logged");
    await check({ method: "post", op: `${EN}/{id}/signatures`, url: `${EN}/${begun.id}/signatures`, init: json("POST", { signature: sig(demoKeys.admin, m) }, false) }); // 409
    for (const [op, url] of [["/enroll", "/enroll"], ["/approve/{id}", `/approve/${opened.id}`], ["/explorer/enroll.js", "/explorer/enroll.js"], ["/explorer/approve.js", "/explorer/approve.js"], ["/sw.js", "/sw.js"]] as const) {
      await check({ method: "get", op, url });
    }
    // Every documented operation was exercised, and each answered with a success.
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const statuses = seen.get(`${method} ${path}`);
        expect(statuses, `${method} ${path} has no example request`).toBeDefined();
        expect([...statuses!].some((s) => s.startsWith("2")), `${method} ${path} never succeeded: ${[...statuses!]}`).toBe(true);
      }
    }
  }, 60_000);

  it("the request schema accepts a signed record and refuses malformed ones", () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(doc.paths["/v1/records"]!.post!.requestBody.content["application/json"].schema);
    const good = registerKey("npm:x", testKey(1));
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, type: "key.delete" })).toBe(false);
    expect(validate({ ...good, extra: 1 })).toBe(false);
    expect(validate({ ...good, namespace: "no namespace" })).toBe(false);
    expect(validate({ ...good, signatures: [] })).toBe(false);
  });
});
