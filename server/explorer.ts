/**
 * Serves the web explorer (explorer/dist, built by `npm run build` and
 * committed) at `/`. The files are read once; a strict Content-Security-Policy
 * allows only this origin's script, style and API.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package-root.js";
import type { Hono } from "hono";
import { ApiError } from "./errors.js";

const DIST = join(PACKAGE_ROOT, "explorer", "dist") + "/";

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const FILES: Record<string, { file: string; type: string; headers?: Record<string, string> }> = {
  "/": { file: "index.html", type: HTML },
  "/explorer/app.js": { file: "app.js", type: JS },
  "/explorer/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/** The approval service's pages (DESIGN "The approval service"): served by the log, not by mirrors. */
const APPROVAL_FILES: typeof FILES = {
  "/enroll": { file: "enroll.html", type: HTML },
  "/approve/:id": { file: "approve.html", type: HTML },
  "/explorer/enroll.js": { file: "enroll.js", type: JS },
  "/explorer/approve.js": { file: "approve.js", type: JS },
  // At the root, so its scope covers /approve/.
  "/sw.js": { file: "sw.js", type: JS, headers: { "Service-Worker-Allowed": "/" } },
};

const CSP = "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function explorerRoutes(app: Hono): void {
  serveFiles(app, FILES);
}

export function approvalPageRoutes(app: Hono): void {
  serveFiles(app, APPROVAL_FILES);
}

function serveFiles(app: Hono, files: typeof FILES): void {
  const cache = new Map<string, Uint8Array>();
  for (const [path, { file, type, headers }] of Object.entries(files)) {
    app.get(path, (c) => {
      let body = cache.get(file);
      if (!body) {
        try {
          body = new Uint8Array(readFileSync(DIST + file));
        } catch {
          throw new ApiError("not_found", "the explorer is not built: run npm run build");
        }
        cache.set(file, body);
      }
      return c.body(body as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": type,
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
        ...headers,
      });
    });
  }
}
