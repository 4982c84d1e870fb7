/**
 * verdaccio-ledger: a Verdaccio 6 plugin that makes the registry follow the
 * open letter. Configure it both as a middleware (it logs each `npm publish`
 * as release.sign, opens the approval request, and refuses tarballs of
 * unapproved versions) and as a filter (it removes every version the ledger
 * has not shown approved from the packument). See README.md beside it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseSignerKey } from "../../client/note.js";
import { integritySha512s } from "../../cli/artifacts.js";
import { readSignerKeyFile } from "../../cli/key-file.js";
import { readFileSync } from "node:fs";
import { npmNamespace } from "../../client/namespace.js";
import { Ledger, LedgerRefusal, tarballDigests, type Logger, type Verdict } from "./ledger.js";

/** The plugin's own settings (prefixed: Verdaccio merges its whole configuration into them). */
export interface LedgerPluginConfig {
  /** The ledger's base URL. */
  ledgerUrl: string;
  /** The registry's writer token, or a file holding it (else LEDGER_TOKEN). */
  ledgerToken?: string;
  ledgerTokenFile?: string;
  /** The registry's publish key file (mode 0600), registered in every covered namespace. */
  publishKey: string;
  /** Verdaccio user name → the approver key ID named as the release's requester. */
  requesters?: Record<string, string>;
  /** Packages the ledger covers: "@scope" or exact names (default: every package, uplinked ones too: they are hidden, not being in the ledger). */
  scopes?: string[];
  /** Seconds a pending verdict is reused before the ledger is asked again (default 2). */
  refreshSeconds?: number;
  /** Seconds an approval is reused before it is checked for revocation (default 300). */
  recheckApprovedSeconds?: number;
  /** Seconds before an approval request expires (default: the ledger's LEDGER_APPROVAL_TTL). */
  expiresIn?: number;
  /** The largest publish body read, in MiB (default 50). */
  maxBodyMiB?: number;
}

interface PluginOptions {
  logger: Logger;
}

interface Req extends IncomingMessage {
  body?: unknown;
  _body?: boolean;
  remote_user?: { name?: string | null };
}
interface Res extends ServerResponse {
  status(code: number): Res;
  json(body: unknown): void;
}
type Next = (err?: unknown) => void;
interface App {
  use(handler: (req: Req, res: Res, next: Next) => void): void;
}
interface Auth {
  allow_publish(pkg: { packageName: string; packageVersion?: string }, user: unknown, cb: (err: unknown, ok?: boolean) => void): void;
}

interface Version {
  dist?: { tarball?: string; integrity?: string; shasum?: string };
  ledger?: unknown;
  [k: string]: unknown;
}
export interface Manifest {
  name: string;
  versions?: Record<string, Version>;
  "dist-tags"?: Record<string, string>;
  time?: Record<string, string>;
  _attachments?: Record<string, { data?: string; length?: number }>;
  [k: string]: unknown;
}

// The filter and the middleware are two instances of this class; they share one Ledger (one cache).
const ledgers = new Map<string, Ledger>();

function required(c: Partial<LedgerPluginConfig>, k: keyof LedgerPluginConfig): string {
  const v = c[k];
  if (typeof v !== "string" || v === "") throw new Error(`verdaccio-ledger: "${k}" is required in the plugin's configuration`);
  return v;
}

function tokenOf(c: Partial<LedgerPluginConfig>): string {
  if (c.ledgerToken) return c.ledgerToken;
  if (c.ledgerTokenFile) return readFileSync(c.ledgerTokenFile, "utf8").trim();
  if (process.env.LEDGER_TOKEN) return process.env.LEDGER_TOKEN;
  throw new Error('verdaccio-ledger: give the registry\'s writer token as "ledgerToken", "ledgerTokenFile" or LEDGER_TOKEN');
}

/** The version of `filename` (`<unscoped name>-<version>.tgz`) of package `name`, or undefined. */
export function versionOfTarball(name: string, filename: string): string | undefined {
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (!filename.startsWith(base + "-") || !filename.endsWith(".tgz")) return undefined;
  const v = filename.slice(base.length + 1, -4);
  return v === "" ? undefined : v;
}


/** Reads a request body up to `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new LedgerRefusal(413, "too_large", `the publish body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function fail(res: Res, status: number, message: string): void {
  res.status(status).json({ error: message });
}

export default class LedgerPlugin {
  readonly #config: LedgerPluginConfig;
  readonly #logger: Logger;
  readonly #ledger: Ledger;

  constructor(config: Partial<LedgerPluginConfig>, options: PluginOptions) {
    this.#logger = options.logger;
    const ledgerUrl = required(config, "ledgerUrl");
    const publishKey = required(config, "publishKey");
    this.#config = { ...config, ledgerUrl, publishKey } as LedgerPluginConfig;
    const id = `${ledgerUrl}|${publishKey}`;
    let ledger = ledgers.get(id);
    if (!ledger) {
      ledger = new Ledger({
        url: ledgerUrl,
        token: tokenOf(config),
        key: parseSignerKey(readSignerKeyFile(publishKey, (m) => new Error(`verdaccio-ledger: ${m}`))),
        logger: options.logger,
        refreshMs: (config.refreshSeconds ?? 2) * 1000,
        recheckApprovedMs: (config.recheckApprovedSeconds ?? 300) * 1000,
      });
      ledgers.set(id, ledger);
      this.#logger.info({ url: ledgerUrl, keyId: ledger.keyId }, "ledger: releases are logged at @{url} with publish key @{keyId}; versions are served once approved there");
    }
    this.#ledger = ledger;
  }

  /** Whether the ledger covers this package (the `scopes` setting). */
  covers(name: string): boolean {
    const scopes = this.#config.scopes;
    if (!scopes || scopes.length === 0) return true;
    const scope = name.startsWith("@") ? name.slice(0, name.indexOf("/")) : undefined;
    return scopes.some((s) => s === name || (scope !== undefined && s === scope));
  }

  // ---------------------------------------------------------------- filter

  /** Removes every version the ledger has not shown approved (with the logged sha512); never throws. */
  async filter_metadata(manifest: Manifest): Promise<Manifest> {
    if (!manifest || typeof manifest.name !== "string" || !this.covers(manifest.name)) return manifest;
    try {
      return await this.#filter(manifest);
    } catch (e) {
      // Verdaccio serves the unfiltered manifest when a filter throws: answer with no versions instead.
      this.#logger.error({ name: manifest.name, err: (e as Error).message }, "ledger: filtering @{name} failed (@{err}); serving it with no versions");
      const empty = { versions: {}, "dist-tags": {}, time: {} };
      try {
        return { ...manifest, ...empty };
      } catch {
        return { name: manifest.name, ...empty };
      }
    }
  }

  async #filter(manifest: Manifest): Promise<Manifest> {
    const versions = manifest.versions ?? {};
    const verdicts = await Promise.all(Object.keys(versions).map(async (v) => [v, await this.#ledger.verdict(manifest.name, v)] as const));
    const kept: Record<string, Version> = {};
    for (const [v, verdict] of verdicts) {
      const version = versions[v]!;
      if (verdict.state !== "approved") continue;
      const logged = verdict.artifacts.map((a) => a.sha512).filter((h): h is string => h !== undefined);
      if (!integritySha512s(version.dist?.integrity).some((h) => logged.includes(h))) {
        this.#logger.error({ pkg: `${manifest.name}@${v}` }, "ledger: @{pkg} is approved in the ledger but the registry's integrity differs from the logged sha512; not served");
        continue;
      }
      kept[v] = { ...version, ledger: { index: verdict.index, approvalIndex: verdict.approvalIndex } };
    }
    const time: Record<string, string> = {};
    for (const [k, t] of Object.entries(manifest.time ?? {})) if (k === "created" || k === "modified" || k in kept) time[k] = t;
    const tags: Record<string, string> = {};
    for (const [tag, v] of Object.entries(manifest["dist-tags"] ?? {})) if (v in kept) tags[tag] = v;
    if (!tags.latest) {
      // The newest approved release that is not a prerelease takes "latest" (npm's meaning of it).
      const newest = Object.keys(kept)
        .filter((v) => !v.includes("-"))
        .sort((a, b) => (time[a] ?? "").localeCompare(time[b] ?? ""))
        .pop();
      if (newest) tags.latest = newest;
    }
    return { ...manifest, versions: kept, "dist-tags": tags, time };
  }

  // ------------------------------------------------------------ middleware

  register_middlewares(app: App, auth: Auth): void {
    const limit = (this.#config.maxBodyMiB ?? 50) * 1024 * 1024;
    app.use((req, res, next) => {
      const path = (req.url ?? "/").split("?")[0]!;
      if (req.method === "PUT") {
        const name = packageOfPath(path);
        if (name !== undefined && this.covers(name)) return void this.#publish(req, res, next, name, auth, limit).catch(next);
      } else if (req.method === "GET" || req.method === "HEAD") {
        const t = tarballOfPath(path);
        if (t && this.covers(t.name)) return void this.#tarball(res, next, t.name, t.filename).catch(next);
      }
      next();
    });
  }

  async #tarball(res: Res, next: Next, name: string, filename: string): Promise<void> {
    const version = versionOfTarball(name, filename);
    const verdict: Verdict = version === undefined ? { state: "unknown" } : await this.#ledger.verdict(name, version);
    if (verdict.state === "approved") return next();
    fail(res, 404, `${filename} is not available: ${name}${version ? "@" + version : ""} is ${verdict.state === "unknown" ? "not confirmed approved by the ledger" : verdict.state} (verdaccio-ledger)`);
  }

  async #publish(req: Req, res: Res, next: Next, name: string, auth: Auth, limit: number): Promise<void> {
    if (!/json/.test(String(req.headers["content-type"] ?? ""))) return next();
    let body: Manifest;
    try {
      const raw = await readBody(req, limit);
      body = JSON.parse(raw.toString("utf8"));
    } catch (e) {
      if (e instanceof LedgerRefusal) return fail(res, e.status, e.message);
      return fail(res, 400, "the publish body is not JSON");
    }
    // Verdaccio's own JSON parser sees the body as already read.
    req.body = body;
    req._body = true;
    const attachments = Object.entries(body?._attachments ?? {});
    if (attachments.length === 0) return next(); // not a new version: dist-tags, deprecation, unpublish
    const versions = Object.keys(body.versions ?? {});
    if (attachments.length !== 1 || versions.length !== 1 || body.name !== name) return fail(res, 400, "a publish carries exactly one version and one tarball of the package in the URL");
    const version = versions[0]!;
    const allowed = await new Promise<boolean>((resolve) => auth.allow_publish({ packageName: name, packageVersion: version }, req.remote_user, (err, ok) => resolve(!err && ok === true)));
    if (!allowed) return next(); // Verdaccio answers 401/403 itself; nothing is logged for a publish it refuses
    const [attName, att] = attachments[0]!;
    if (typeof att?.data !== "string") return fail(res, 400, "the tarball has no data");
    const data = Buffer.from(att.data, "base64");
    if (typeof att.length === "number" && att.length !== data.length) return fail(res, 400, `the tarball is ${data.length} bytes, its length says ${att.length}`);
    const d = tarballDigests(data);
    const dist = body.versions![version]!.dist ?? {};
    if (dist.integrity !== undefined && !integritySha512s(dist.integrity).includes(d.sha512)) return fail(res, 400, "the version's dist.integrity does not match its tarball");
    if (dist.shasum !== undefined && dist.shasum !== d.shasum) return fail(res, 400, "the version's dist.shasum does not match its tarball");

    const namespace = npmNamespace(name);
    const user = req.remote_user?.name ?? undefined;
    const requester = user ? this.#config.requesters?.[user] : undefined;
    const filename = attName.slice(attName.lastIndexOf("/") + 1);
    if (versionOfTarball(name, filename) !== version) return fail(res, 400, `the tarball ${attName} is not the tarball of ${name}@${version}`);
    const artifacts = [{ name: filename, sha256: d.sha256, sha512: d.sha512 }];
    try {
      const groups = await this.#ledger.groupsOf(namespace);
      if (groups > 0 && requester === undefined) {
        return fail(res, 403, `${namespace} requires approvals: map Verdaccio user ${JSON.stringify(user ?? "(anonymous)")} to an approver key in the plugin's "requesters" setting`);
      }
      const index = await this.#ledger.logRelease(namespace, { package: name, version, artifacts, ...(requester ? { requester } : {}) });
      let note = "no approval groups: served once logged";
      if (groups > 0) {
        try {
          const r = await this.#ledger.openRequest({ namespace, package: name, version, artifacts, ...(requester ? { requester } : {}), ...(this.#config.expiresIn ? { expiresIn: this.#config.expiresIn } : {}) });
          note = `approval request ${r.url}; hidden until approved`;
        } catch (e) {
          if (!(e instanceof LedgerRefusal && e.code === "request_exists")) throw e;
          note = "an approval request is already open; hidden until approved";
        }
      }
      this.#logger.info({ pkg: `${name}@${version}`, index, note }, "ledger: @{pkg} logged at @{index}; @{note}");
    } catch (e) {
      if (!(e instanceof LedgerRefusal)) throw e;
      this.#logger.error({ pkg: `${name}@${version}`, err: e.message }, "ledger: publish of @{pkg} refused: @{err}");
      return fail(res, e.status, e.message);
    }
    next();
  }
}

/** The package of a publish URL (`/<name>` or `/@scope%2f<name>`), or undefined. */
export function packageOfPath(path: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const m = /^\/((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)\/?$/i.exec(p);
  return m?.[1];
}

/** The package and file of a tarball URL (`/<name>/-/<file>.tgz`, scoped too), or undefined. */
export function tarballOfPath(path: string): { name: string; filename: string } | undefined {
  let p: string;
  try {
    p = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const m = /^\/((?:@[^/]+\/)?[^/@][^/]*)\/-\/(?:@[^/]+\/)?([^/]+\.tgz)$/.exec(p);
  return m ? { name: m[1]!, filename: m[2]! } : undefined;
}
