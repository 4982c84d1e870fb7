/** Running the real `ledger` command as a child process. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const BIN = join(import.meta.dirname, "../../bin/ledger.js");

export interface Running {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `ledger serve` on a free port and resolves once it listens. */
export function startServer(env: Record<string, string | undefined>, timeoutMs = 30_000, nodeArgs: string[] = []): Promise<Running> {
  return startLedger(["serve", "--port", env.PORT ?? "0"], env, timeoutMs, nodeArgs);
}

/** A port free on loopback right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a long-running `ledger` command that prints "listening on <url>". */
export function startLedger(args: string[], env: Record<string, string | undefined>, timeoutMs = 30_000, nodeArgs: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({
          child,
          url: m[1]!,
          stderr: () => err,
          stop: (signal = "SIGTERM") =>
            new Promise((res) => {
              if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode); // already gone
              child.once("exit", (code) => res(code));
              child.kill(signal);
            }),
        });
      }
    });
  });
}

/** Runs a `ledger` command to completion. */
export function runLedger(args: string[], env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}
