/** The load generator's parts, shared by the benchmarks: keys, pre-signed records, a cheap HTTP client. */
import { createHash, createPublicKey, sign, type KeyObject } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";
import { encodeBase64 } from "../client/bytes.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { privateKeyFromSeed } from "../server/crypto.js";

export const NAMESPACES = 64;

export function signed(r: { type: string; namespace: string; statement: Record<string, unknown> }, k: { keyId: string; priv: KeyObject }) {
  const sig = sign(null, recordSigningMessage(r as Parameters<typeof recordSigningMessage>[0]), k.priv);
  return { ...r, signatures: [{ keyId: k.keyId, sig: sig.toString("base64") }] };
}

export function makeKeys(): Array<{ keyId: string; priv: KeyObject; pubB64: string }> {
  return Array.from({ length: NAMESPACES }, (_, i) => {
    const seed = createHash("sha256").update(`bench key ${i}`).digest();
    const priv = privateKeyFromSeed(seed);
    const pubDer = createPublicKey(priv).export({ format: "der", type: "spki" });
    const pub = new Uint8Array(pubDer.subarray(pubDer.length - 32));
    return { keyId: keyIdOf(pub), priv, pubB64: encodeBase64(pub) };
  });
}

/**
 * The load generator's HTTP client: node:http with keep-alive sockets, which
 * costs this process a fraction of the CPU of fetch; the server shares the
 * machine's two cores with it, so a cheaper client measures the server better.
 */
export function httpClient(base: string, sockets: number) {
  const u = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  return (method: "GET" | "POST", path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; ms: number }> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = httpRequest({ host: u.hostname, port: u.port, method, path, agent, headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) } }, (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
}

/** Signed release.sign bodies, made before the timed phase so signing is not charged to the server. */
export function makeReleases(keys: ReturnType<typeof makeKeys>, count: number): string[] {
  return Array.from({ length: count }, (_, n) =>
    JSON.stringify(
      signed(
        {
          type: "release.sign",
          namespace: `npm:@bench${n % NAMESPACES}`,
          statement: {
            package: `package-${n % 997}`,
            version: `1.${Math.floor(n / 997)}.${n}`,
            artifacts: [
              { name: `package-${n % 997}-1.${n}.tgz`, sha256: createHash("sha256").update(`a${n}`).digest("hex") },
              { name: `package-${n % 997}-1.${n}.tgz.sig`, sha256: createHash("sha256").update(`b${n}`).digest("hex") },
            ],
          },
        },
        keys[n % NAMESPACES]!,
      ),
    ),
  );
}

