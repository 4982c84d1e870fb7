/** CLI failures and their exit codes: 1 a check failed, 2 usage, 3 the server could not be used. */
import { HttpError, LedgerError, PolicyError } from "../client/errors.js";
import { paint, type Out } from "./output.js";
import { escapeTerminal } from "./terminal.js";

/** A usage or input problem, with the exit code it ends the command with. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Maps failures to exit codes: 1 a check failed, 2 usage, 3 the server could not be used. */
export function exitCodeFor(e: unknown, io: Out): number | undefined {
  if (e instanceof CliError) {
    io.err(`ledger: ${escapeTerminal(e.message)}\n`);
    return e.exitCode;
  }
  if (e instanceof HttpError) {
    io.err(`ledger: ${escapeTerminal(e.message)}\n`);
    return 3;
  }
  if (e instanceof LedgerError) {
    const check = e instanceof PolicyError ? ` [${e.check}]` : "";
    io.err(`ledger: ${paint(io, "err", "red", "verification failed")} (${e.code}${check}): ${escapeTerminal(e.message)}\n`);
    return 1;
  }
  return undefined;
}
