/**
 * What the Verdaccio plugin knows of the ledger: it logs releases, opens
 * approval requests, and keeps a cache of each version's verdict that
 * answers "may this version be served?". Every path that cannot learn the
 * answer says no: a version is served only once the ledger has shown it
 * approved (fail closed).
 */
import { createHash } from "node:crypto";
import { encodeBase64 } from "../../client/bytes.js";
import { ed25519Sign } from "../../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../../client/entry.js";
import { npmNamespace } from "../../client/namespace.js";
import type { SignerKey } from "../../client/note.js";
import { releaseKey, type Artifact } from "../../client/replay.js";

export interface Logger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

/** The ledger's refusal or unreachability, with the HTTP status to answer npm with. */
export class LedgerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}


/** sha256 and sha512 of a tarball (the artifact's digests) and its sha1 (npm's `shasum`), hex. */
export function tarballDigests(data: Uint8Array): { sha256: string; sha512: string; shasum: string } {
  const hex = (alg: string) => createHash(alg).update(data).digest("hex");
  return { sha256: hex("sha256"), sha512: hex("sha512"), shasum: hex("sha1") };
}

export type Verdict =
  | { state: "approved"; index: string; approvalIndex: string | null; artifacts: Artifact[] }
  | { state: "rejected" | "revoked" | "expired" | "pending" | "unlogged" | "unknown"; index?: string };

interface Cached {
  verdict: Verdict;
  at: number;
}

export interface LedgerOptions {
  url: string;
  token: string;
  key: SignerKey;
  logger: Logger;
  /** How long a pending (or unlogged) verdict is trusted before the ledger is asked again. */
  refreshMs: number;
  /** How long an approved verdict is kept before it is checked again (a later revocation hides it). */
  recheckApprovedMs: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export class Ledger {
  /** The registry's publish key ID. */
  readonly keyId: string;
  readonly #o: LedgerOptions;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<Verdict>>();
  readonly #watching = new Set<string>();
  #down = false;
  #closed = false;

  constructor(o: LedgerOptions) {
    this.#o = o;
    this.keyId = keyIdOf(o.key.publicKey);
    this.#fetch = o.fetch ?? fetch;
    this.#now = o.now ?? Date.now;
  }


  close(): void {
    this.#closed = true;
  }

  async #call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; json: any }> {
    let res: Response;
    try {
      res = await this.#fetch(this.#o.url.replace(/\/$/, "") + path, {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${this.#o.token}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ?? AbortSignal.timeout(30_000),
      });
    } catch (e) {
      this.#setDown(true, (e as Error).message);
      throw new LedgerRefusal(503, "ledger_unavailable", `the ledger at ${this.#o.url} cannot be reached (${(e as Error).message})`);
    }
    const json = await res.json().catch(() => ({}));
    if (res.status >= 500) {
      this.#setDown(true, `HTTP ${res.status}`);
      throw new LedgerRefusal(503, "ledger_unavailable", `the ledger at ${this.#o.url} answered ${res.status}: ${json?.error?.message ?? ""}`);
    }
    this.#setDown(false);
    return { status: res.status, json };
  }

  #setDown(down: boolean, why?: string): void {
    if (down === this.#down) return;
    this.#down = down;
    if (down) this.#o.logger.error({ url: this.#o.url, why }, "ledger: @{url} is unreachable (@{why}); failing closed: no version the ledger has not shown approved is served, publishes are refused");
    else this.#o.logger.info({ url: this.#o.url }, "ledger: @{url} is reachable again");
  }

  /** The namespace's approval groups (none: releases need no approval). */
  async groupsOf(namespace: string): Promise<number> {
    const { status, json } = await this.#call("GET", `/v1/namespaces/${encodeURIComponent(namespace)}`);
    if (status === 404) throw new LedgerRefusal(403, "unknown_namespace", `${namespace} has no keys in the ledger: register the registry's publish key there first`);
    if (status >= 400) throw new LedgerRefusal(502, json?.error?.code ?? "ledger_error", json?.error?.message ?? `the ledger answered ${status}`);
    return Array.isArray(json?.policy?.groups) ? json.policy.groups.length : 0;
  }

  /** Logs release.sign signed with the registry's publish key; returns its index. An identical earlier record answers with its index. */
  async logRelease(namespace: string, statement: { package: string; version: string; artifacts: Artifact[]; requester?: string }): Promise<string> {
    const record = { type: "release.sign", namespace, statement };
    const msg = recordSigningMessage(record as never);
    const signed = { ...record, signatures: [{ keyId: this.keyId, sig: encodeBase64(ed25519Sign(this.#o.key.seed, msg)) }] };
    const { status, json } = await this.#call("POST", "/v1/records?wait=checkpoint", signed);
    if (status >= 400) {
      // A refusal the publisher can act on (a version logged with other bytes, a key not registered): 409 or 403.
      throw new LedgerRefusal(status === 409 ? 409 : 403, json?.error?.code ?? "refused", `the ledger refused ${statement.package}@${statement.version}: ${json?.error?.message ?? status}`);
    }
    this.#cache.delete(releaseKey(statement.package, statement.version));
    return String(json.index);
  }

  /** Opens the approval request; watches it so the decision arrives without a packument request asking. */
  async openRequest(body: { namespace: string; package: string; version: string; artifacts: Artifact[]; requester?: string; expiresIn?: number }): Promise<{ id: string; url: string }> {
    const { status, json } = await this.#call("POST", "/v1/approval-requests", body);
    if (status >= 400) throw new LedgerRefusal(status === 409 ? 409 : 403, json?.error?.code ?? "refused", `the ledger would not open an approval request for ${body.package}@${body.version}: ${json?.error?.message ?? status}`);
    this.watch(json.id, body.package, body.version);
    return { id: json.id, url: json.url };
  }

  /** Long-polls a request until it is decided, then refreshes the version's verdict. */
  watch(id: string, pkg: string, version: string): void {
    if (this.#watching.has(id)) return;
    this.#watching.add(id);
    void (async () => {
      let backoff = 1000;
      while (!this.#closed) {
        try {
          const { status, json } = await this.#call("GET", `/v1/approval-requests/${encodeURIComponent(id)}?wait=decided&timeout=55`, undefined, AbortSignal.timeout(65_000));
          if (status === 404) break;
          if (json?.state && json.state !== "pending") {
            this.#o.logger.info({ pkg: `${pkg}@${version}`, state: json.state }, "ledger: @{pkg} was @{state}");
            if (json.state === "expired") this.#cache.set(releaseKey(pkg, version), { verdict: { state: "expired" }, at: this.#now() });
            else this.#cache.delete(releaseKey(pkg, version));
            break;
          }
          backoff = 1000;
        } catch {
          await new Promise((r) => setTimeout(r, backoff).unref());
          backoff = Math.min(backoff * 2, 30_000);
        }
      }
      this.#watching.delete(id);
    })();
  }

  /** The version's verdict; never throws. Anything but "approved" means: do not serve it. */
  async verdict(pkg: string, version: string): Promise<Verdict> {
    const key = releaseKey(pkg, version);
    const hit = this.#cache.get(key);
    const age = hit ? this.#now() - hit.at : Infinity;
    if (hit && (hit.verdict.state === "rejected" || hit.verdict.state === "expired" || hit.verdict.state === "revoked")) return hit.verdict; // final
    if (hit && age < (hit.verdict.state === "approved" ? this.#o.recheckApprovedMs : this.#o.refreshMs)) return hit.verdict;
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#fetchVerdict(pkg, version).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    const fresh = await p;
    if (fresh.state === "unknown") {
      // The ledger could not say. An approval seen before stands (approvals are not undone but by a
      // revocation, which the next successful check sees); nothing else is served.
      return hit?.verdict.state === "approved" ? hit.verdict : fresh;
    }
    this.#cache.set(key, { verdict: fresh, at: this.#now() });
    return fresh;
  }

  async #fetchVerdict(pkg: string, version: string): Promise<Verdict> {
    const ns = npmNamespace(pkg);
    let r: { status: number; json: any };
    try {
      r = await this.#call("GET", `/v1/releases/${encodeURIComponent(ns)}/${pkg.split("/").map(encodeURIComponent).join("/")}/${encodeURIComponent(version)}`);
    } catch {
      return { state: "unknown" };
    }
    const { status, json } = r;
    if (status === 404) return { state: "unlogged" };
    if (status >= 400) return { state: "unknown" };
    if (json.revoked) return { state: "revoked", index: json.index };
    if (json.rejected) return { state: "rejected", index: json.index };
    if (json.approved) return { state: "approved", index: json.index, approvalIndex: json.approvalIndex, artifacts: json.artifacts };
    return { state: "pending", index: json.index };
  }
}
