/**
 * `ledger verify-lockfile` over a lockfile of 1,000 packages (BENCH_PACKAGES)
 * from one seeded log: 100 npm scopes, each with an admin, a publish key, an
 * approver and a one-group policy; every package released with sha256 and
 * sha512 and approved; BENCH_FILLER other records (default 10,000) around
 * them. The real CLI runs twice against a real `ledger serve`: cold (syncs
 * and verifies the whole log, writes the tlog-proof cache) and warm (the
 * same checkpoint: bundles verified offline), with wall time and requests.
 */
import { createHash, createPublicKey, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBase64 } from "../client/bytes.js";
import { keyIdOf, recordHash, recordSigningMessage } from "../client/entry.js";
import { approvalSigningMessage } from "../client/replay.js";
import type { LedgerRecord } from "../schema/records.js";
import { loadConfig } from "../server/config.js";
import { privateKeyFromSeed } from "../server/crypto.js";
import { createLedger } from "../server/ledger.js";
import { sequenceBatch } from "../server/log/sequence.js";
import { runLedger, startServer } from "../test/helpers/process.js";
import { makeRecords } from "./seed.js";

const PACKAGES = Number(process.env.BENCH_PACKAGES ?? 1000);
const FILLER = Number(process.env.BENCH_FILLER ?? 10_000);
const SCOPES = 100;

interface Key {
  priv: KeyObject;
  keyId: string;
  pubB64: string;
}
function key(label: string): Key {
  const priv = privateKeyFromSeed(createHash("sha256").update(label).digest());
  const der = createPublicKey(priv).export({ format: "der", type: "spki" });
  const pub = new Uint8Array(der.subarray(der.length - 32));
  return { priv, keyId: keyIdOf(pub), pubB64: encodeBase64(pub) };
}
const sig = (k: Key, msg: Uint8Array) => ({ keyId: k.keyId, sig: sign(null, msg, k.priv).toString("base64") });
const signed = (r: { type: string; namespace: string; statement: Record<string, unknown> }, ...ks: Key[]) => ({ ...r, signatures: ks.map((k) => sig(k, recordSigningMessage(r as never))) }) as LedgerRecord;

/** The log's records and the lockfile's entries. */
function build(): { records: LedgerRecord[]; lock: Record<string, unknown> } {
  const records: LedgerRecord[] = [];
  const packages: Record<string, unknown> = { "": { name: "bench-app", version: "1.0.0" } };
  const scopes = Array.from({ length: SCOPES }, (_, i) => ({ ns: `npm:@lock${i}`, admin: key(`admin ${i}`), publisher: key(`publish ${i}`), approver: key(`approve ${i}`) }));
  for (const s of scopes) {
    records.push(signed({ type: "key.register", namespace: s.ns, statement: { publicKey: s.admin.pubB64, role: "admin" } }, s.admin));
    records.push(signed({ type: "key.register", namespace: s.ns, statement: { publicKey: s.publisher.pubB64, role: "publish" } }, s.publisher, s.admin));
    records.push(signed({ type: "key.register", namespace: s.ns, statement: { publicKey: s.approver.pubB64, role: "approve" } }, s.approver, s.admin));
    records.push(signed({ type: "policy.set", namespace: s.ns, statement: { adminThreshold: 1, groups: [{ name: "maintainers", members: [s.approver.keyId], threshold: 1, excludeRequester: false }] } }, s.admin));
  }
  for (let j = 0; j < PACKAGES; j++) {
    const s = scopes[j % SCOPES]!;
    const name = `@lock${j % SCOPES}/pkg-${j}`;
    const version = "1.0.0";
    const tarball = `tarball of ${name}@${version}`;
    const sha512 = createHash("sha512").update(tarball);
    const artifacts = [{ name: `pkg-${j}-${version}.tgz`, sha256: createHash("sha256").update(tarball).digest("hex"), sha512: sha512.copy().digest("hex") }];
    records.push(signed({ type: "release.sign", namespace: s.ns, statement: { package: name, version, artifacts, requester: s.approver.keyId } }, s.publisher));
    const approval = sig(s.approver, approvalSigningMessage({ namespace: s.ns, package: name, version, artifacts, requester: s.approver.keyId }));
    records.push(signed({ type: "approval.outcome", namespace: s.ns, statement: { package: name, version, artifacts, requester: s.approver.keyId, approvals: [approval], decision: "approved" } }, s.publisher));
    packages[`node_modules/${name}`] = { version, resolved: `https://registry.example/${name}/-/pkg-${j}-${version}.tgz`, integrity: `sha512-${sha512.digest("base64")}` };
  }
  return { records, lock: { name: "bench-app", version: "1.0.0", lockfileVersion: 3, requires: true, packages } };
}

export async function lockfileBench(): Promise<{ packages: number; treeSize: number; cold: { seconds: number; requests: number }; warm: { seconds: number; requests: number; fromCache: boolean } }> {
  const dir = mkdtempSync(join(tmpdir(), "ledger-bench-lockfile-"));
  const env = { LEDGER_DATA_DIR: join(dir, "log"), LEDGER_ORIGIN: "bench.example/log", DATABASE_URL: "", LEDGER_WRITER_TOKENS: "" };
  try {
    const { records, lock } = build();
    const all = [...makeRecords(FILLER / 2), ...records, ...makeRecords(FILLER, 100, FILLER / 2)];
    const ledger = await createLedger(loadConfig(env), { log: () => {} });
    try {
      for (let i = 0; i < all.length; i += 5000) {
        const { outcomes } = await sequenceBatch(
          ledger.sequenceDeps,
          all.slice(i, i + 5000).map((record) => ({ record, recordHash: recordHash(record) })),
        );
        const bad = outcomes.find((o) => !o.ok);
        if (bad && !bad.ok) throw new Error(`seed record refused: ${bad.error.code}`);
      }
    } finally {
      await ledger.close();
    }
    const lockPath = join(dir, "package-lock.json");
    writeFileSync(lockPath, JSON.stringify(lock));
    const server = await startServer(env);
    try {
      const vkey = (await (await fetch(`${server.url}/v1/log`)).json()).verifierKey;
      const once = async () => {
        const t0 = performance.now();
        const r = await runLedger(["verify-lockfile", lockPath, "--server", server.url, "--log-key", vkey, "--state", join(dir, "state"), "--json"]);
        const seconds = (performance.now() - t0) / 1000;
        if (r.code !== 0) throw new Error(`verify-lockfile failed (${r.code}): ${r.stderr}${r.stdout.slice(0, 2000)}`);
        const s = JSON.parse(r.stdout);
        if (s.verified !== PACKAGES) throw new Error(`verified ${s.verified} of ${PACKAGES}`);
        return { seconds: Math.round(seconds * 100) / 100, requests: s.requests as number, fromCache: s.fromCache as boolean, treeSize: Number(s.treeSize) };
      };
      const cold = await once();
      const warm = await once();
      return { packages: PACKAGES, treeSize: cold.treeSize, cold: { seconds: cold.seconds, requests: cold.requests }, warm };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await lockfileBench();
  console.log(`verify-lockfile, ${r.packages} packages in a log of ${r.treeSize} entries (wall time, CLI process start included):`);
  console.log(`  cold: ${r.cold.seconds} s, ${r.cold.requests} requests (syncs and verifies the whole log, writes the tlog-proof cache)`);
  console.log(`  warm: ${r.warm.seconds} s, ${r.warm.requests} request${r.warm.requests === 1 ? "" : "s"}${r.warm.fromCache ? " (bundles verified offline)" : ""}`);
  console.log(JSON.stringify(r));
}
