/**
 * New PGlite data directories are copies of one initdb template per user and
 * PGlite version: each copy is a store of its own, the template is never
 * written to, a cache directory others may write to is not used, and
 * LEDGER_CACHE_DIR=off runs initdb for every store.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openStore } from "./kysely-store.js";

const root = mkdtempSync(join(tmpdir(), "ledger-dialect-"));
const saved = process.env.LEDGER_CACHE_DIR;

afterEach(() => {
  if (saved === undefined) delete process.env.LEDGER_CACHE_DIR;
  else process.env.LEDGER_CACHE_DIR = saved;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function roundTrip(dir: string, origin: string): Promise<string> {
  const s = await openStore({ pgliteDir: dir });
  try {
    return (await s.initMeta({ origin, verifierKey: `${origin}+00000000+AAAA` })).origin;
  } finally {
    await s.close();
  }
}

describe("PGlite data directories from an initdb template", () => {
  it("copies the template into each new store; the stores are independent and the template stays unwritten", async () => {
    const cache = join(root, "cache");
    process.env.LEDGER_CACHE_DIR = cache;
    expect(await roundTrip(join(root, "a"), "a.example/log")).toBe("a.example/log");
    const [template] = readdirSync(cache).filter((n) => n.endsWith("-initdb"));
    expect(template).toMatch(/^pglite-\d+\.\d+\.\d+-initdb$/);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const before = readdirSync(join(cache, template!)).length;
    expect(await roundTrip(join(root, "b"), "b.example/log")).toBe("b.example/log");
    // Each store keeps its own meta: b did not start from a's.
    expect(await roundTrip(join(root, "a"), "other.example/log")).toBe("a.example/log");
    expect(readdirSync(join(cache, template!)).length).toBe(before);
    expect(readdirSync(cache).filter((n) => n.includes(".tmp-"))).toEqual([]);
    expect(readdirSync(root).filter((n) => n.includes(".init-"))).toEqual([]);
  }, 60_000);

  it("does not use a cache directory that others may write to, nor one turned off", async () => {
    const open = join(root, "open-cache");
    mkdirSync(open, { recursive: true });
    chmodSync(open, 0o777);
    process.env.LEDGER_CACHE_DIR = open;
    expect(await roundTrip(join(root, "c"), "c.example/log")).toBe("c.example/log");
    expect(readdirSync(open)).toEqual([]);
    process.env.LEDGER_CACHE_DIR = "off";
    expect(await roundTrip(join(root, "d"), "d.example/log")).toBe("d.example/log");
    expect(existsSync(join(root, "d", "PG_VERSION"))).toBe(true);
  }, 60_000);
});
