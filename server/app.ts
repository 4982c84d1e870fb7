/** createApp wires routes to their dependencies; it does no I/O at import or creation. */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { Writer } from "./auth.js";
import type { NamespaceCache } from "./state/namespaces.js";
import { stateRoutes } from "./routes/state.js";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "./errors.js";
import type { Sequencer } from "./log/sequencer.js";
import { readRoutes } from "./routes/read.js";
import { tileRoutes } from "./routes/tiles.js";
import { recordRoutes } from "./routes/records.js";
import type { Store } from "./store/store.js";
import { HeadCache } from "./state/head.js";

export interface AppDeps {
  store: Store;
  /** The latest checkpoint for the read path (default: a cache refreshed every 100 ms). */
  head?: HeadCache;
  namespaces: NamespaceCache;
  origin: string;
  verifierKey: string;
  /** The write side; absent on a read-only mirror. */
  writer?: { requireWriter: MiddlewareHandler<{ Variables: { writer: Writer } }>; sequencer: Sequencer; maxBodyBytes: number };
  /** Why the service cannot be trusted right now, if so (makes /healthz fail). */
  failing?: () => string | undefined;
  /** The note /checkpoint serves; default the latest checkpoint. */
  servedCheckpoint?: () => Promise<string | undefined>;
  /** Routes of a role (mirror, witness) added before the shared ones. */
  extraRoutes?: (app: Hono) => void;
  /** Where unexpected errors are reported (never to the client). */
  logError?: (message: string, error: unknown) => void;
}

export function createApp(appDeps: AppDeps): Hono {
  const deps = { ...appDeps, head: appDeps.head ?? new HeadCache(appDeps.store) };
  const app = new Hono();
  const logError = deps.logError ?? ((m, e) => console.error(`ledger: ${m}:`, e));

  app.onError(function handleError(err, c) {
    if (err instanceof ApiError) return errorResponse(c, err);
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? "too_large" : err.status === 401 ? "unauthorized" : "bad_request";
      return errorResponse(c, new ApiError(code, err.message || "bad request"));
    }
    logError(`${c.req.method} ${c.req.path} failed`, err);
    return errorResponse(c, new ApiError("internal", "internal error"));
  });
  app.notFound((c) => errorResponse(c, new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`)));

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
  deps.extraRoutes?.(app);
  app.route("/", readRoutes(deps));
  app.route("/", tileRoutes(deps));
  if (deps.writer) app.route("/v1/records", recordRoutes({ ...deps, ...deps.writer }));
  app.route("/v1", stateRoutes(deps));
  return app;
}

function errorResponse(c: Context, e: ApiError): Response {
  if (e.retryAfter !== undefined) c.header("Retry-After", String(e.retryAfter));
  return c.json({ error: { code: e.code, message: e.message } }, e.status);
}
