/** The README's quick start runs as written: operator, registry, package manager, client code. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, startServer, type Running } from "./helpers/process.js";

const ROOT = join(import.meta.dirname, "..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");

function block(tag: string): string {
  const m = new RegExp(`<!-- readme-test: ${tag} -->\\n\`\`\`(?:sh|ts)\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README has no block ${tag}`);
  return m[1]!;
}

/** `npx ledger …` runs this checkout's CLI, from any directory. */
const PRELUDE = `set -euo pipefail\nnpx() { if [ "$1" = ledger ]; then shift; node ${JSON.stringify(BIN)} "$@"; else command npx "$@"; fi; }\n`;

describe("README quick start", () => {
  const dir = mkdtempSync(join(tmpdir(), "ledger-readme-"));
  let server: Running | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs end to end", async () => {
    const env = { ...process.env, LEDGER_DATA_DIR: join(dir, "data"), LEDGER_WRITER_TOKENS: "", DATABASE_URL: "" };
    const operator = /```sh\n(npx ledger token create[^\n]*)\n/.exec(readme)![1]!;
    execFileSync("bash", ["-c", PRELUDE + operator], { cwd: dir, env });
    server = await startServer({ LEDGER_DATA_DIR: join(dir, "data"), LEDGER_WRITER_TOKENS: "", DATABASE_URL: "" });
    const script = PRELUDE + [block("registry"), block("verify")].join("\n").replaceAll("http://127.0.0.1:8080", server.url);
    const sh = spawnSync("bash", ["-c", script], { cwd: dir, env, encoding: "utf8" });
    expect(sh.status, sh.stderr).toBe(0);
    expect(sh.stdout).toMatch(/^ok: my-pkg@1\.0\.0 logged at 2 /m);
    expect(sh.stdout).toMatch(/^ok: .* 3 entries verified/m);

    // The TypeScript snippet, run inside the package so `tlog-ledger/client` resolves to this checkout.
    const file = join(ROOT, "test", `.readme-snippet-${process.pid}.ts`);
    writeFileSync(file, block("client"));
    try {
      const logKey = (await (await fetch(`${server.url}/v1/log`)).json()).verifierKey;
      const ts = spawnSync(join(ROOT, "node_modules/.bin/tsx"), [file], { cwd: dir, env: { ...env, LEDGER_SERVER: server.url, LEDGER_LOG_KEY: logKey }, encoding: "utf8" });
      expect(ts.status, ts.stderr).toBe(0);
      expect(ts.stdout).toMatch(/^verified at index 2 of tree 3$/m);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
