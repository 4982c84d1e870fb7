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

export interface AppDeps {
  store: Store;
  namespaces: NamespaceCache;
  requireWriter: MiddlewareHandler<{ Variables: { writer: Writer } }>;
  sequencer: Sequencer;
  origin: string;
  verifierKey: string;
  maxBodyBytes: number;
  /** Where unexpected errors are reported (never to the client). */
  logError?: (message: string, error: unknown) => void;
}

export function createApp(deps: AppDeps): Hono {
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
    const fatal = deps.sequencer.fatal;
    if (fatal) return c.json({ status: "failing", reason: `stopped signing: ${fatal.message}` }, 503);
    try {
      await deps.store.ping();
      const cp = await deps.store.latestCheckpoint();
      return c.json({ status: "ok", treeSize: (cp?.treeSize ?? 0n).toString() });
    } catch {
      return c.json({ status: "failing", reason: "the database does not answer" }, 503);
    }
  });
  app.route("/", readRoutes(deps));
  app.route("/", tileRoutes(deps));
  app.route("/v1/records", recordRoutes(deps));
  app.route("/v1", stateRoutes(deps));
  return app;
}

function errorResponse(c: Context, e: ApiError): Response {
  if (e.retryAfter !== undefined) c.header("Retry-After", String(e.retryAfter));
  return c.json({ error: { code: e.code, message: e.message } }, e.status);
}
