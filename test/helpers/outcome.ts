/** Test helpers shared by unit and end-to-end tests: the outcome of a call, and waiting for a condition. */
import { expect } from "vitest";
import { LedgerError } from "../../client/errors.js";

/** "ok", or the code of the typed error the call threw (a failure must be a LedgerError with a code, never a raw TypeError). */
export function outcome(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    return (e as LedgerError).code;
  }
}

/** Polls `f` until it returns a value (errors count as not yet), or fails naming what it waited for and the last error. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000, every = 100): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}
