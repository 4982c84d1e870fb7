/** node:crypto (server) and @noble/ed25519 (client) must produce and accept the same bytes. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ed25519PublicKey, ed25519Sign, ed25519Verify, isValidPublicKey } from "../client/ed25519.js";
import { createNoteSigner, formatSignerKey, signNote } from "../client/note.js";
import { ed25519SignNode, ed25519VerifyNode, privateKeyFromSeed } from "./crypto.js";
import { createLogSigner } from "./log/signer.js";

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

describe("Ed25519: node:crypto and noble agree", () => {
  it("same signatures, both ways, for random keys and messages", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }), (seed, msg) => {
        const pub = ed25519PublicKey(seed);
        const a = ed25519Sign(seed, msg);
        const b = ed25519SignNode(privateKeyFromSeed(seed), msg);
        expect(b).toEqual(a);
        expect(ed25519VerifyNode(pub, msg, a)).toBe(true);
        expect(ed25519Verify(pub, msg, b)).toBe(true);
        const bad = a.slice();
        bad[0]! ^= 1;
        expect(ed25519VerifyNode(pub, msg, bad)).toBe(false);
        expect(ed25519Verify(pub, msg, bad)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it("both refuse a non-canonical S (S + L) — signature malleability", () => {
    const seed = new Uint8Array(32).fill(9);
    const msg = new TextEncoder().encode("malleable?");
    const sig = ed25519Sign(seed, msg);
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    let s2 = s + L;
    const mall = sig.slice();
    for (let i = 0; i < 32; i++, s2 >>= 8n) mall[32 + i] = Number(s2 & 0xffn);
    const pub = ed25519PublicKey(seed);
    expect(ed25519Verify(pub, msg, mall)).toBe(false);
    expect(ed25519VerifyNode(pub, msg, mall)).toBe(false);
  });

  it("both refuse the trivial signature of a small-order key, which OpenSSL alone would accept", () => {
    const identity = new Uint8Array(32);
    identity[0] = 1; // the neutral point
    const trivial = new Uint8Array(64);
    trivial[0] = 1; // R = neutral point, S = 0
    const msg = new TextEncoder().encode("any message at all");
    expect(ed25519Verify(identity, msg, trivial)).toBe(false);
    expect(ed25519VerifyNode(identity, msg, trivial)).toBe(false);
    expect(isValidPublicKey(identity)).toBe(false);
    expect(isValidPublicKey(ed25519PublicKey(new Uint8Array(32).fill(1)))).toBe(true);
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[31] = 0x7f; // y = 2^255 - 1 >= p
    expect(isValidPublicKey(nonCanonical)).toBe(false);
  });

  it("both refuse wrong lengths and garbage keys without throwing", () => {
    const msg = new Uint8Array(3);
    for (const [pub, sig] of [[new Uint8Array(31), new Uint8Array(64)], [new Uint8Array(32).fill(0xff), new Uint8Array(64)], [new Uint8Array(32), new Uint8Array(63)]] as const) {
      expect(ed25519Verify(pub, msg, sig)).toBe(false);
      expect(ed25519VerifyNode(pub, msg, sig)).toBe(false);
    }
  });

  it("the server's log signer writes the same note as the client's signer", async () => {
    const seed = new Uint8Array(32).fill(3);
    const text = "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    const server = createLogSigner(formatSignerKey("example.com/log", seed));
    expect(await server.signNote(text)).toBe(await signNote(text, [createNoteSigner("example.com/log", seed)]));
  });
});
