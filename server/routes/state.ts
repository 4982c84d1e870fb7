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

export interface StateDeps {
  store: Store;
  head: HeadCache;
  namespaces: NamespaceCache;
}

function namespaceParam(v: string): string {
  if (!NAMESPACE_RE.test(v)) throw new ApiError("invalid_parameter", "namespace must look like <ecosystem>:<name>");
  return v;
}

export function stateRoutes(deps: StateDeps): Hono {
  const app = new Hono();

  app.get("/namespaces/:ns", async (c) => {
    const ns = await deps.namespaces.get(namespaceParam(c.req.param("ns")), deps.store);
    if (ns.keys.size === 0) throw new ApiError("not_found", `namespace ${ns.namespace} has no records`);
    return c.json({
      namespace: ns.namespace,
      keys: [...ns.keys.values()].map((k) => ({
        keyId: k.keyId,
        publicKey: k.publicKey,
        role: k.role,
        ...(k.label !== undefined ? { label: k.label } : {}),
        registeredAt: k.registeredAt.toString(),
        revokedAt: k.revokedAt === null ? null : k.revokedAt.toString(),
        breakGlass: k.breakGlass,
      })),
      policy: ns.policy && { adminThreshold: ns.policy.adminThreshold, groups: ns.policy.groups, index: ns.policy.index.toString() },
      releaseCount: ns.releases.size,
    });
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
    if (!cp || cp.treeSize <= status.release.index) throw new ApiError("store_unavailable", "the release is not yet covered by a checkpoint", { retryAfter: 1 });
    const { proof, leafHash } = await inclusionProofAndLeaf(deps.store, status.release.index, cp.treeSize);
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
      revoked: status.revoked,
      treeSize: cp.treeSize.toString(),
      proof: proof.map(encodeBase64),
    });
  });
  return app;
}
