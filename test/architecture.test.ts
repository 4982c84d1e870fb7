/**
 * Import boundaries (STYLE: dependencies flow one way, schema ← client ← server):
 * - client/ imports only client/, @noble/* and, type-only, schema/ — it runs in
 *   browsers and is what package managers embed;
 * - pg and kysely (and the PGlite driver) only in server/store/ and migrations/,
 *   besides the type-only Kysely `Database` interface in schema/database.ts.
 * Tests and benchmarks are outside these rules.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && /\.(ts|mjs|js)$/.test(d.name) && !/\.test\.ts$/.test(d.name))
    .map((d) => relative(ROOT, join(d.parentPath, d.name)));
}

/** Every static, re-export and dynamic import: [specifier, type-only]. */
export function importsOf(source: string): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = [];
  for (const m of source.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?\bfrom\s+["']([^"']+)["']/gm)) out.push([m[3]!, m[2] !== undefined]);
  for (const m of source.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) out.push([m[1]!, false]);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push([m[1]!, false]);
  return out;
}

describe("architecture", () => {
  it("finds imports of every form (the checker itself)", () => {
    expect(importsOf(`import a from "x";\nimport type { B } from "../schema/y.js";\nexport { c } from "./z.js";\nimport "side";\nconst d = await import("dyn");`)).toEqual([
      ["x", false],
      ["../schema/y.js", true],
      ["./z.js", false],
      ["side", false],
      ["dyn", false],
    ]);
  });

  /** The imports of `dir`'s files that `allowed` refuses. */
  function violations(dir: string, allowed: (spec: string, typeOnly: boolean) => boolean): string[] {
    const bad: string[] = [];
    for (const f of files(dir)) {
      for (const [spec, typeOnly] of importsOf(readFileSync(join(ROOT, f), "utf8"))) if (!allowed(spec, typeOnly)) bad.push(`${f}: ${spec}${typeOnly ? " (type)" : ""}`);
    }
    return bad;
  }

  it("client/ imports only client/, @noble/* and type-only schema/", () => {
    expect(violations("client", (spec, typeOnly) => spec.startsWith("./") || spec.startsWith("@noble/") || (typeOnly && spec.startsWith("../schema/")))).toEqual([]);
  });

  it("cli/ (the package manager's side) imports only cli/, client/, type-only schema/ and Node built-ins", () => {
    expect(violations("cli", (spec, typeOnly) => spec.startsWith("./") || spec.startsWith("../client/") || spec.startsWith("node:") || (typeOnly && spec.startsWith("../schema/")))).toEqual([]);
  });

  it("explorer/src (bundled for browsers) imports only itself, client/ and type-only schema/", () => {
    expect(violations("explorer/src", (spec, typeOnly) => spec.startsWith("./") || spec.startsWith("../../client/") || (typeOnly && spec.startsWith("../../schema/")))).toEqual([]);
  });

  it("integrations/ (plugins that run inside a registry) import only themselves, client/, cli/ and Node built-ins", () => {
    expect(violations("integrations", (spec, typeOnly) => spec.startsWith("./") || spec.startsWith("../../client/") || spec.startsWith("../../cli/") || spec.startsWith("node:") || (typeOnly && spec.startsWith("../../schema/")) || spec === "../../dist/integrations/verdaccio/plugin.js")).toEqual([]);
  });

  it("pg, kysely and the PGlite driver only in server/store/ and migrations/", () => {
    const bad: string[] = [];
    for (const dir of ["client", "cli", "schema", "server", "explorer/src", "migrations", "bin"]) {
      for (const f of files(dir)) {
        if (f.startsWith("server/store/") || f.startsWith("migrations/")) continue;
        for (const [spec, typeOnly] of importsOf(readFileSync(join(ROOT, f), "utf8"))) {
          if (!/^(pg|kysely|kysely-pglite-dialect|@electric-sql\/pglite)(\/|$)/.test(spec)) continue;
          if (f === "schema/database.ts" && spec === "kysely" && typeOnly) continue;
          bad.push(`${f}: ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
