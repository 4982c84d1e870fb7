/** Command-line options shared by the `ledger` commands. */
import { parseArgs } from "node:util";
import { CliError } from "./errors.js";

export type Spec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
export const COMMON: Spec = { server: { type: "string" }, token: { type: "string" }, namespace: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" } };
export const RELEASE: Spec = { package: { type: "string" }, version: { type: "string" }, artifact: { type: "string", multiple: true }, sha512: { type: "boolean" } };
export const VERIFY: Spec = {
  "log-key": { type: "string" },
  state: { type: "string" },
  "break-glass": { type: "string" },
  "core-keys": { type: "string" },
  mirror: { type: "string", multiple: true },
  witness: { type: "string", multiple: true },
  quorum: { type: "string" },
  policy: { type: "string" },
};

export function parse(args: string[], spec: Spec) {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON, ...spec }, strict: true, allowPositionals: true });
    return { v: values as Record<string, any>, files: positionals };
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

/** Options of a command that takes no positional arguments (`--help` always allowed); a bad one is a usage error (exit 2). */
export function parseOptions(args: string[], spec: Spec): Record<string, any> {
  try {
    return parseArgs({ args, options: { ...spec, help: { type: "boolean" } }, strict: true, allowPositionals: false }).values as Record<string, any>;
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

export function need(v: Record<string, any>, ...names: string[]): void {
  for (const n of names) if (v[n] === undefined || v[n] === "") throw new CliError(`--${n} is required`, 2);
}

export function server(v: Record<string, any>): string {
  const s = v.server ?? process.env.LEDGER_SERVER;
  if (!s) throw new CliError("--server <url> (or LEDGER_SERVER) is required", 2);
  return s;
}

