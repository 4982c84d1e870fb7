/** Wires store, log key, sequencer and app together from a Config. */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { createApp } from "./app.js";
import { DEFAULT_ORIGIN, type Config } from "./config.js";
import type { InvariantError } from "./log/errors.js";
import { createRecordRules } from "./log/rules.js";
import { createWriterAuth } from "./auth.js";
import { WitnessSubmitter } from "./log/witnesses.js";
import { NamespaceCache } from "./state/namespaces.js";
import { HeadCache } from "./state/head.js";
import { initLog, type SequenceDeps } from "./log/sequence.js";
import { Sequencer } from "./log/sequencer.js";
import { VerifyPool } from "../cli/verify-pool.js";
import { createLogSigner, KeyFileError, loadOrCreateKey, type LogSigner } from "./log/signer.js";
import { openStore, type KyselyStore } from "./store/kysely-store.js";
import { silentLogger, type Logger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";
import { approvalPageRoutes, explorerRoutes } from "./explorer.js";
import { ApprovalStore } from "./store/approval-store.js";
import { ApprovalService } from "./approvals/service.js";
import { Enrollments } from "./approvals/enroll.js";
import { loadOrCreateVapidKeys, PushSender } from "./approvals/push.js";
import { WebhookSender } from "./approvals/webhook.js";
import { approvalRoutes } from "./approvals/routes.js";
import type { Agent } from "node:https";

export interface Ledger {
  app: Hono;
  store: KyselyStore;
  sequencer: Sequencer;
  signer: LogSigner;
  origin: string;
  /** What the commit protocol runs with (for tools that sequence directly, like bench seeding). */
  sequenceDeps: SequenceDeps;
  /** True when this start created the log key. */
  keyCreated: boolean;
  /** The approval service (requests, decisions, push, webhooks, enrolments). */
  approvals: { service: ApprovalService; push: PushSender; webhooks: WebhookSender; store: ApprovalStore };
  close(): Promise<void>;
}

export interface LedgerOptions {
  now?: () => Date;
  /** Where events (fatal invariant, failed batch, witness trouble) go; default the logger at warn. */
  log?: (line: string) => void;
  /** Structured logs; default none. */
  logger?: Logger;
  /** Prometheus metrics; default a fresh registry without process metrics. */
  metrics?: Metrics;
  /** Serve the web explorer at `/` (default true). */
  explorer?: boolean;
  /** Push and webhook delivery: TLS agent, tries and first backoff (tests shorten them). */
  delivery?: { agent?: Agent; attempts?: number; backoffMs?: number };
  /** How often the approval sweep runs (default min(5 s, TTL/4)). */
  approvalSweepMs?: number;
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

export async function createLedger(config: Config, opts: LedgerOptions = {}): Promise<Ledger> {
  const logger = opts.logger ?? silentLogger;
  const log = opts.log ?? ((line) => logger.warn(line));
  const metrics = opts.metrics ?? new Metrics();
  const keyFile = config.keyFile ?? join(config.dataDir, "log.key");
  let skey: string;
  let keyCreated: boolean;
  try {
    // An explicitly named key file must exist; the default one is created on first start.
    ({ skey, created: keyCreated } = loadOrCreateKey(keyFile, config.origin ?? DEFAULT_ORIGIN, config.keyFile === undefined));
  } catch (e) {
    throw new StartupError(e instanceof KeyFileError ? e.message : `cannot load the log key: ${(e as Error).message}`);
  }
  const signer = createLogSigner(skey);
  if (config.origin !== undefined && config.origin !== signer.name) {
    throw new StartupError(`LEDGER_ORIGIN is ${config.origin} but the key in ${keyFile} is named ${signer.name}: the key name must equal the origin`);
  }
  const origin = signer.name;

  const { store, unlock } = await openLockedStore(config);
  try {
    const meta = await store.initMeta({ origin, verifierKey: signer.verifierKey });
    if (meta.origin !== origin || meta.verifierKey !== signer.verifierKey) {
      throw new StartupError(`the database holds log ${meta.verifierKey}, not ${signer.verifierKey}: refusing to continue another log's tree with this key`);
    }
    // The server applies break-glass records (validated against the core keys); clients choose.
    const namespaces = new NamespaceCache({ breakGlass: "accept", coreKeys: config.coreKeys });
    const deps: SequenceDeps = { store, signer, origin, now: opts.now ?? (() => new Date()), rules: createRecordRules(namespaces) };
    const head = await initLog(deps);
    const headCache = new HeadCache(store);
    headCache.set(head);
    const sequencer = new Sequencer(deps, {
      onCommit: (cp) => headCache.set(cp),
      onBatch: (b) => {
        metrics.batchSize.observe(b.size);
        metrics.sequencingSeconds.observe(b.seconds);
        for (const l of b.latencies) metrics.checkpointLatencySeconds.observe(l);
        if (b.logged) metrics.appends.inc({ outcome: "logged" }, b.logged);
        if (b.duplicates) metrics.appends.inc({ outcome: "duplicate" }, b.duplicates);
        if (b.refused) metrics.appends.inc({ outcome: "refused" }, b.refused);
        metrics.pending.set(sequencer.pending);
      },
      batchMaxSize: config.batchMaxSize,
      batchMaxAgeMs: config.batchMaxAgeMs,
      maxPending: config.maxPending,
      onFatal: (e: InvariantError) => {
        metrics.signing.set(0);
        logger.fatal({ err: e }, "invariant failed: signing stopped, /healthz fails until restart");
        if (opts.log) log(`ledger: FATAL: ${e.message}; signing stopped, /healthz fails until restart`);
      },
      onBatchError: (e) => {
        metrics.batchFailures.inc();
        log(`ledger: batch failed and was rolled back: ${(e as Error).message}`);
      },
    });
    const verifyPool = new VerifyPool(config.verifyThreads);
    const requireWriter = createWriterAuth({ store, envWriters: config.writerTokens, ratePerSecond: config.writerRate, globalRatePerSecond: config.globalRate || undefined,
      onRateLimited: (scope) => metrics.rateLimited.inc({ scope }),
    });
    const witnesses =
      config.witnesses &&
      new WitnessSubmitter(store, config.witnesses, {
        log,
        onResult: (witness, ok, cosigned) => {
          metrics.witnessCosignedSize.set({ witness }, Number(cosigned));
          if (ok) metrics.witnessLastSuccess.set({ witness }, Date.now() / 1000);
          else metrics.witnessFailures.inc({ witness });
        },
      });
    const approvalStore = new ApprovalStore(store.db);
    let vapid;
    try {
      vapid = loadOrCreateVapidKeys(config.vapidKeyFile ?? join(config.dataDir, "vapid.json"));
    } catch (e) {
      throw new StartupError((e as Error).message);
    }
    const now = opts.now ?? (() => new Date());
    const push = new PushSender({ keys: vapid, subject: config.vapidSubject, store: approvalStore, ...opts.delivery, log, onResult: (outcome) => metrics.pushDeliveries.inc({ outcome }) });
    const webhooks = new WebhookSender({ store: approvalStore, ...(opts.delivery?.attempts ? { attempts: opts.delivery.attempts } : {}), ...(opts.delivery?.backoffMs ? { backoffMs: opts.delivery.backoffMs } : {}), log, now, onResult: (outcome) => metrics.webhookDeliveries.inc({ outcome }) });
    const approvalService = new ApprovalService({ reader: store, approvals: approvalStore, namespaces, sequencer, publicUrl: config.publicUrl, ttlMs: config.approvalTtlMs, now, push, webhooks, metrics, log });
    const enrollments = new Enrollments({ reader: store, approvals: approvalStore, namespaces, sequencer, rpId: config.rpId, origins: [new URL(config.publicUrl).origin], now });
    const app = createApp({
      store,
      head: headCache,
      namespaces,
      origin,
      verifierKey: signer.verifierKey,
      writer: { requireWriter, sequencer, maxBodyBytes: config.maxBodyBytes, verifyPool },
      failing: () => (sequencer.fatal ? `stopped signing: ${sequencer.fatal.message}` : undefined),
      ...(witnesses ? { servedCheckpoint: () => witnesses.served() } : {}),
      logger,
      metrics,
      ...(config.witnesses ? { witnesses: { quorum: config.witnesses.quorum, vkeys: config.witnesses.witnesses.map((w) => w.vkey), ...(config.witnesses.policy ? { policy: config.witnesses.policy.text } : {}) } } : {}),
      ...(opts.explorer !== false ? { explorer: (a: Hono) => (explorerRoutes(a), approvalPageRoutes(a)) } : {}),
      approvals: approvalRoutes({ service: approvalService, enrollments, approvals: approvalStore, push, reader: store, namespaces, requireWriter }),
      beforeMetrics: async () => {
        for (const [state, n] of Object.entries(await approvalStore.countByState())) metrics.approvalRequests.set({ state }, n);
      },
    });
    approvalService.start(opts.approvalSweepMs);
    witnesses?.start(config.witnessIntervalMs);
    return {
      app,
      store,
      sequencer,
      signer,
      origin,
      sequenceDeps: deps,
      keyCreated,
      approvals: { service: approvalService, push, webhooks, store: approvalStore },
      async close() {
        await approvalService.close();
        await witnesses?.stop();
        await sequencer.close();
        await verifyPool.close();
        await store.close();
        unlock();
      },
    };
  } catch (e) {
    await store.close().catch(() => {});
    unlock();
    throw e;
  }
}

/**
 * Opens the configured store: PostgreSQL, or PGlite in `<dataDir>/pglite`
 * with the data dir locked for this process until `unlock()`.
 */
export async function openLockedStore(config: { dataDir: string; databaseUrl?: string | undefined }): Promise<{ store: KyselyStore; unlock: () => void }> {
  const unlock = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  try {
    return { store: await openStore({ databaseUrl: config.databaseUrl, pgliteDir: join(config.dataDir, "pglite") }), unlock };
  } catch (e) {
    unlock();
    throw new StartupError(`cannot open the store: ${(e as Error).message}`);
  }
}

/** PGlite is single-process: a lock file keeps a second server off the same data dir. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "ledger.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8"));
      if (pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new StartupError(`data dir ${dataDir} is in use by process ${pid} (${path})`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new StartupError(`cannot lock data dir ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
