/** `ledger monitor`: follows a log and reports every record about the watched namespaces. */
import { LedgerClient } from "../client/ledger-client.js";
import { parseCoreKeys, releaseStatus, type ReplayEvent } from "../client/replay.js";
import type { LedgerRecord } from "../schema/records.js";
import { parseOptions } from "./args.js";
import { CliError } from "./errors.js";
import { FileStateStore } from "./file-state.js";
import { ed25519VerifyNode } from "./node-ed25519.js";
import { paint, type Out } from "./output.js";
import { escapeTerminal } from "./terminal.js";


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
    summary = `key.register role ${st.role}${st.label ? ` (${st.label})` : ""}${st.webauthn ? ` passkey for ${st.webauthn.rpId}` : ""}`;
    if (event.result === "applied") alerts.push("NEW KEY");
    if (st.breakGlass) alerts.push("BREAK-GLASS");
  } else if (record.type === "key.revoke") {
    summary = `key.revoke ${st.keyId}: ${st.reason}`;
    if (st.breakGlass) alerts.push("BREAK-GLASS");
  } else if (record.type === "release.sign") {
    summary = `release.sign ${st.package}@${st.version}`;
    const status = ns && releaseStatus(ns, st.package, st.version);
    if (event.result === "applied" && status && !status.approved) alerts.push("RELEASE WITHOUT APPROVAL");
  } else if (record.type === "approval.outcome") {
    summary = `approval.outcome ${st.package}@${st.version}: ${st.decision} by ${(st.approvals as Array<{ keyId: string; webauthn?: unknown }>).map((a) => `${a.keyId.slice(0, 12)}…${a.webauthn ? " (passkey)" : ""}`).join(", ")}`;
    if (event.result === "applied" && st.decision === "rejected") alerts.push("REJECTED");
  }
  else if (record.type === "release.revoke") summary = `release.revoke ${st.package}@${st.version}: ${st.reason}`;
  return { index: event.index.toString(), namespace: event.namespace, type: event.type, alerts, summary };
}

export async function monitorCommand(args: string[], io: Out): Promise<number> {
  const v = parseOptions(args, {
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
      const alerts = report.alerts.map((a) => paint(io, "out", a === "BREAK-GLASS" || a === "REJECTED" || a.startsWith("RELEASE WITHOUT") ? "red" : "yellow", `[${a}]`));
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
