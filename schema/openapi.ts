/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the same zod
 * schemas the server validates requests with and the tests parse responses
 * with (zod 4's toJSONSchema). Served at /openapi.json; test/openapi.test.ts
 * fails if a route of the server and this document disagree.
 */
import { z } from "zod";
import { RecordSchema } from "./records.js";
import {
  AppendResponse,
  ConsistencyProofResponse,
  EntriesResponse,
  EntryResponse,
  ErrorResponse,
  EvidenceResponse,
  GrowthResponse,
  HealthResponse,
  InclusionProofResponse,
  KeyResponse,
  LogInfoResponse,
  NamespaceEntriesResponse,
  NamespaceResponse,
  ReleaseResponse,
} from "./api.js";
import {
  ApprovalRequestResponse,
  DecisionBody,
  EnrollmentCredentialBody,
  EnrollmentOptionsBody,
  EnrollmentResponse,
  EnrollmentSignatureBody,
  OpenApprovalRequestBody,
  OpenApprovalResponse,
  PushSubscribeBody,
} from "./approvals.js";

type Body = { json: z.ZodType } | { text: string } | { binary: string } | { html: string };

interface Param {
  name: string;
  in: "path" | "query" | "header";
  description: string;
  required?: boolean;
  schema?: Record<string, unknown>;
}

interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  tag: "log" | "records" | "state" | "tiles" | "mirror" | "operations" | "approvals";
  params?: Param[];
  request?: z.ZodType;
  /** A request body that is not JSON (its media type). */
  rawRequest?: string;
  auth?: boolean;
  responses: Record<number, { description: string; body?: Body; headers?: Record<string, string> }>;
  /** The server's route pattern, where it differs from the path with {x} → :x. */
  route?: string;
}

const decimal = { type: "string", pattern: "^(0|[1-9][0-9]*)$" };
const err = (description: string) => ({ description, body: { json: ErrorResponse } });
const text = (d: string) => ({ text: d });

/** Every operation of the ledger's and the mirror's HTTP API. */
export const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/checkpoint",
    summary: "The latest signed checkpoint (C2SP tlog-checkpoint note), with the witnesses' cosignatures when configured",
    tag: "log",
    responses: { 200: { description: "a signed note", body: text("C2SP signed note") }, 503: err("no checkpoint yet") },
  },
  {
    method: "get",
    path: "/v1/log",
    summary: "The log's origin, verifier key, witnesses and latest checkpoint",
    tag: "log",
    responses: { 200: { description: "log info", body: { json: LogInfoResponse } }, 503: err("no checkpoint yet") },
  },
  {
    method: "get",
    path: "/v1/entries",
    summary: "A page of entries, oldest first",
    tag: "log",
    params: [
      { name: "start", in: "query", description: "first index (default 0)", schema: decimal },
      { name: "limit", in: "query", description: "at most this many, 1 to 1000 (default 100)", schema: decimal },
    ],
    responses: { 200: { description: "entries", body: { json: EntriesResponse } }, 400: err("bad parameter") },
  },
  {
    method: "get",
    path: "/v1/entries/{index}",
    summary: "One entry: its exact leaf bytes and leaf hash",
    tag: "log",
    params: [{ name: "index", in: "path", required: true, description: "entry index", schema: decimal }],
    responses: { 200: { description: "the entry", body: { json: EntryResponse } }, 400: err("bad index"), 404: err("no such entry") },
  },
  {
    method: "get",
    path: "/v1/proofs/inclusion",
    summary: "Inclusion proof of an entry (by index or leaf hash) in the tree of a size",
    tag: "log",
    params: [
      { name: "index", in: "query", description: "entry index (or leafHash)", schema: decimal },
      { name: "leafHash", in: "query", description: "base64 leaf hash (or index)", schema: { type: "string" } },
      { name: "treeSize", in: "query", description: "tree size (default: the latest checkpoint's)", schema: decimal },
    ],
    responses: { 200: { description: "the proof", body: { json: InclusionProofResponse } }, 400: err("bad parameter"), 404: err("no such leaf") },
  },
  {
    method: "get",
    path: "/v1/proofs/consistency",
    summary: "Consistency proof between two tree sizes",
    tag: "log",
    params: [
      { name: "size1", in: "query", required: true, description: "older size, > 0", schema: decimal },
      { name: "size2", in: "query", required: true, description: "newer size, at most the latest", schema: decimal },
    ],
    responses: { 200: { description: "the proof", body: { json: ConsistencyProofResponse } }, 400: err("bad parameter") },
  },
  {
    method: "post",
    path: "/v1/records",
    summary: "Append a signed record; answered once durable (201 new, 200 duplicate with the original index)",
    tag: "records",
    auth: true,
    params: [{ name: "wait", in: "query", description: "'checkpoint': also return the covering checkpoint, inclusion proof and C2SP tlog-proof", schema: { type: "string", enum: ["checkpoint"] } }],
    request: RecordSchema,
    responses: {
      200: { description: "already logged: the original index", body: { json: AppendResponse } },
      201: { description: "logged", body: { json: AppendResponse } },
      400: err("malformed record"),
      401: err("no or unknown writer token"),
      403: err("the token may not write this namespace"),
      409: err("conflicts with the namespace's state"),
      413: err("body too large"),
      415: err("not application/json"),
      422: err("a rule refused the record"),
      429: { ...err("over a rate limit"), headers: { "Retry-After": "seconds" } },
      503: { ...err("overloaded, store unavailable or not signing"), headers: { "Retry-After": "seconds" } },
    },
  },
  {
    method: "get",
    path: "/v1/namespaces/{namespace}",
    summary: "A namespace's replayed state: keys with their history, policy, newest releases, break-glass records",
    tag: "state",
    route: "/v1/namespaces/:ns",
    params: [{ name: "namespace", in: "path", required: true, description: "<ecosystem>:<name>, URL-encoded" }],
    responses: { 200: { description: "state", body: { json: NamespaceResponse } }, 400: err("bad namespace"), 404: err("no records") },
  },
  {
    method: "get",
    path: "/v1/namespaces/{namespace}/entries",
    summary: "A namespace's entries covered by the latest checkpoint, oldest first, a page at a time",
    tag: "state",
    route: "/v1/namespaces/:ns/entries",
    params: [
      { name: "namespace", in: "path", required: true, description: "<ecosystem>:<name>, URL-encoded" },
      { name: "after", in: "query", description: "entries with a larger index (the previous page's next)", schema: decimal },
      { name: "limit", in: "query", description: "1 to 1000 (default 100)", schema: decimal },
    ],
    responses: { 200: { description: "entries", body: { json: NamespaceEntriesResponse } }, 400: err("bad parameter") },
  },
  {
    method: "get",
    path: "/v1/keys/{keyId}",
    summary: "Where a key ID is registered, with its state in each namespace",
    tag: "state",
    params: [{ name: "keyId", in: "path", required: true, description: "lowercase hex SHA-256 of the public key" }],
    responses: { 200: { description: "registrations", body: { json: KeyResponse } }, 400: err("bad key ID"), 404: err("not registered") },
  },
  {
    method: "get",
    path: "/v1/releases/{namespace}/{package}/{version}",
    summary: "A release's verdict (signed, approved, revoked) with its inclusion proof; the package may contain '/'",
    tag: "state",
    route: "/v1/releases/:ns/:rest{.+}",
    params: [
      { name: "namespace", in: "path", required: true, description: "<ecosystem>:<name>, URL-encoded" },
      { name: "package", in: "path", required: true, description: "package name (an npm scope's '/' stays)" },
      { name: "version", in: "path", required: true, description: "version" },
    ],
    responses: { 200: { description: "the release", body: { json: ReleaseResponse } }, 400: err("bad path"), 404: err("not released") },
  },
  {
    method: "get",
    path: "/v1/growth",
    summary: "Tree size over time, sampled into equal time buckets (for charts)",
    tag: "state",
    params: [{ name: "points", in: "query", description: "2 to 500 (default 100)", schema: decimal }],
    responses: { 200: { description: "points, oldest first", body: { json: GrowthResponse } }, 400: err("bad parameter") },
  },
  {
    method: "get",
    path: "/tile/{path}",
    summary: "C2SP tlog-tiles: /tile/<L>/<N>[.p/<W>] hash tiles and /tile/entries/<N>[.p/<W>] entry bundles",
    tag: "tiles",
    route: "/tile/*",
    params: [{ name: "path", in: "path", required: true, description: "<L>/<N>[.p/<W>] or entries/<N>[.p/<W>], N in x001/234 form" }],
    responses: { 200: { description: "tile bytes (immutable)", body: { binary: "tile" } }, 404: err("no such tile") },
  },
  {
    method: "get",
    path: "/healthz",
    summary: "ok, or failing with the reason (database down, invariant failed, equivocation seen)",
    tag: "operations",
    responses: { 200: { description: "healthy", body: { json: HealthResponse } }, 503: { description: "failing", body: { json: HealthResponse } } },
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (text exposition format)",
    tag: "operations",
    responses: { 200: { description: "metrics", body: text("Prometheus text format 0.0.4") } },
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    tag: "operations",
    responses: { 200: { description: "OpenAPI 3.1", body: { text: "application/json" } } },
  },
  {
    method: "get",
    path: "/",
    summary: "The web explorer",
    tag: "operations",
    responses: { 200: { description: "HTML page", body: { html: "the explorer" } } },
  },
  {
    method: "get",
    path: "/explorer/app.js",
    summary: "The web explorer's script",
    tag: "operations",
    responses: { 200: { description: "JavaScript module", body: { text: "text/javascript" } } },
  },
  {
    method: "get",
    path: "/explorer/style.css",
    summary: "The web explorer's stylesheet",
    tag: "operations",
    responses: { 200: { description: "CSS", body: { text: "text/css" } } },
  },
  {
    method: "post",
    path: "/v1/approval-requests",
    summary: "Open an approval request for a logged release; every approver of its policy gets a push",
    tag: "approvals",
    auth: true,
    request: OpenApprovalRequestBody,
    responses: {
      201: { description: "opened", body: { json: OpenApprovalResponse } },
      400: err("malformed request"),
      401: err("no or unknown writer token"),
      403: err("the token may not write this namespace"),
      409: err("the release has an open request, or is decided, revoked, or has other artifacts (request_exists, release_approved, release_rejected, release_revoked, artifact_mismatch)"),
      422: err("the release is not logged, or no requester is named (unknown_release, requester_required, requester_mismatch)"),
    },
  },
  {
    method: "get",
    path: "/v1/approval-requests/{id}",
    summary: "A request, its state and each group's progress; ?wait=decided long-polls (at most 60 s)",
    tag: "approvals",
    route: "/v1/approval-requests/:id",
    params: [
      { name: "id", in: "path", description: "the request's ID" },
      { name: "wait", in: "query", description: "'decided': answer once the request is decided, or after the timeout", schema: { type: "string", enum: ["decided"] } },
      { name: "timeout", in: "query", description: "seconds to wait (at most 60)", schema: decimal },
    ],
    responses: { 200: { description: "the request", body: { json: ApprovalRequestResponse } }, 400: err("bad parameter"), 404: err("no such request") },
  },
  {
    method: "post",
    path: "/v1/approval-requests/{id}/decisions",
    summary: "An approver's decision, authenticated by its signature (a passkey assertion over the approval or rejection message)",
    tag: "approvals",
    route: "/v1/approval-requests/:id/decisions",
    params: [{ name: "id", in: "path", description: "the request's ID" }],
    request: DecisionBody,
    responses: {
      200: { description: "recorded; the request as it is now (approved or rejected when this decision completed it)", body: { json: ApprovalRequestResponse } },
      400: err("malformed decision"),
      403: err("not a current approve key in a group of the release's policy (not_a_member)"),
      404: err("no such request"),
      409: err("expired, decided, this key decided already, or the assertion was used before (request_expired, request_decided, duplicate_approver, assertion_replayed)"),
      422: err("the signature does not verify over this request's message, or lacks user verification (bad_signature, user_verification_required)"),
    },
  },
  {
    method: "get",
    path: "/v1/push/vapid-public-key",
    summary: "The VAPID public key (RFC 8292) for PushManager.subscribe's applicationServerKey",
    tag: "approvals",
    responses: { 200: { description: "base64url of the uncompressed P-256 point", body: { json: z.strictObject({ publicKey: z.string() }) } } },
  },
  {
    method: "post",
    path: "/v1/push/subscriptions",
    summary: "Subscribe a device to a key's approval requests; the key signs \"ledger-push/v1\\n\" ‖ JCS({keyId, endpoint})",
    tag: "approvals",
    request: PushSubscribeBody,
    responses: { 201: { description: "subscribed", body: { json: z.strictObject({ keyId: z.string(), endpoint: z.string() }) } }, 400: err("malformed"), 422: err("unknown key or bad signature") },
  },
  {
    method: "delete",
    path: "/v1/push/subscriptions",
    summary: "Unsubscribe; the key signs \"ledger-push/v1\\n\" ‖ JCS({keyId, endpoint, unsubscribe: true})",
    tag: "approvals",
    request: PushSubscribeBody,
    responses: { 204: { description: "unsubscribed" }, 404: err("no such subscription"), 422: err("unknown key or bad signature") },
  },
  {
    method: "post",
    path: "/v1/enrollments",
    summary: "Start a passkey enrolment in a namespace: WebAuthn registration options",
    tag: "approvals",
    request: EnrollmentOptionsBody,
    responses: { 201: { description: "the enrolment's ID and PublicKeyCredentialCreationOptionsJSON", body: { json: z.object({ id: z.string(), options: z.record(z.string(), z.unknown()) }) } }, 409: err("the namespace has no admin key") },
  },
  {
    method: "get",
    path: "/v1/enrollments/{id}",
    summary: "An enrolment: its pending key.register record, the bytes to sign, its state",
    tag: "approvals",
    route: "/v1/enrollments/:id",
    params: [{ name: "id", in: "path", description: "the enrolment's ID" }],
    responses: { 200: { description: "the enrolment", body: { json: EnrollmentResponse } }, 404: err("no such enrolment") },
  },
  {
    method: "post",
    path: "/v1/enrollments/{id}/credential",
    summary: "The browser's registration response (attestation none), verified; the passkey's key.register is made",
    tag: "approvals",
    route: "/v1/enrollments/:id/credential",
    params: [{ name: "id", in: "path", description: "the enrolment's ID" }],
    request: EnrollmentCredentialBody,
    responses: { 200: { description: "the enrolment", body: { json: EnrollmentResponse } }, 409: err("wrong state or expired"), 422: err("the registration does not verify (registration_failed)") },
  },
  {
    method: "post",
    path: "/v1/enrollments/{id}/signatures",
    summary: "A signature on the pending key.register: the passkey's own first, then admins'; logged at the admin threshold",
    tag: "approvals",
    route: "/v1/enrollments/:id/signatures",
    params: [{ name: "id", in: "path", description: "the enrolment's ID" }],
    request: EnrollmentSignatureBody,
    responses: { 200: { description: "the enrolment (state logged once the record is in the log)", body: { json: EnrollmentResponse } }, 409: err("wrong state"), 422: err("bad signature, not an admin, or no proof of possession") },
  },
  {
    method: "get",
    path: "/enroll",
    summary: "The enrolment page: create a passkey, subscribe this device",
    tag: "approvals",
    responses: { 200: { description: "HTML page", body: { html: "enrolment" } } },
  },
  {
    method: "get",
    path: "/approve/{id}",
    summary: "The approve page of a request",
    tag: "approvals",
    route: "/approve/:id",
    params: [{ name: "id", in: "path", description: "the request's ID" }],
    responses: { 200: { description: "HTML page", body: { html: "approve" } } },
  },
  {
    method: "get",
    path: "/explorer/enroll.js",
    summary: "The enrolment page's script",
    tag: "approvals",
    responses: { 200: { description: "JavaScript module", body: { text: "text/javascript" } } },
  },
  {
    method: "get",
    path: "/explorer/approve.js",
    summary: "The approve page's script",
    tag: "approvals",
    responses: { 200: { description: "JavaScript module", body: { text: "text/javascript" } } },
  },
  {
    method: "get",
    path: "/sw.js",
    summary: "The service worker that shows approval notifications",
    tag: "approvals",
    responses: { 200: { description: "JavaScript", body: { text: "text/javascript" } } },
  },
  {
    method: "post",
    path: "/add-checkpoint",
    summary:
      "Mirrors only: C2SP tlog-witness — cosign a checkpoint consistent with the one last cosigned (a pull mirror fetches and verifies its entries first); on a push mirror (--push) it moves the pending checkpoint instead (C2SP tlog-mirror), answering 200 with an empty body, and `old` is the pending size",
    tag: "mirror",
    responses: {
      200: { description: "cosignature lines (empty on a push mirror)", body: text("signature lines") },
      400: { description: "malformed request", body: text("reason") },
      403: { description: "not signed by the log", body: text("reason") },
      404: { description: "unknown origin", body: text("reason") },
      409: { description: "old size does not match: the size last cosigned", body: { text: "text/x.tlog.size" } },
      422: { description: "not cosigned: verification failed", body: text("reason") },
    },
  },
  {
    method: "post",
    path: "/add-entries",
    summary:
      "Push mirrors only (--push): C2SP tlog-mirror add-entries — a header (origin, upload_start, upload_end, ticket) and the canonical sequence of entry packages (aligned to 256, each entry uint16-length-prefixed, then num_hashes ≤ 63 and a subtree consistency proof against the pending checkpoint of size upload_end); gzip accepted. Each package is authenticated, verified as in pull mode and stored; once every entry is held the mirror checkpoint moves to upload_end and is cosigned",
    tag: "mirror",
    rawRequest: "application/octet-stream",
    responses: {
      200: { description: "all entries held, checkpoint cosigned: the mirror's cosignature lines", body: text("signature lines") },
      202: { description: "a prefix was stored: pending size, next entry, ticket", body: { text: "text/x.tlog.mirror-info" } },
      400: { description: "malformed, or cut before the first package ended, or bytes past the last package", body: text("reason") },
      404: { description: "unknown origin, or a pull mirror", body: text("reason") },
      409: { description: "upload_end is no valid pending size, or upload_start is past the next entry: pending size, next entry, ticket", body: { text: "text/x.tlog.mirror-info" } },
      415: { description: "not application/octet-stream, or an encoding other than gzip", body: text("reason") },
      422: { description: "no pending checkpoint yet, a package that does not authenticate, or a record the rules refuse", body: text("reason") },
      503: { description: "the mirror stopped (equivocation, or the log broke its rules)", body: text("reason") },
    },
  },
  {
    method: "get",
    path: "/{originHash}/tile/{path}",
    route: "/:originHash{[0-9a-f]{64}}/tile/*",
    summary: "Mirrors only: C2SP tlog-mirror monitoring prefix — the mirror's copy as tlog-tiles under the hex SHA-256 of the log's origin (the same tiles as /tile/{path})",
    tag: "mirror",
    params: [{ name: "path", in: "path", required: true, description: "<L>/<N>[.p/<W>] or entries/<N>[.p/<W>]" }],
    responses: { 200: { description: "tile bytes (immutable)", body: { binary: "tile" } }, 404: err("no such tile, or not this mirror's log") },
  },
  {
    method: "get",
    path: "/{originHash}/checkpoint",
    route: "/:originHash{[0-9a-f]{64}}/checkpoint",
    summary: "Mirrors only: C2SP tlog-witness monitor retrieval — the latest checkpoint this mirror cosigned for the log whose origin's SHA-256 (lowercase hex) is originHash, with the log's signature and its cosignature",
    tag: "mirror",
    responses: { 200: { description: "a signed note", body: text("C2SP signed note") }, 404: { description: "not this mirror's log, or nothing cosigned yet", body: text("reason") } },
  },
  {
    method: "get",
    path: "/v1/evidence",
    summary: "Mirrors only: equivocation evidence found by cross-checking (verify with verifyEquivocation)",
    tag: "mirror",
    responses: { 200: { description: "evidence", body: { json: EvidenceResponse } } },
  },
];

function content(body: Body | undefined): Record<string, unknown> | undefined {
  if (!body) return undefined;
  if ("json" in body) return { "application/json": { schema: z.toJSONSchema(body.json, { target: "draft-2020-12", io: "output", unrepresentable: "any" }) } };
  if ("binary" in body) return { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } };
  if ("html" in body) return { "text/html": { schema: { type: "string" } } };
  const type = body.text.includes("/") ? body.text : "text/plain";
  return { [type]: { schema: { type: "string" } } };
}

/** The OpenAPI 3.1 document; `serverUrl` fills `servers` when given. */
export function openApiDocument(opts: { version: string; serverUrl?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.body ? { content: content(r.body) } : {}),
        ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }])) } : {}),
      };
    }
    (paths[op.path] ??= {})[op.method] = {
      operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}` || "getRoot",
      summary: op.summary,
      tags: [op.tag],
      ...(op.route ? { "x-route": op.route } : {}),
      ...(op.params ? { parameters: op.params.map((p) => ({ name: p.name, in: p.in, description: p.description, required: p.in === "path" ? true : (p.required ?? false), schema: p.schema ?? { type: "string" } })) } : {}),
      ...(op.request ? { requestBody: { required: true, content: { "application/json": { schema: z.toJSONSchema(op.request, { target: "draft-2020-12", io: "input" }) } } } } : {}),
      ...(op.rawRequest ? { requestBody: { required: true, content: { [op.rawRequest]: { schema: { type: "string", contentMediaType: op.rawRequest } } } } } : {}),
      ...(op.auth ? { security: [{ writerToken: [] }] } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Ledger",
      version: opts.version,
      description: "Append-only transparency ledger for software supply chains: RFC 6962 Merkle tree, C2SP signed checkpoints, tlog-tiles and tlog-witness. Indices and sizes are decimal strings; hashes are base64. Errors are {error: {code, message}} (docs/api.md).",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    tags: [
      { name: "log", description: "checkpoints, entries and proofs" },
      { name: "records", description: "appending signed records (registries)" },
      { name: "state", description: "replayed namespace state" },
      { name: "tiles", description: "C2SP tlog-tiles" },
      { name: "mirror", description: "served by `ledger mirror` only" },
      { name: "operations", description: "health, metrics, this document, the explorer" },
      { name: "approvals", description: "the approval service: requests, decisions, push, passkey enrolment, its pages (the log only)" },
    ],
    paths,
    components: { securitySchemes: { writerToken: { type: "http", scheme: "bearer", description: "a registry's writer token (ledger token create)" } } },
  };
}
