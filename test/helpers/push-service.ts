/**
 * A Web Push service for tests, on loopback over HTTPS (web-push sends only
 * over HTTPS) with a self-signed certificate made by openssl. It holds each
 * subscription's private keys, checks every message's VAPID JWT (RFC 8292:
 * ES256 over the `k` key, `aud` = this origin, `exp` within 24 h) and
 * decrypts its aes128gcm payload (RFC 8291, RFC 8188) with node:crypto: real
 * crypto on both ends, no stub of `web-push`. Each endpoint answers with the
 * statuses it is given, in turn (then 201).
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ReceivedPush {
  endpoint: string;
  payload: unknown;
  /** The VAPID public key (base64url) the JWT verified with, and its claims. */
  vapidKey: string;
  claims: { aud: string; exp: number; sub: string };
  headers: Record<string, string | string[] | undefined>;
}

export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

interface Held {
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
  statuses: number[];
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");
const hkdf = (salt: Buffer, ikm: Buffer, info: Buffer, len: number) => Buffer.from(hkdfSync("sha256", ikm, salt, info, len));

/** RFC 8291 §3.4 and RFC 8188 §2: the plaintext of one aes128gcm message for this subscription. */
export function decryptAes128gcm(body: Buffer, ecdh: Held["ecdh"], auth: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (idlen !== 65 || rs < 18 || ciphertext.length > rs) throw new Error(`bad aes128gcm header (idlen ${idlen}, rs ${rs}, ${ciphertext.length} bytes)`);
  const uaPublic = ecdh.getPublicKey();
  const ecdhSecret = ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), uaPublic, asPublic]);
  const ikm = hkdf(auth, ecdhSecret, keyInfo, 32);
  const cek = hkdf(salt, ikm, Buffer.from("Content-Encoding: aes128gcm\0"), 16);
  const nonce = hkdf(salt, ikm, Buffer.from("Content-Encoding: nonce\0"), 12);
  const d = createDecipheriv("aes-128-gcm", cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error("the last record's padding delimiter is not 0x02");
  return padded.subarray(0, end);
}

/** RFC 8292: `vapid t=<JWT>, k=<base64url P-256 point>`; the JWT verified, its claims returned. */
export function verifyVapid(authorization: string | undefined, origin: string): { key: string; claims: ReceivedPush["claims"] } {
  const m = /^vapid t=([A-Za-z0-9_.-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? "");
  if (!m) throw new Error(`no vapid authorization: ${authorization}`);
  const [h, c, s] = m[1]!.split(".");
  const header = JSON.parse(Buffer.from(h!, "base64url").toString());
  if (header.alg !== "ES256") throw new Error(`JWT alg ${header.alg}`);
  const point = Buffer.from(m[2]!, "base64url");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) }, format: "jwk" });
  if (!verify("sha256", Buffer.from(`${h}.${c}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s!, "base64url"))) throw new Error("the VAPID JWT does not verify");
  const claims = JSON.parse(Buffer.from(c!, "base64url").toString());
  if (claims.aud !== origin) throw new Error(`JWT aud ${claims.aud}, expected ${origin}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600 + 60)) throw new Error(`JWT exp ${claims.exp} out of range`);
  return { key: m[2]!, claims };
}

export class TestPushService {
  readonly received: ReceivedPush[] = [];
  readonly errors: string[] = [];
  /** PEM of the self-signed certificate (trust it: https.Agent `ca`, or NODE_EXTRA_CA_CERTS=caFile). */
  readonly ca: string;
  readonly caFile: string;
  readonly #dir: string;
  readonly #server: Server;
  readonly #subs = new Map<string, Held>();
  #waiters: Array<() => void> = [];
  origin = "";

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), "ledger-push-"));
    this.caFile = join(this.#dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(this.#dir, "key.pem"), "-out", this.caFile, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
    this.ca = readFileSync(this.caFile, "utf8");
    this.#server = createServer({ key: readFileSync(join(this.#dir, "key.pem")), cert: this.ca }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const endpoint = this.origin + (req.url ?? "");
        const held = this.#subs.get(endpoint);
        if (!held || req.method !== "POST") return void res.writeHead(404).end();
        const status = held.statuses.shift() ?? 201;
        try {
          if (req.headers["content-encoding"] !== "aes128gcm") throw new Error(`content-encoding ${req.headers["content-encoding"]}`);
          if (!/^\d+$/.test(String(req.headers.ttl))) throw new Error("no TTL header");
          const { key, claims } = verifyVapid(req.headers.authorization, this.origin);
          if (status === 201) {
            const payload = JSON.parse(decryptAes128gcm(Buffer.concat(chunks), held.ecdh, held.auth).toString("utf8"));
            this.received.push({ endpoint, payload, vapidKey: key, claims, headers: req.headers });
          }
        } catch (e) {
          this.errors.push((e as Error).message);
          return void res.writeHead(400).end();
        }
        res.writeHead(status, status === 429 ? { "retry-after": "0" } : {}).end();
        for (const w of this.#waiters.splice(0)) w();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    this.origin = `https://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  /** A new subscription, as PushManager.subscribe would give a page; its endpoint answers `statuses` first. */
  subscribe(statuses: number[] = []): TestSubscription {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    const auth = randomBytes(16);
    const endpoint = `${this.origin}/push/${randomBytes(12).toString("base64url")}`;
    this.#subs.set(endpoint, { ecdh, auth, statuses: [...statuses] });
    return { endpoint, keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) } };
  }

  /** Makes a later endpoint of `sub` answer with these statuses. */
  answer(endpoint: string, statuses: number[]): void {
    this.#subs.get(endpoint)!.statuses.push(...statuses);
  }

  /** Resolves when `pred` holds of what was received (checked after each push), or rejects after `ms`. */
  async waitFor(pred: (r: ReceivedPush[]) => boolean, ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while (!pred(this.received)) {
      if (Date.now() > until) throw new Error(`push: timed out; received ${JSON.stringify(this.received.map((r) => r.payload))}; errors ${JSON.stringify(this.errors)}`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
