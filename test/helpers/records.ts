/** Building signed records for tests, with the client library (noble) as a registry would. */
import { encodeBase64 } from "../../client/bytes.js";
import { ed25519PublicKey, ed25519Sign } from "../../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../../client/entry.js";
import type { LedgerRecord } from "../../schema/records.js";

export interface TestKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  publicKeyB64: string;
  keyId: string;
}

export function testKey(n: number): TestKey {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, n + 1);
  seed[31] = 0x5a;
  const publicKey = ed25519PublicKey(seed);
  return { seed, publicKey, publicKeyB64: encodeBase64(publicKey), keyId: keyIdOf(publicKey) };
}

export function signRecord<T extends LedgerRecord>(r: Omit<T, "signatures">, ...keys: TestKey[]): T {
  const msg = recordSigningMessage(r);
  return { ...r, signatures: keys.map((k) => ({ keyId: k.keyId, sig: encodeBase64(ed25519Sign(k.seed, msg)) })) } as T;
}

export function registerKey(namespace: string, key: TestKey, role: "publish" | "approve" | "admin" = "admin", ...cosigners: TestKey[]): LedgerRecord {
  return signRecord({ type: "key.register", namespace, statement: { publicKey: key.publicKeyB64, role } }, key, ...cosigners);
}

export function signRelease(namespace: string, key: TestKey, pkg: string, version: string): LedgerRecord {
  const sha256 = Array.from({ length: 64 }, (_, i) => "0123456789abcdef"[(i * 7 + version.length + pkg.length) % 16]).join("");
  return signRecord({ type: "release.sign", namespace, statement: { package: pkg, version, artifacts: [{ name: `${pkg}-${version}.tgz`, sha256 }] } }, key);
}
