/** GET /v1/namespaces/<ns> and GET /v1/releases/<ns>/<package>/<version>: the server's replayed state. */
import { Hono } from "hono";
import { encodeBase64 } from "../../client/bytes.js";
import { releaseStatus } from "../../client/replay.js";
import { NAMESPACE_RE } from "../../schema/records.js";
import { ApiError } from "../errors.js";
import { inclusionProofAndLeaf } from "../log/proofs.js";
import type { HeadCache } from "../state/head.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { Store } from "../store/store.js";
import type { KeyInfo } from "../../client/replay.js";
import { keyIdOf, parseEntry } from "../../client/entry.js";
import { parseBase64 } from "../../client/bytes.js";
import { decimalParam, optionalDecimalParam, requireCanonicalNamespace } from "./params.js";
import { entryJson } from "./read.js";
import type { GrowthJson, KeyJson, NamespaceEntriesJson, NamespaceJson, ReleaseJson } from "../../schema/api.js";

export interface StateDeps {
  store: Store;
  head: HeadCache;
  namespaces: NamespaceCache;
  nodes?: Pick<Store, "readNodes">;
}

function namespaceParam(v: string): string {
  if (!NAMESPACE_RE.test(v)) throw new ApiError("invalid_parameter", "namespace must look like <ecosystem>:<name>");
  requireCanonicalNamespace(v);
  return v;
}

function keyJson(k: KeyInfo) {
  return {
    keyId: k.keyId,
    publicKey: k.publicKey,
    role: k.role,
    ...(k.label !== undefined ? { label: k.label } : {}),
    registeredAt: k.registeredAt.toString(),
    revokedAt: k.revokedAt === null ? null : k.revokedAt.toString(),
    breakGlass: k.breakGlass,
    ...(k.webauthn ? { webauthn: k.webauthn } : {}),
  };
}

export const MAX_NAMESPACE_PAGE = 1000;
const RECENT_RELEASES = 100;
const MAX_GROWTH_POINTS = 500;

export function stateRoutes(deps: StateDeps): Hono {
  const app = new Hono();

  app.get("/namespaces/:ns", async (c) => {
    const ns = await deps.namespaces.get(namespaceParam(c.req.param("ns")), deps.store);
    if (ns.keys.size === 0) throw new ApiError("not_found", `namespace ${ns.namespace} has no records`);
    return c.json({
      namespace: ns.namespace,
      keys: [...ns.keys.values()].map(keyJson),
      policy: ns.policy && { adminThreshold: ns.policy.adminThreshold, groups: [...ns.policy.groups], index: ns.policy.index.toString() },
      releaseCount: ns.releases.size,
      // The newest releases with their verdicts (the whole list is in /entries).
      recentReleases: [...ns.releases.values()].slice(-RECENT_RELEASES).reverse().map((r) => {
        const s = releaseStatus(ns, r.package, r.version)!;
        return {
          package: r.package,
          version: r.version,
          index: r.index.toString(),
          signedBy: r.signedBy,
          approved: s.approved,
          approvalIndex: s.approvalIndex === null ? null : s.approvalIndex.toString(),
          policyIndex: s.policyIndex === null ? null : s.policyIndex.toString(),
          revoked: s.revoked,
        };
      }),
      breakGlass: ns.breakGlass.map((i) => i.toString()),
    } satisfies NamespaceJson);
  });

  // A namespace's entries, oldest first, a page at a time (`next` is the `after` of the next page).
  app.get("/namespaces/:ns/entries", async (c) => {
    const ns = namespaceParam(c.req.param("ns"));
    const afterParam = c.req.query("after");
    const after = afterParam === undefined ? -1n : decimalParam(afterParam, "after");
    const limit = optionalDecimalParam(c.req.query("limit"), "limit") ?? 100n;
    if (limit < 1n || limit > BigInt(MAX_NAMESPACE_PAGE)) throw new ApiError("invalid_parameter", `limit must be from 1 to ${MAX_NAMESPACE_PAGE}`);
    const cp = await deps.head.get();
    const size = cp?.treeSize ?? 0n;
    // Only entries a checkpoint covers: what the page shows can be proven.
    const entries = (await deps.store.namespaceEntries(ns, after, Number(limit))).filter((e) => e.index < size);
    const next = entries.length === Number(limit) ? entries[entries.length - 1]!.index.toString() : null;
    return c.json({ namespace: ns, treeSize: size.toString(), entries: entries.map(entryJson), next } satisfies NamespaceEntriesJson);
  });

  // Where a key is registered: every namespace whose log registers this key ID, with its state there.
  app.get("/keys/:keyId", async (c) => {
    const keyId = c.req.param("keyId");
    if (!/^[0-9a-f]{64}$/.test(keyId)) throw new ApiError("invalid_parameter", "keyId must be 64 lowercase hex digits (SHA-256 of the public key)");
    const cp = await deps.head.get();
    const registrations = [];
    for (const e of await deps.store.findKeyRegistrations(keyId)) {
      if (!cp || e.index >= cp.treeSize) continue;
      const { record } = parseEntry(e.entry);
      if (record.type !== "key.register" || keyIdOf(parseBase64(record.statement.publicKey)) !== keyId) continue;
      const ns = await deps.namespaces.get(record.namespace, deps.store);
      const k = ns.keys.get(keyId);
      // A refused registration (say, a duplicate) has no effect on state: skip it.
      if (k && k.registeredAt === e.index) registrations.push({ namespace: record.namespace, ...keyJson(k) });
    }
    if (registrations.length === 0) throw new ApiError("not_found", `no namespace registers key ${keyId}`);
    return c.json({ keyId, registrations } satisfies KeyJson);
  });

  // Index probes per call (growthQuery), cached 5 s per `points` value (at most 499 slots).
  const growthCache = new Map<number, { at: number; body: GrowthJson }>();
  app.get("/growth", async (c) => {
    const points = Number(optionalDecimalParam(c.req.query("points"), "points") ?? 100n);
    if (points < 2 || points > MAX_GROWTH_POINTS) throw new ApiError("invalid_parameter", `points must be from 2 to ${MAX_GROWTH_POINTS}`);
    let hit = growthCache.get(points);
    if (!hit || performance.now() - hit.at > 5000) {
      const rows = await deps.store.growth(points);
      hit = { at: performance.now(), body: { points: rows.map((r) => ({ time: r.at.toISOString(), treeSize: r.treeSize.toString() })) } };
      growthCache.set(points, hit);
    }
    return c.json(hit.body);
  });

  // The package may contain '/' (npm scopes): everything between namespace and version.
  app.get("/releases/:ns/:rest{.+}", async (c) => {
    const rest = c.req.param("rest");
    const cut = rest.lastIndexOf("/");
    if (cut <= 0) throw new ApiError("invalid_parameter", "path must be /v1/releases/<namespace>/<package>/<version>");
    const [pkg, version] = [rest.slice(0, cut), rest.slice(cut + 1)];
    const ns = await deps.namespaces.get(namespaceParam(c.req.param("ns")), deps.store);
    const status = releaseStatus(ns, pkg, version);
    if (!status) throw new ApiError("not_found", `${pkg}@${version} has not been released in ${ns.namespace}`);
    const cp = await deps.head.get();
    if (!cp || cp.treeSize <= status.release.index) throw new ApiError("not_yet_covered", "the release is not yet covered by a checkpoint", { retryAfter: 1 });
    const { proof, leafHash } = await inclusionProofAndLeaf(deps.nodes ?? deps.store, status.release.index, cp.treeSize);
    return c.json({
      namespace: ns.namespace,
      package: pkg,
      version,
      artifacts: status.release.artifacts,
      index: status.release.index.toString(),
      leafHash: encodeBase64(leafHash),
      signedBy: status.release.signedBy,
      approved: status.approved,
      approvalIndex: status.approvalIndex === null ? null : status.approvalIndex.toString(),
      policyIndex: status.policyIndex === null ? null : status.policyIndex.toString(),
      ...(status.release.requester !== undefined ? { requester: status.release.requester } : {}),
      rejected: status.rejected,
      approvers: status.outcome?.approvers ?? [],
      revoked: status.revoked,
      treeSize: cp.treeSize.toString(),
      proof: proof.map(encodeBase64),
    } satisfies ReleaseJson);
  });
  return app;
}
