/** `ledger mirror`: follows, verifies, stores, serves and cosigns a log. */
import { listen } from "./listen.js";
import { readFileSync } from "node:fs";
import { parseCoreKeys } from "../client/replay.js";
import { parseOptions } from "../cli/args.js";
import { CliError } from "../cli/errors.js";
import { progressLine, type Out } from "../cli/output.js";
import { StartupError } from "./ledger.js";
import { createMirror } from "./mirror/mirror.js";
import { createLogger, isLogLevel, LOG_LEVELS } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";

export const MIRROR_HELP = `Usage: ledger mirror --source <url> --log-key <vkey> [options]
       ledger mirror --push --log-key <vkey> [options]

Follows a log through its tiles, verifies everything (signature, consistency,
every leaf, the hash chain, the record rules), stores the copy, serves the same
read API, cosigns each checkpoint it has fully verified, answers
POST /add-checkpoint and GET /<hex sha256(origin)>/checkpoint (C2SP tlog-witness),
and cross-checks its peers. Cosignatures are Ed25519 (type 0x04) or ML-DSA-44
(type 0x06), as the cosigner key says (--cosigner-alg for a new key).

With --push it pulls nothing: the log pushes to it by C2SP tlog-mirror
(POST /add-checkpoint moves the pending checkpoint, POST /add-entries uploads
entry packages, each checked by a subtree consistency proof and then verified
as in pull mode; the mirror cosigns once it holds every entry). The copy is
also served under /<hex sha256(origin)>/ (checkpoint and tiles).

  --push                be pushed to (C2SP tlog-mirror) instead of pulling from --source
  --log-key-file <f>    read the log's vkey from a file (e.g. the log's <data-dir>/log.vkey)
  --port <n>            listen port (default 8081; 0 = any)
  --host <addr>         listen address (default 127.0.0.1)
  --data-dir <dir>      PGlite files and the cosigner key (default ./mirror-data)
  --database-url <url>  PostgreSQL instead of PGlite
  --key-file <path>     cosigner key (default <data-dir>/mirror.key, created on first start)
  --name <name>         cosigner key name for a new key (default mirror-<random>)
  --cosigner-alg <alg>  ed25519 (default) or ml-dsa-44 (C2SP tlog-cosignature type 0x06,
                        as witnesses SHOULD use) for a new key; an existing key must match
  --peer <url>          another mirror (or the log) to cross-check; repeatable
  --interval <ms>       poll interval (default 1000)
  --core-keys <k>       break-glass core keys (as LEDGER_CORE_KEYS); without, break-glass records are ignored
`;


export async function mirrorCommand(args: string[], io: Out): Promise<number> {
  const v = parseOptions(args, {
    source: { type: "string" },
    push: { type: "boolean" },
    "log-key": { type: "string" },
    "log-key-file": { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    "database-url": { type: "string" },
    "key-file": { type: "string" },
    name: { type: "string" },
    "cosigner-alg": { type: "string" },
    peer: { type: "string", multiple: true },
    interval: { type: "string" },
    "core-keys": { type: "string" },
  });
  if (v.help) return io.out(MIRROR_HELP), 0;
  if (v["log-key-file"]) {
    if (v["log-key"]) throw new CliError("give --log-key or --log-key-file, not both", 2);
    try {
      v["log-key"] = readFileSync(v["log-key-file"], "utf8").trim();
    } catch (e) {
      throw new CliError(`--log-key-file: ${(e as Error).message}`, 2);
    }
  }
  if (!v["log-key"]) throw new CliError("--log-key <vkey> (or --log-key-file) is required", 2);
  if (!v.source === !v.push) throw new CliError("give --source <url> (pull) or --push (C2SP tlog-mirror), one of them", 2);
  const port = Number(v.port ?? 8081);
  const intervalMs = Number(v.interval ?? 1000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError("--port must be 0-65535", 2);
  if (!Number.isInteger(intervalMs) || intervalMs < 10) throw new CliError("--interval must be at least 10 ms", 2);
  let coreKeys;
  try {
    coreKeys = v["core-keys"] ? parseCoreKeys(v["core-keys"]) : undefined;
  } catch (e) {
    throw new CliError(`--core-keys: ${(e as Error).message}`, 2);
  }
  const alg = v["cosigner-alg"];
  if (alg !== undefined && alg !== "ed25519" && alg !== "ml-dsa-44") throw new CliError("--cosigner-alg must be ed25519 or ml-dsa-44", 2);
  const progress = progressLine(io, "mirror");
  const level = process.env.LEDGER_LOG_LEVEL || "info";
  if (!isLogLevel(level)) throw new CliError(`LEDGER_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`, 2);
  const logger = createLogger({ level, name: "ledger-mirror" });
  const mirror = await createMirror(
    { source: v.source, push: v.push === true, logKey: v["log-key"], dataDir: v["data-dir"] ?? "./mirror-data", databaseUrl: v["database-url"], keyFile: v["key-file"], name: v.name, cosignerAlg: alg, peers: v.peer ?? [], intervalMs, coreKeys },
    {
      log: (l) => (/EQUIVOCATION|failed|cannot/.test(l) ? logger.error(l) : logger.info(l)),
      logger,
      metrics: new Metrics({ processMetrics: true }),
      onProgress: progress,
    },
  );
  const { server, port: bound } = await listen(mirror.app, v.host ?? "127.0.0.1", port).catch(async (e) => {
    await mirror.close();
    throw new StartupError(`cannot listen: ${(e as Error).message}`);
  });
  io.err(`ledger: mirror of ${mirror.origin}, cosigner ${mirror.cosigner.verifierKey}\n`);
  io.out(`ledger: listening on http://${v.host ?? "127.0.0.1"}:${bound}\n`);
  mirror.run();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.close();
      mirror.close().finally(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}

