/** Fills a fresh ledger store with N signed release records through the real commit protocol. */
import { createHash, createPublicKey, sign, type KeyObject } from "node:crypto";
import { encodeBase64 } from "../client/bytes.js";
import { keyIdOf, recordHash, recordSigningMessage } from "../client/entry.js";
import type { LedgerRecord } from "../schema/records.js";
import { loadConfig } from "../server/config.js";
import { privateKeyFromSeed } from "../server/crypto.js";
import { createLedger } from "../server/ledger.js";
import { sequenceBatch } from "../server/log/sequence.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/helpers/process.js";

/** Records [0, n) of the seed log; `from` skips the first ones (they are generated, not stored). */
export function makeRecords(n: number, namespaces = 100, from = 0): LedgerRecord[] {
  const keys = Array.from({ length: namespaces }, (_, i) => {
    const priv: KeyObject = privateKeyFromSeed(createHash("sha256").update(`seed ${i}`).digest());
    const der = createPublicKey(priv).export({ format: "der", type: "spki" });
    const pub = new Uint8Array(der.subarray(der.length - 32));
    return { priv, keyId: keyIdOf(pub), pubB64: encodeBase64(pub) };
  });
  const signed = (r: { type: string; namespace: string; statement: Record<string, unknown> }, k: (typeof keys)[0]) =>
    ({ ...r, signatures: [{ keyId: k.keyId, sig: sign(null, recordSigningMessage(r as never), k.priv).toString("base64") }] }) as LedgerRecord;
  const out: LedgerRecord[] = from > 0 ? [] : keys.map((k, i) => signed({ type: "key.register", namespace: `npm:@seed${i}`, statement: { publicKey: k.pubB64, role: "publish" } }, k));
  for (let j = Math.max(from, out.length); j < n; j++) {
    const i = j % namespaces;
    out.push(
      signed(
        {
          type: "release.sign",
          namespace: `npm:@seed${i}`,
          statement: { package: `pkg-${j % 97}`, version: `1.0.${j}`, artifacts: [{ name: `pkg-${j}.tgz`, sha256: createHash("sha256").update(String(j)).digest("hex") }] },
        },
        keys[i]!,
      ),
    );
  }
  return out;
}

/** Seeds the store at `env` (LEDGER_DATA_DIR / DATABASE_URL / LEDGER_KEY_FILE) and closes it. */
export async function seed(env: Record<string, string | undefined>, n: number, log: (s: string) => void = () => {}): Promise<void> {
  const ledger = await createLedger(loadConfig(env), { log });
  try {
    // Generated a chunk at a time, so seeding a million entries needs no million records in memory.
    for (let i = 0; i < n; i += 5000) {
      const batch = makeRecords(Math.min(i + 5000, n), 100, i).map((record) => ({ record, recordHash: recordHash(record) }));
      const { outcomes } = await sequenceBatch(ledger.sequenceDeps, batch);
      const bad = outcomes.find((o) => !o.ok);
      if (bad && !bad.ok) throw new Error(`seed record refused: ${bad.error.code}`);
      log(`seeded ${Math.min(i + 5000, n)}/${n}`);
    }
  } finally {
    await ledger.close();
  }
}

/**
 * Seeds a PGlite log of `n` entries in a temporary directory, serves it from a
 * real `ledger serve` process, runs `use` with its URL, verifier key and the
 * directory, then stops the server and removes everything.
 */
export async function withSeededLog<T>(n: number, name: string, use: (log: { url: string; vkey: string; dir: string }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `ledger-${name}-`));
  const env = { LEDGER_DATA_DIR: join(dir, "log"), LEDGER_ORIGIN: "bench.example/log", DATABASE_URL: "", LEDGER_WRITER_TOKENS: "" };
  try {
    const t0 = performance.now();
    await seed(env, n, (s) => process.stderr.write(`\r${s}`));
    process.stderr.write(`\nseeded ${n} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    // BENCH_PROFILE_SOURCE=1 with BENCH_PROFILE_DIR profiles the source log's server too.
    const nodeArgs = process.env.BENCH_PROFILE_DIR && process.env.BENCH_PROFILE_SOURCE === "1" ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const server = await startServer(env, 30_000, nodeArgs);
    server.child.on("exit", (code, signal) => {
      if (!stopping) process.stderr.write(`bench: the source log's server exited (${code ?? signal}): ${server.stderr().slice(-2000)}\n`);
    });
    let stopping = false;
    try {
      const vkey = (await (await fetch(`${server.url}/v1/log`)).json()).verifierKey;
      return await use({ url: server.url, vkey, dir });
    } finally {
      stopping = true;
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
