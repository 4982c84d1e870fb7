/**
 * Replay throughput of the record state machine (client/replay.ts): 100,000
 * records over 100 namespaces, verified with node:crypto and, on a sample,
 * with the pure-JS noble verifier browsers use. BENCH_REPLAY_RECORDS sets N.
 */
import { createHash, createPublicKey, sign, type KeyObject } from "node:crypto";
import { encodeBase64 } from "../client/bytes.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { Replayer, type Verify } from "../client/replay.js";
import { privateKeyFromSeed, ed25519VerifyNode } from "../server/crypto.js";

const N = Number(process.env.BENCH_REPLAY_RECORDS ?? 100_000);
const NAMESPACES = 100;

function makeLog(n: number): unknown[] {
  const keys = Array.from({ length: NAMESPACES }, (_, i) => {
    const priv: KeyObject = privateKeyFromSeed(createHash("sha256").update(`replay ${i}`).digest());
    const der = createPublicKey(priv).export({ format: "der", type: "spki" });
    const pub = new Uint8Array(der.subarray(der.length - 32));
    return { priv, keyId: keyIdOf(pub), pubB64: encodeBase64(pub) };
  });
  const signed = (r: { type: string; namespace: string; statement: Record<string, unknown> }, k: (typeof keys)[0]) => ({
    ...r,
    signatures: [{ keyId: k.keyId, sig: sign(null, recordSigningMessage(r as never), k.priv).toString("base64") }],
  });
  const log: unknown[] = keys.map((k, i) => signed({ type: "key.register", namespace: `npm:@r${i}`, statement: { publicKey: k.pubB64, role: "publish" } }, k));
  for (let j = log.length; j < n; j++) {
    const i = j % NAMESPACES;
    log.push(
      signed(
        { type: "release.sign", namespace: `npm:@r${i}`, statement: { package: `p${j % 50}`, version: `1.0.${j}`, artifacts: [{ name: `p-${j}.tgz`, sha256: createHash("sha256").update(String(j)).digest("hex") }] } },
        keys[i]!,
      ),
    );
  }
  return log;
}

function replay(log: unknown[], verifyFn?: Verify): { seconds: number; refused: number } {
  const r = new Replayer({ breakGlass: "refuse", ...(verifyFn ? { verify: verifyFn } : {}) });
  let refused = 0;
  const t0 = performance.now();
  log.forEach((rec, i) => {
    if (r.apply(rec, BigInt(i)).result !== "applied") refused++;
  });
  return { seconds: (performance.now() - t0) / 1000, refused };
}

export function replayBench(): { records: number; replayRecordsPerSecond: number; replayNobleRecordsPerSecond: number; replayRulesOnlyRecordsPerSecond: number } {
  const log = makeLog(N);
  const node = replay(log, ed25519VerifyNode);
  if (node.refused !== 0) throw new Error(`${node.refused} records refused`);
  // The state machine alone (signatures assumed valid): what is not crypto.
  const rulesOnly = replay(log, () => true);
  const sample = log.slice(0, Math.min(log.length, 5000));
  const noble = replay(sample);
  return {
    records: N,
    replayRecordsPerSecond: Math.round(N / node.seconds),
    replayNobleRecordsPerSecond: Math.round(sample.length / noble.seconds),
    replayRulesOnlyRecordsPerSecond: Math.round(N / rulesOnly.seconds),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const r = replayBench();
  console.log(`replayed ${r.records} records: ${r.replayRecordsPerSecond}/s with node:crypto (${(r.records / r.replayRecordsPerSecond).toFixed(1)} s), ${r.replayNobleRecordsPerSecond}/s with noble (sample); rules alone ${r.replayRulesOnlyRecordsPerSecond}/s`);
  console.log(JSON.stringify({ ...r, totalSeconds: Math.round((performance.now() - t0) / 100) / 10 }));
}
