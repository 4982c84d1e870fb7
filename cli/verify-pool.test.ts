import { describe, expect, it } from "vitest";
import { ed25519PublicKey, ed25519Sign } from "../client/ed25519.js";
import { ed25519VerifyNode } from "./node-ed25519.js";
import { VerifyPool, type VerifyItem } from "./verify-pool.js";

const seed = (n: number) => new Uint8Array(32).fill(n);
const msg = (n: number) => new TextEncoder().encode(`message ${n}`);

describe("VerifyPool", () => {
  it("agrees with in-process verification on good, tampered and wrong-key signatures, in order", async () => {
    const items: VerifyItem[] = [];
    for (let i = 0; i < 60; i++) {
      const pub = ed25519PublicKey(seed(i % 7));
      const sig = ed25519Sign(seed(i % 7), msg(i));
      if (i % 3 === 1) sig[5]! ^= 1; // tampered
      items.push([i % 5 === 4 ? ed25519PublicKey(seed(99)) : pub, msg(i), sig]);
    }
    // A small-order public key (the identity point) with the trivial signature OpenSSL would accept.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    items.push([identity, msg(1), new Uint8Array(64).fill(0).map((_, i) => (i === 0 ? 1 : 0))]);
    items.push([ed25519PublicKey(seed(1)), msg(1), new Uint8Array(63)]); // short signature
    const want = items.map(([p, m, s]) => ed25519VerifyNode(p, m, s));
    expect(want.filter(Boolean).length).toBeGreaterThan(10);
    expect(want.filter((x) => !x).length).toBeGreaterThan(10);
    const pool = new VerifyPool(2);
    try {
      const [a, b] = await Promise.all([pool.verify(items), pool.verify(items.slice(0, 30))]);
      expect(a).toEqual(want);
      expect(b).toEqual(want.slice(0, 30));
      expect(a.at(-2)).toBe(false);
    } finally {
      await pool.close();
    }
    // Closed (or with no threads): verified in process, same answers.
    expect(await pool.verify(items)).toEqual(want);
    expect(await new VerifyPool(0).verify(items)).toEqual(want);
  });

  it("keeps verifying after a thread dies: on the others, then on the main thread", async () => {
    const pub = ed25519PublicKey(seed(3));
    const good: VerifyItem = [pub, msg(1), ed25519Sign(seed(3), msg(1))];
    const pool = new VerifyPool(2);
    try {
      await pool.killOne();
      for (let i = 0; i < 4; i++) expect(await pool.verify([good])).toEqual([true]);
      await pool.killOne();
      for (let i = 0; i < 4; i++) expect(await pool.verify([good, [pub, msg(2), good[2]]])).toEqual([true, false]);
    } finally {
      await pool.close();
    }
  });
});
