/** How the `ledger` command writes: streams, colours, results, progress. */
import { escapeTerminal } from "./terminal.js";

/**
 * Where a command writes. `isTTY`: stderr is a terminal (progress bars);
 * `color`: which streams may carry ANSI colours (terminals, unless NO_COLOR).
 */
export type Out = { out: (s: string) => void; err: (s: string) => void; isTTY?: boolean; color?: { out: boolean; err: boolean } };

const ANSI = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22] } as const;

/** `text` in a colour when that stream may carry colours; plain otherwise. */
export function paint(io: Out, stream: "out" | "err", color: keyof typeof ANSI, text: string): string {
  if (!io.color?.[stream]) return text;
  const [on, off] = ANSI[color];
  return `\x1b[${on}m${text}\x1b[${off}m`;
}

/** A result: JSON with --json, else one human line; untrusted parts of it are escaped before colours are added. */
export function report(io: Out, v: Record<string, any>, human: string, json: unknown): void {
  if (v.json) io.out(JSON.stringify(json, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) + "\n");
  else io.out(escapeTerminal(human).replace(/^(ok|failed):/, (m, word) => paint(io, "out", word === "ok" ? "green" : "red", m)) + "\n");
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

