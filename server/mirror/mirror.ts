/** `ledger mirror`: a separate process with its own store that follows, verifies, serves and cosigns a log. */
import { join } from "node:path";
import type { Hono } from "hono";
import { createVerifier } from "../../client/note.js";
import type { CoreKeys } from "../../client/replay.js";
import { createApp } from "../app.js";
import { explorerRoutes } from "../explorer.js";
import { defaultVerifyThreads, VerifyPool } from "../../cli/verify-pool.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { openLockedStore, StartupError } from "../ledger.js";
import { loadOrCreateKey, KeyFileError } from "../log/signer.js";
import { NamespaceCache } from "../state/namespaces.js";
import type { KyselyStore } from "../store/kysely-store.js";
import { createCosigner, type Cosigner } from "./cosigner.js";
import { MirrorFollower } from "./follower.js";
import { witnessRoutes } from "./witness-routes.js";
import { createHash, randomBytes } from "node:crypto";
import { MirrorReceiver } from "./receiver.js";

export interface MirrorConfig {
  /** The log to pull from; absent in push mode. */
  source?: string;
  /** C2SP tlog-mirror push mode: the log uploads with add-checkpoint and add-entries, nothing is pulled. */
  push?: boolean;
  logKey: string;
  dataDir: string;
  databaseUrl?: string;
  keyFile?: string;
  name?: string;
  /** The algorithm of a cosigner key made on first start (an existing key file says its own). */
  cosignerAlg?: "ed25519" | "ml-dsa-44";
  peers: string[];
  intervalMs: number;
  coreKeys?: CoreKeys;
  /** Signature verification threads (default cores − 1, at most 4; 0 = in process). */
  verifyThreads?: number;
}

export interface Mirror {
  app: Hono;
  store: KyselyStore;
  follower: MirrorFollower;
  /** The push side (tlog-mirror add-entries), in push mode. */
  receiver: MirrorReceiver | undefined;
  cosigner: Cosigner;
  origin: string;
  /** Polls the source and the peers until close(). */
  run(): void;
  close(): Promise<void>;
}

export interface MirrorOptions {
  log?: (l: string) => void;
  fetch?: typeof fetch;
  onProgress?: (done: bigint, total: bigint) => void;
  logger?: Logger;
  metrics?: Metrics;
  /** Serve the web explorer at `/` (default true). */
  explorer?: boolean;
}

export async function createMirror(config: MirrorConfig, opts: MirrorOptions = {}): Promise<Mirror> {
  const log = opts.log ?? ((l) => console.error(l));
  let logVerifier;
  try {
    logVerifier = createVerifier(config.logKey);
  } catch (e) {
    throw new StartupError(`--log-key: ${(e as Error).message}`);
  }
  const origin = logVerifier.name;
  let skey: string;
  try {
    skey = loadOrCreateKey(config.keyFile ?? join(config.dataDir, "mirror.key"), config.name ?? `mirror-${randomBytes(4).toString("hex")}`, config.keyFile === undefined, config.cosignerAlg).skey;
  } catch (e) {
    throw new StartupError(e instanceof KeyFileError ? e.message : String(e));
  }
  const cosigner = createCosigner(skey);
  if (config.cosignerAlg && cosigner.alg !== config.cosignerAlg) {
    throw new StartupError(`the cosigner key is ${cosigner.alg}, not ${config.cosignerAlg}: a key keeps its algorithm (use another --key-file for a new one)`);
  }
  const { store, unlock } = await openLockedStore(config);
  const meta = await store.initMeta({ origin, verifierKey: config.logKey });
  if (meta.verifierKey !== config.logKey) {
    await store.close();
    unlock();
    throw new StartupError(`this store mirrors ${meta.verifierKey}, not ${config.logKey}`);
  }
  const namespaces = new NamespaceCache({ breakGlass: config.coreKeys ? "accept" : "refuse", coreKeys: config.coreKeys });
  const verifyPool = new VerifyPool(config.verifyThreads ?? defaultVerifyThreads(1));
  if (!config.push === !config.source) {
    await store.close();
    unlock();
    throw new StartupError("a mirror either pulls from --source or is pushed to (--push), not both or neither");
  }
  const follower = new MirrorFollower({ store, source: config.source ?? "", origin, logVerifier, cosigner, namespaces, log, fetch: opts.fetch, onProgress: opts.onProgress, verifyPool });
  const receiver = config.push ? new MirrorReceiver({ store, follower, namespaces, verifyPool, origin, cosignerName: cosigner.name, log }) : undefined;
  const app = createApp({
    store,
    namespaces,
    origin,
    verifierKey: config.logKey,
    failing: () => follower.failing,
    extraRoutes: (a) => a.route("/", witnessRoutes({ store, follower, origin, cosignerName: cosigner.name, ...(receiver ? { receiver } : {}) })),
    originHash: createHash("sha256").update(origin).digest("hex"),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.explorer !== false ? { explorer: explorerRoutes } : {}),
  });
  let stopped = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  return {
    app,
    store,
    follower,
    receiver,
    cosigner,
    origin,
    run() {
      loop ??= (async () => {
        while (!stopped) {
          if (!receiver) await follower.syncTo().catch((e) => log(`mirror: sync: ${(e as Error).message}`));
          for (const peer of config.peers) await follower.crossCheck(peer).catch((e) => log(`mirror: cross-check ${peer}: ${(e as Error).message}`));
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, config.intervalMs);
          });
        }
      })();
    },
    async close() {
      stopped = true;
      wake?.();
      await loop;
      await follower.idle(); // let a running sync finish its transaction
      await receiver?.idle();
      await verifyPool.close();
      await store.close();
      unlock();
    },
  };
}
