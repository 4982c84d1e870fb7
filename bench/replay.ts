/**
 * Replay throughput of the record state machine (client/replay.ts): 100,000
 * records over 100 namespaces, verified with node:crypto and, on a sample,
 * with the pure-JS noble verifier browsers use; then a mix where 20% of the
 * records are approval outcomes carrying three passkey (ES256) approvals.
 * BENCH_REPLAY_RECORDS sets N.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { encodeBase64 } from "../client/bytes.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { approvalSigningMessage, Replayer, type Verify } from "../client/replay.js";
import { webauthnChallenge } from "../client/webauthn.js";
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

/**
 * A passkey's assertion over M, made as an authenticator does (authenticatorData for rpId
 * "bench.example" with UP and UV, clientDataJSON with the challenge, ECDSA P-256 over both):
 * synthetic keys, real formats, so replay does all the work it does for a browser's.
 */
function assertion(priv: KeyObject, message: Uint8Array, counter: number) {
  const authenticatorData = Buffer.concat([createHash("sha256").update("bench.example").digest(), Buffer.from([0x05]), Buffer.from(Uint32Array.of(counter).buffer).reverse()]);
  const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge: webauthnChallenge(message), origin: "https://bench.example", crossOrigin: false }));
  const signature = sign("sha256", Buffer.concat([authenticatorData, createHash("sha256").update(clientDataJSON).digest()]), priv);
  return { authenticatorData: authenticatorData.toString("base64"), clientDataJSON: clientDataJSON.toString("base64"), signature: signature.toString("base64") };
}

/** Per namespace: admin, publisher, three passkey approvers, a 3-of-3 policy; then four releases for every outcome. */
function makePasskeyLog(n: number): unknown[] {
  const log: unknown[] = [];
  const ed = (seed: string) => {
    const priv = privateKeyFromSeed(createHash("sha256").update(seed).digest());
    const der = createPublicKey(priv).export({ format: "der", type: "spki" });
    const pub = new Uint8Array(der.subarray(der.length - 32));
    return { priv, keyId: keyIdOf(pub), pubB64: encodeBase64(pub) };
  };
  const sigBy = (r: object, k: { priv: KeyObject; keyId: string }) => ({ keyId: k.keyId, sig: sign(null, recordSigningMessage(r as never), k.priv).toString("base64") });
  const states = Array.from({ length: NAMESPACES }, (_, i) => {
    const ns = `npm:@pk${i}`;
    const admin = ed(`pk admin ${i}`);
    const publisher = ed(`pk publish ${i}`);
    const approvers = [0, 1, 2].map((j) => {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
      return { priv: privateKey, spkiB64: encodeBase64(spki), keyId: keyIdOf(spki), credentialId: `cred-${i}-${j}`, counter: 0 };
    });
    const body = (type: string, statement: object) => ({ type, namespace: ns, statement });
    const reg = body("key.register", { publicKey: admin.pubB64, role: "admin" });
    log.push({ ...reg, signatures: [sigBy(reg, admin)] });
    const regPub = body("key.register", { publicKey: publisher.pubB64, role: "publish" });
    log.push({ ...regPub, signatures: [sigBy(regPub, publisher), sigBy(regPub, admin)] });
    for (const a of approvers) {
      const r = body("key.register", { publicKey: a.spkiB64, role: "approve", webauthn: { credentialId: a.credentialId, rpId: "bench.example", alg: -7 } });
      log.push({ ...r, signatures: [{ keyId: a.keyId, webauthn: assertion(a.priv, recordSigningMessage(r as never), ++a.counter) }, sigBy(r, admin)] });
    }
    const pol = body("policy.set", { adminThreshold: 1, groups: [{ name: "maintainers", members: approvers.map((a) => a.keyId), threshold: 3, excludeRequester: false }] });
    log.push({ ...pol, signatures: [sigBy(pol, admin)] });
    return { ns, publisher, approvers, body, count: 0, released: [] as Array<{ version: string; artifacts: unknown[] }> };
  });
  for (let j = log.length; j < n; j++) {
    const st = states[j % NAMESPACES]!;
    const requester = st.approvers[0]!.keyId;
    if (st.count++ % 5 === 4 && st.released.length > 0) {
      const { version, artifacts } = st.released.shift()!;
      const request = { namespace: st.ns, package: "p", version, artifacts: artifacts as never, requester };
      const approvals = st.approvers.map((a) => ({ keyId: a.keyId, webauthn: assertion(a.priv, approvalSigningMessage(request), ++a.counter) }));
      const r = st.body("approval.outcome", { package: "p", version, artifacts, requester, approvals, decision: "approved" });
      log.push({ ...r, signatures: [sigBy(r, st.publisher)] });
    } else {
      const version = `1.0.${j}`;
      const artifacts = [{ name: `p-${j}.tgz`, sha256: createHash("sha256").update(String(j)).digest("hex") }];
      const r = st.body("release.sign", { package: "p", version, artifacts, requester });
      log.push({ ...r, signatures: [sigBy(r, st.publisher)] });
      st.released.push({ version, artifacts });
    }
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

export function replayBench(): {
  records: number;
  replayRecordsPerSecond: number;
  replayNobleRecordsPerSecond: number;
  replayRulesOnlyRecordsPerSecond: number;
  replayPasskeyMixRecordsPerSecond: number;
  passkeyMixOutcomes: number;
} {
  const log = makeLog(N);
  const node = replay(log, ed25519VerifyNode);
  if (node.refused !== 0) throw new Error(`${node.refused} records refused`);
  // The state machine alone (signatures assumed valid): what is not crypto.
  const rulesOnly = replay(log, () => true);
  const sample = log.slice(0, Math.min(log.length, 5000));
  const noble = replay(sample);
  const mix = makePasskeyLog(N);
  const passkeys = replay(mix, ed25519VerifyNode);
  if (passkeys.refused !== 0) throw new Error(`${passkeys.refused} records of the passkey mix refused`);
  return {
    records: N,
    replayRecordsPerSecond: Math.round(N / node.seconds),
    replayNobleRecordsPerSecond: Math.round(sample.length / noble.seconds),
    replayRulesOnlyRecordsPerSecond: Math.round(N / rulesOnly.seconds),
    replayPasskeyMixRecordsPerSecond: Math.round(N / passkeys.seconds),
    passkeyMixOutcomes: mix.filter((r) => (r as { type: string }).type === "approval.outcome").length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const r = replayBench();
  console.log(`replayed ${r.records} records: ${r.replayRecordsPerSecond}/s with node:crypto (${(r.records / r.replayRecordsPerSecond).toFixed(1)} s), ${r.replayNobleRecordsPerSecond}/s with noble (sample); rules alone ${r.replayRulesOnlyRecordsPerSecond}/s`);
  console.log(`passkey mix: ${r.records} records, ${r.passkeyMixOutcomes} outcomes with three ES256 passkey approvals each: ${r.replayPasskeyMixRecordsPerSecond}/s`);
  console.log(JSON.stringify({ ...r, totalSeconds: Math.round((performance.now() - t0) / 100) / 10 }));
}
