/**
 * C2SP tlog-witness `POST /add-checkpoint` on a mirror: the checks in the
 * spec's order, then the mirror fetches and verifies the entries up to the
 * checkpoint and answers with its cosignature ("verified and mirrored").
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { parseBase64, parseDecimal } from "../../client/bytes.js";
import { parseCheckpoint } from "../../client/checkpoint.js";
import { parseNote } from "../../client/note.js";
import { MirrorError } from "./errors.js";
import type { Store } from "../store/store.js";
import type { MirrorFollower } from "./follower.js";
import type { MirrorReceiver } from "./receiver.js";
import { refuseAddCheckpoint, signatureLinesBy } from "./witness-checks.js";
import { ByteReader } from "../../client/tlog-mirror.js";

const TEXT = "text/plain; charset=utf-8";

function text(body: string, status: number, type = TEXT, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "Content-Type": type, ...headers } });
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/** A body whose gzip is corrupt reads as one that ended there: the packages before stay. */
async function* gunzipErrors(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) yield chunk;
  } catch {
    return;
  }
}

export function witnessRoutes(deps: { store: Store; follower: MirrorFollower; origin: string; cosignerName: string; receiver?: MirrorReceiver }): Hono {
  const app = new Hono();
  let busy: Promise<unknown> = Promise.resolve();

  app.post("/add-checkpoint", async function addCheckpoint(c) {
    const body = await c.req.text();
    if (body.length > 1 << 20) return text("request too large\n", 413);
    const split = body.indexOf("\n\n");
    const head = split < 0 ? [] : body.slice(0, split).split("\n");
    const note = split < 0 ? "" : body.slice(split + 2);
    const m = /^old (\S+)$/.exec(head[0] ?? "");
    let old: bigint;
    let proof: Uint8Array[];
    let size: bigint;
    let root: Uint8Array;
    let origin: string;
    try {
      if (!m) throw new Error("missing old line");
      old = parseDecimal(m[1]!, "old");
      proof = head.slice(1).map((l) => parseBase64(l));
      if (proof.length > 63 || proof.some((h) => h.length !== 32)) throw new Error("bad proof");
      ({ origin, treeSize: size, rootHash: root } = parseCheckpoint(parseNote(note).text));
    } catch {
      return text("malformed add-checkpoint request\n", 400);
    }
    if (origin !== deps.origin) return text("unknown origin\n", 404);
    try {
      deps.follower.open(note);
    } catch {
      return text("no valid signature by the log's key\n", 403);
    }
    if (old > size) return text("old size is larger than the checkpoint\n", 400);
    if (deps.receiver) {
      // Push mode (C2SP tlog-mirror): this moves the pending checkpoint; add-entries cosigns.
      const a = await deps.receiver.addCheckpoint(old, proof, note, size, root);
      return text(a.body, a.status, a.type);
    }
    // One request at a time: compare-and-set of the latest cosigned size.
    const run = busy.then(async () => {
      const refusal = refuseAddCheckpoint(old, proof, size, root, await deps.store.latestCheckpoint());
      if (refusal) return text(refusal.body, refusal.status, refusal.type);
      let stored;
      try {
        stored = await deps.follower.syncTo(note);
      } catch (e) {
        // A log that breaks its own rules is refused (422); anything else may pass with time, or never (equivocation: 503 for good).
        if (e instanceof MirrorError) return text(`not cosigned: ${e.message}\n`, e.code === "log_breaks_rules" ? 422 : 503);
        throw e;
      }
      if (stored.treeSize !== size) return text(`${stored.treeSize}\n`, 409, "text/x.tlog.size");
      return text(signatureLinesBy(stored.note, deps.cosignerName), 200);
    });
    busy = run.catch(() => {});
    return run;
  });

  const receiver = deps.receiver;
  app.post("/add-entries", async function addEntries(c) {
    if (!receiver) return text("this mirror pulls from its source and takes no uploads (start it with --push to be pushed to)\n", 404);
    const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
    if (type !== "application/octet-stream") return text("add-entries takes application/octet-stream\n", 415);
    const encoding = c.req.header("content-encoding")?.trim().toLowerCase();
    if (encoding && encoding !== "gzip" && encoding !== "identity") return text("Content-Encoding must be gzip or identity\n", 415, TEXT, { "Accept-Encoding": "gzip" });
    let stream: ReadableStream<Uint8Array> | null = c.req.raw.body;
    if (stream && encoding === "gzip") stream = stream.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
    const reader = new ByteReader(stream ? gunzipErrors(stream) : emptyBody());
    const a = await receiver.addEntries(reader);
    await reader.cancel();
    return text(a.body, a.status, a.type, { "Accept-Encoding": "gzip" });
  });

  // C2SP tlog-witness monitor retrieval: GET <prefix>/<hex SHA-256 of the origin>/checkpoint.
  const originHash = createHash("sha256").update(deps.origin).digest("hex");
  app.get("/:originHash{[0-9a-f]{64}}/checkpoint", async (c) => {
    if (c.req.param("originHash") !== originHash) return text("this mirror does not cosign that log\n", 404);
    const cp = await deps.store.latestCheckpoint();
    if (!cp) return text("nothing cosigned yet\n", 404);
    return text(cp.note, 200);
  });

  app.get("/v1/evidence", async (c) => {
    const rows = await deps.store.listEvidence();
    return c.json({ evidence: rows.map((r) => ({ id: r.id, detectedAt: r.detectedAt.toISOString(), peer: r.peer, ...JSON.parse(r.body) })) });
  });
  return app;
}
