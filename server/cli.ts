/** The `ledger` command line: a small dispatcher (see main). */
import { exitCodeFor } from "../cli/errors.js";
import type { Out } from "../cli/output.js";
import { escapeTerminal } from "../cli/terminal.js";

const HELP = `ledger: an append-only transparency ledger for software supply chains

Usage: ledger <command> [options]

Commands:
  serve      run the log server (PGlite in ./data unless DATABASE_URL is set)
  keygen     write a new Ed25519 key file (mode 0600): the log key, or a namespace key
  migrate    run the database migrations and exit
  token      create, list or revoke writer tokens of registries

Registries and maintainers (write records; need --server and --token):
  register-key, revoke-key, set-policy, sign-release, approve, submit-outcome
  request-approval  open an approval request, wait for the decision (exit 0 approved)
  approvals  list approval requests and webhook deliveries (on the server's database)

Package managers and auditors (verify; need --server and --log-key):
  verify-release   check a release: logged, signed, approved, not revoked
  verify-log       audit the whole log from scratch, with progress and a summary
  verify-lockfile  check every package of a package-lock.json against the log
  status           fetch and verify the latest checkpoint against the trusted one

Independent parties:
  mirror     follow, verify, store, serve and cosign a log; cross-check peers
  monitor    report every record about watched namespaces (new keys, break-glass, unapproved releases)

  help       show this help

Add --json for machine-readable output. Exit codes: 0 ok, 1 a check failed,
2 usage or configuration, 3 the server could not be used.

Run 'ledger <command> --help' for the options of a command.
`;

/** Colours only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb. */
function colorAllowed(stream: NodeJS.WriteStream, env = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

const stdio: Out = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: process.stderr.isTTY,
  color: { out: colorAllowed(process.stdout), err: colorAllowed(process.stderr) },
};

/**
 * Runs a command. Each command's module is imported only when it runs, so a
 * package manager's `ledger verify-release` (or `--help`) never loads the
 * server, its database drivers or zod.
 */
export async function main(argv: string[], io: Out = stdio): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
      case "keygen":
      case "migrate":
      case "token":
      case "approvals":
        return await (await import("./cli-server.js")).SERVER_COMMANDS[command]!(rest, io);
      case "mirror":
        return await (await import("./cli-mirror.js")).mirrorCommand(rest, io);
      case "monitor":
        return await (await import("../cli/monitor.js")).monitorCommand(rest, io);
      case "register-key":
      case "revoke-key":
      case "set-policy":
      case "sign-release":
      case "approve":
      case "submit-outcome":
        return await (await import("./cli-commands.js")).WRITE_COMMANDS[command]!(rest, io);
      case "request-approval":
        return await (await import("./cli-approvals.js")).APPROVAL_COMMANDS[command]!(rest, io);
      case "verify-lockfile":
        return await (await import("../cli/lockfile.js")).verifyLockfileCommand(rest, io);
      case "verify-release":
      case "verify-log":
      case "status":
        return await (await import("../cli/verify.js")).VERIFY_COMMANDS[command]!(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(HELP);
        return 0;
      default:
        io.err(`ledger: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    const code = exitCodeFor(e, io);
    if (code !== undefined) return code;
    // The server's configuration and start-up errors, known by name (their modules are loaded lazily).
    if (e instanceof Error && ["ConfigError", "StartupError", "KeyFileError", "UsageError"].includes(e.name)) {
      io.err(`ledger: ${escapeTerminal(e.message)}\n`);
      return 2;
    }
    throw e;
  }
}

