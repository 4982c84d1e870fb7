/** Serves a Hono app on Node's HTTP server, answering protocol-level errors as JSON too. */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

/**
 * Node answers oversized headers (over 16 KiB) and unparsable requests
 * before the app sees them; this gives them the same `{error: {code}}` body
 * as every other refusal.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
    const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
    const body = JSON.stringify({ error: { code: tooLarge ? "headers_too_large" : "bad_request", message: tooLarge ? "request headers exceed 16 KiB" : "malformed http request" } });
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

/** Listens and resolves with the bound port, or rejects with the listen error. */
export async function listen(app: Hono, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = serve({ fetch: app.fetch, port, hostname: host }) as Server;
  answerClientErrors(server);
  // Node closes a keep-alive connection 5 s after its last response, timed by the event loop: when
  // the loop was busy past that (a mirror storing a chunk into its embedded database), the close
  // fires as the loop resumes and resets a request already sent on that connection (seen as
  // ECONNRESET by mirrors and clients). Idle connections are kept longer, as behind a load balancer.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const addr = server.address();
  return { server, port: typeof addr === "object" && addr ? addr.port : port };
}
