/** createApp wires routes to their dependencies; it does no I/O at import or creation. */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { Writer } from "./auth.js";
import type { NamespaceCache } from "./state/namespaces.js";
import { stateRoutes } from "./routes/state.js";
import { HTTPException } from "hono/http-exception";
import { ApiError, toApiError } from "./errors.js";
import type { Sequencer } from "./log/sequencer.js";
import type { VerifyPool } from "../cli/verify-pool.js";
import { readRoutes } from "./routes/read.js";
import { tileRoutes } from "./routes/tiles.js";
import { recordRoutes } from "./routes/records.js";
import type { Store } from "./store/store.js";
import { HeadCache } from "./state/head.js";
import { NodeCache } from "./state/node-cache.js";
import type { NodeId } from "../client/merkle-tree.js";
import { randomUUID } from "node:crypto";
import { routePath } from "hono/route";
import { Metrics } from "./observability/metrics.js";
import { openApiDocument } from "../schema/openapi.js";
import { VERSION } from "./version.js";
import { REQUEST_ID_RE, silentLogger, type Logger } from "./observability/logger.js";

export type AppEnv = { Variables: { requestId: string; errorCode?: string } };

export interface AppDeps {
  store: Store;
  /** The latest checkpoint for the read path (default: a cache refreshed every 100 ms). */
  head?: HeadCache;
  namespaces: NamespaceCache;
  origin: string;
  verifierKey: string;
  /** The write side; absent on a read-only mirror. */
  writer?: { requireWriter: MiddlewareHandler<{ Variables: { writer: Writer } }>; sequencer: Sequencer; maxBodyBytes: number; verifyPool?: VerifyPool };
  /** Why the service cannot be trusted right now, if so (makes /healthz fail). */
  failing?: () => string | undefined;
  /** The note /checkpoint serves; default the latest checkpoint. */
  servedCheckpoint?: () => Promise<string | undefined>;
  /** Routes of a role (mirror, witness) added before the shared ones. */
  extraRoutes?: (app: Hono) => void;
  /** Structured logs: a line per request and every unexpected error (default: none). */
  logger?: Logger;
  /** Prometheus metrics served at /metrics (default: a fresh registry). */
  metrics?: Metrics;
  /** Witnesses the log submits to, named in /v1/log so clients and the explorer can verify cosignatures. */
  witnesses?: { quorum: number; vkeys: string[]; policy?: string };
  /** A mirror's lowercase hex SHA-256 of the origin: the tiles are also served under `/<it>/` (C2SP tlog-mirror). */
  originHash?: string;
  /** Bytes of tree nodes kept in memory for proofs and tiles (default 64 MiB). */
  nodeCacheBytes?: number;
  /** The web explorer's routes (`/` and its assets), if served. */
  explorer?: (app: Hono) => void;
  /** The approval service's API under /v1, if this process runs it. */
  approvals?: Hono<any>;
  /** Called before /metrics renders (gauges read from the database). */
  beforeMetrics?: () => Promise<void>;
}

export function createApp(appDeps: AppDeps): Hono {
  const head = appDeps.head ?? new HeadCache(appDeps.store);
  const nodeCache = new NodeCache(appDeps.store, () => head.get(), appDeps.nodeCacheBytes);
  const nodes = { readNodes: (ids: NodeId[]) => nodeCache.readNodes(ids), ranges: nodeCache.ranges };
  const deps = { ...appDeps, head, nodeCache, nodes };
  const app = new Hono<AppEnv>();
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? new Metrics();

  function errorResponse(c: Context<AppEnv>, e: ApiError): Response {
    if (e.retryAfter !== undefined) c.header("Retry-After", String(e.retryAfter));
    c.set("errorCode", e.code);
    metrics.errors.inc({ code: e.code });
    return c.json({ error: { code: e.code, message: e.message } }, e.status);
  }

  // Every request gets an ID (the client's X-Request-Id if it is safe to echo),
  // one log line and a count by route pattern, never by raw path.
  app.use(async function observe(c, next) {
    const given = c.req.header("x-request-id");
    const requestId = given !== undefined && REQUEST_ID_RE.test(given) ? given : randomUUID();
    c.set("requestId", requestId);
    // Set before the handler runs: setting a header on a finished response makes Hono copy
    // it into a full Fetch Response (a stream per request, measurably slower).
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    if (!c.res.headers.has("X-Request-Id")) c.header("X-Request-Id", requestId); // handlers that build their own Response
    const pattern = routePath(c, -1);
    const route = pattern === "/*" ? "(none)" : pattern; // "/*" alone: only this middleware matched
    metrics.httpRequests.inc({ method: c.req.method, route, status: c.res.status });
    if (logger.isLevelEnabled("info")) {
      const line = { reqId: requestId, method: c.req.method, path: c.req.path, route, status: c.res.status, ms: Math.round((performance.now() - started) * 10) / 10, code: c.get("errorCode") };
      if (c.res.status >= 500) logger.warn(line, "request failed");
      else logger.info(line, "request");
    }
  });

  app.onError(function handleError(err, c) {
    const mapped = toApiError(err);
    if (mapped) return errorResponse(c, mapped);
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? "too_large" : err.status === 401 ? "unauthorized" : "bad_request";
      return errorResponse(c, new ApiError(code, err.message || "bad request"));
    }
    logger.error({ reqId: c.get("requestId"), method: c.req.method, path: c.req.path, err }, "unexpected error");
    return errorResponse(c, new ApiError("internal", "internal error"));
  });
  app.notFound((c) => errorResponse(c, new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`)));

  let openapi: string | undefined;
  app.get("/openapi.json", (c) => {
    openapi ??= JSON.stringify(openApiDocument({ version: VERSION }), null, 2);
    return c.body(openapi, 200, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "public, max-age=300" });
  });

  app.get("/metrics", async function metricsRoute(c) {
    metrics.treeSize.set(Number((await deps.head.get())?.treeSize ?? 0n));
    await deps.beforeMetrics?.();
    return c.body(await metrics.render(), 200, { "Content-Type": metrics.contentType, "Cache-Control": "no-store" });
  });

  app.get("/healthz", async function health(c) {
    const reason = deps.failing?.();
    if (reason) return c.json({ status: "failing", reason }, 503);
    try {
      await deps.store.ping();
      const cp = await deps.head.get();
      return c.json({ status: "ok", treeSize: (cp?.treeSize ?? 0n).toString() });
    } catch {
      return c.json({ status: "failing", reason: "the database does not answer" }, 503);
    }
  });
  deps.extraRoutes?.(app as unknown as Hono);
  app.route("/", readRoutes(deps));
  const tiles = tileRoutes(deps);
  app.route("/", tiles);
  if (deps.originHash) {
    const prefix = "/:originHash{[0-9a-f]{64}}";
    app.use(`${prefix}/tile/*`, async function ownOrigin(c, next) {
      if (c.req.param("originHash") !== deps.originHash) throw new ApiError("not_found", "this mirror does not hold that log");
      await next();
    });
    app.route(prefix, tiles);
  }
  if (deps.writer) app.route("/v1/records", recordRoutes({ ...deps, ...deps.writer }));
  if (deps.approvals) app.route("/v1", deps.approvals);
  app.route("/v1", stateRoutes(deps));
  deps.explorer?.(app as unknown as Hono);
  return app as unknown as Hono;
}
