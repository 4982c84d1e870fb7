/** `ledger mirror` and `ledger monitor`: long-running followers of a log. */
import { listen } from "./listen.js";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { LedgerClient } from "../client/ledger-client.js";
import { parseCoreKeys, releaseStatus, type ReplayEvent } from "../client/replay.js";
import type { LedgerRecord } from "../schema/records.js";
import { CliError } from "./cli-records.js";
import { paint, type Out } from "./cli-commands.js";
import { escapeTerminal } from "./terminal.js";
import { ed25519VerifyNode } from "./crypto.js";
import { FileStateStore } from "./file-state.js";
import { StartupError } from "./ledger.js";
import { createMirror } from "./mirror/mirror.js";
import { createLogger, isLogLevel, LOG_LEVELS } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";

export const MIRROR_HELP = `Usage: ledger mirror --source <url> --log-key <vkey> [options]

Follows a log through its tiles, verifies everything (signature, consistency,
every leaf, the hash chain, the record rules), stores the copy, serves the same
read API, cosigns each checkpoint it has fully verified, answers
POST /add-checkpoint (C2SP tlog-witness), and cross-checks its peers.

  --log-key-file <f>    read the log's vkey from a file (e.g. the log's <data-dir>/log.vkey)
  --port <n>            listen port (default 8081; 0 = any)
  --host <addr>         listen address (default 127.0.0.1)
  --data-dir <dir>      PGlite files and the cosigner key (default ./mirror-data)
  --database-url <url>  PostgreSQL instead of PGlite
  --key-file <path>     cosigner key (default <data-dir>/mirror.key, created on first start)
  --name <name>         cosigner key name for a new key (default mirror-<random>)
  --peer <url>          another mirror (or the log) to cross-check; repeatable
  --interval <ms>       poll interval (default 1000)
  --core-keys <k>       break-glass core keys (as LEDGER_CORE_KEYS); without, break-glass records are ignored
`;

function opts(args: string[], spec: Record<string, { type: "string" | "boolean"; multiple?: boolean }>) {
  try {
    return parseArgs({ args, options: { ...spec, help: { type: "boolean" } }, strict: true, allowPositionals: false }).values as Record<string, any>;
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

export async function mirrorCommand(args: string[], io: Out): Promise<number> {
  const v = opts(args, {
    source: { type: "string" },
    "log-key": { type: "string" },
    "log-key-file": { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    "database-url": { type: "string" },
    "key-file": { type: "string" },
    name: { type: "string" },
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
  if (!v.source || !v["log-key"]) throw new CliError("--source <url> and --log-key <vkey> (or --log-key-file) are required", 2);
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
  const progress = progressLine(io, "mirror");
  const level = process.env.LEDGER_LOG_LEVEL || "info";
  if (!isLogLevel(level)) throw new CliError(`LEDGER_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`, 2);
  const logger = createLogger({ level, name: "ledger-mirror" });
  const mirror = await createMirror(
    { source: v.source, logKey: v["log-key"], dataDir: v["data-dir"] ?? "./mirror-data", databaseUrl: v["database-url"], keyFile: v["key-file"], name: v.name, peers: v.peer ?? [], intervalMs, coreKeys },
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

/** A progress bar on a terminal; a line every 10% elsewhere. */
export function progressLine(io: Out, what: string): (done: bigint, total: bigint) => void {
  const t0 = performance.now();
  let lastTenth = -1;
  return (done, total) => {
    const frac = total === 0n ? 1 : Number(done) / Number(total);
    const rate = Math.round(Number(done) / Math.max((performance.now() - t0) / 1000, 1e-3));
    if (io.isTTY) {
      const filled = Math.round(frac * 30);
      io.err(`\r${what} [${"#".repeat(filled)}${" ".repeat(30 - filled)}] ${(frac * 100).toFixed(0)}% ${done}/${total} ${rate}/s${done === total ? "\n" : ""}`);
    } else if (Math.floor(frac * 10) > lastTenth) {
      lastTenth = Math.floor(frac * 10);
      io.err(`${what}: ${done}/${total} entries (${(frac * 100).toFixed(0)}%), ${rate}/s\n`);
    }
  };
}

export const MONITOR_HELP = `Usage: ledger monitor --server <url> --log-key <vkey> --namespace <ns>… [options]

Follows the log, verifying as verify-log does, and reports every record about
the watched namespaces; flags new keys, revocations, break-glass and releases
without an approval that meets the namespace's policy.

  --webhook <url>     also POST each report as JSON
  --interval <ms>     poll interval (default 5000)
  --once              report what is logged now, then exit
  --state <file>      trusted checkpoint (forks are detected across runs)
  --break-glass accept|refuse, --core-keys <k>   as for verify-release
  --json              one JSON object per line
`;

interface Report {
  index: string;
  namespace: string;
  type: string;
  alerts: string[];
  summary: string;
}

function describe(event: ReplayEvent, record: LedgerRecord, client: LedgerClient): Report {
  const alerts: string[] = [];
  let summary: string = event.type;
  const ns = client.replayer.namespaces.get(event.namespace);
  if (event.result === "refused") alerts.push(`REFUSED: the log holds a record the rules refuse (${event.error?.code})`);
  if (event.result === "ignored") alerts.push("BREAK-GLASS record ignored (policy refuse)");
  const st = record.statement as Record<string, any>;
  if (record.type === "key.register") {
    summary = `key.register role ${st.role}${st.label ? ` (${st.label})` : ""}`;
    if (event.result === "applied") alerts.push("NEW KEY");
    if (st.breakGlass) alerts.push("BREAK-GLASS");
  } else if (record.type === "key.revoke") {
    summary = `key.revoke ${st.keyId}: ${st.reason}`;
    if (st.breakGlass) alerts.push("BREAK-GLASS");
  } else if (record.type === "release.sign") {
    summary = `release.sign ${st.package}@${st.version}`;
    const status = ns && releaseStatus(ns, st.package, st.version);
    if (event.result === "applied" && status && !status.approved) alerts.push("RELEASE WITHOUT APPROVAL");
  } else if (record.type === "approval.outcome") summary = `approval.outcome ${st.package}@${st.version}: ${st.decision}`;
  else if (record.type === "release.revoke") summary = `release.revoke ${st.package}@${st.version}: ${st.reason}`;
  return { index: event.index.toString(), namespace: event.namespace, type: event.type, alerts, summary };
}

export async function monitorCommand(args: string[], io: Out): Promise<number> {
  const v = opts(args, {
    server: { type: "string" },
    "log-key": { type: "string" },
    namespace: { type: "string", multiple: true },
    webhook: { type: "string" },
    interval: { type: "string" },
    once: { type: "boolean" },
    state: { type: "string" },
    "break-glass": { type: "string" },
    "core-keys": { type: "string" },
    json: { type: "boolean" },
  });
  if (v.help) return io.out(MONITOR_HELP), 0;
  if (!v.server || !v["log-key"] || !v.namespace?.length) throw new CliError("--server, --log-key and at least one --namespace are required", 2);
  const watched = new Set<string>(v.namespace);
  const breakGlass = v["break-glass"] ?? "refuse";
  if (breakGlass !== "accept" && breakGlass !== "refuse") throw new CliError("--break-glass must be accept or refuse", 2);
  const client: LedgerClient = new LedgerClient({
    url: v.server,
    logKey: v["log-key"],
    breakGlass,
    verify: ed25519VerifyNode,
    ...(v["core-keys"] ? { coreKeys: parseCoreKeys(v["core-keys"]) } : {}),
    ...(v.state ? { state: new FileStateStore(v.state) } : {}),
    onRecord: async (event, record) => {
      const r = record as LedgerRecord;
      if (!watched.has(event.namespace) && !(typeof r?.namespace === "string" && watched.has(r.namespace))) return;
      const report = describe(event, r, client);
      const alerts = report.alerts.map((a) => paint(io, "out", a === "BREAK-GLASS" || a.startsWith("RELEASE WITHOUT") ? "red" : "yellow", `[${a}]`));
      // Labels, reasons, names: whatever a record says is escaped before it reaches a terminal.
      io.out(v.json ? JSON.stringify(report) + "\n" : `${report.index} ${escapeTerminal(report.namespace)} ${escapeTerminal(report.summary)}${alerts.length ? `  ${alerts.join(" ")}` : ""}\n`);
      if (v.webhook) {
        await fetch(v.webhook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(report) }).catch((e) => io.err(`ledger: webhook: ${(e as Error).message}\n`));
      }
    },
  });
  const interval = Number(v.interval ?? 5000);
  for (;;) {
    await client.sync();
    if (v.once) return 0;
    await new Promise((r) => setTimeout(r, interval));
  }
}
