/** The server's zod schema and the client's structural check accept exactly the same records. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isRecord } from "../client/record-shape.js";
import { RecordSchema } from "./records.js";

const hex = fc.constantFrom("a".repeat(64), "0123456789abcdef".repeat(4), "A".repeat(64), "a".repeat(63));
const b64 = fc.constantFrom("AAAA", "q6yr", "AA==", "!!", "");
const tok = fc.constantFrom("pkg", "@scope/name", "1.0.0", "has space", "", "x".repeat(300));
const anyVal = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 300 }), fc.double(), tok, hex, fc.constant([]), fc.constant({}));

const assertion = fc.record({ authenticatorData: b64, clientDataJSON: b64, signature: b64 });
/** Ed25519 (`sig`) and passkey (`webauthn`) signatures, and shapes that are neither. */
const signature = fc.oneof(
  { arbitrary: fc.record({ keyId: hex, sig: b64 }), weight: 6 },
  { arbitrary: fc.record({ keyId: hex, webauthn: assertion }), weight: 3 },
  { arbitrary: fc.record({ keyId: hex, sig: b64, webauthn: assertion }), weight: 1 },
  { arbitrary: fc.record({ keyId: hex, webauthn: fc.record({ authenticatorData: b64, clientDataJSON: b64 }) }), weight: 1 },
);
const passkey = fc.record({
  credentialId: fc.constantFrom("AbC-_9", "", "has space", "x".repeat(1400)),
  rpId: fc.constantFrom("localhost", "example.com", "sub.example.com", "Example.com", "-bad.com", "a..b"),
  alg: fc.constantFrom(-7, -8, -257, 7),
});

const statements: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  "key.register": fc.record({
    publicKey: b64,
    role: fc.constantFrom("publish", "approve", "admin", "root"),
    label: fc.option(tok, { nil: undefined }),
    breakGlass: fc.option(fc.boolean(), { nil: undefined }),
    webauthn: fc.option(passkey, { nil: undefined, freq: 3 }),
  }),
  "key.revoke": fc.record({ keyId: hex, reason: tok }),
  "policy.set": fc.record({
    adminThreshold: fc.integer({ min: 0, max: 300 }),
    groups: fc.array(
      fc.record({ name: tok, members: fc.array(hex, { maxLength: 3 }), threshold: fc.integer({ min: 0, max: 3 }), excludeRequester: fc.boolean(), userVerification: fc.option(fc.constantFrom("required", "preferred", "never"), { nil: undefined }) }),
      { maxLength: 2 },
    ),
  }),
  "release.sign": fc.record({ package: tok, version: tok, artifacts: fc.array(fc.record({ name: tok, sha256: hex, sha512: fc.option(fc.constantFrom("ab".repeat(64), "AB".repeat(64), "a".repeat(127), ""), { nil: undefined }) }), { maxLength: 2 }) }),
  "release.revoke": fc.record({ package: tok, version: tok, reason: tok }),
  "approval.outcome": fc.record({
    package: tok,
    version: tok,
    artifacts: fc.array(fc.record({ name: tok, sha256: hex }), { minLength: 1, maxLength: 2 }),
    requester: hex,
    approvals: fc.array(signature, { maxLength: 2 }),
    decision: fc.constantFrom("approved", "rejected", "maybe"),
  }),
};

const record = fc.constantFrom(...Object.keys(statements)).chain((type) =>
  fc.record({
    type: fc.constantFrom(type, type, type, "other"),
    namespace: fc.constantFrom("npm:@swc", "pypi:requests", "no-colon", "NPM:x", "npm:"),
    statement: statements[type]!,
    signatures: fc.array(signature, { maxLength: 2 }),
  }),
);

/** Names every object inherits, and `__proto__`: a check with `in` takes them for fields. */
const INHERITED = ["constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "__proto__", "__defineGetter__"];

/**
 * One random damage: drop a field, replace a value, add an unknown field, or
 * add an inherited name as an own field, at the envelope, the statement or an
 * artifact/group/signature. Records arrive as JSON, so each is re-parsed from
 * text, which makes `__proto__` an own property as JSON.parse does.
 */
const mutated = fc.tuple(record, fc.nat(), anyVal, fc.nat(3), fc.constantFrom(...INHERITED)).map(([r, pick, v, how, name]) => {
  const copy = JSON.parse(JSON.stringify(r));
  const nested = [copy.statement.artifacts?.[0], copy.statement.groups?.[0], copy.signatures?.[0]].filter(Boolean);
  const targets = [copy, copy.statement, ...nested];
  const t = targets[pick % targets.length];
  const keys = Object.keys(t);
  if (how === 0 && keys.length) delete t[keys[pick % keys.length]!];
  else if (how === 1 && keys.length) t[keys[pick % keys.length]!] = v;
  else if (how === 2) t.unexpected = v;
  else Object.defineProperty(t, name, { value: v ?? 0, enumerable: true, writable: true, configurable: true });
  return JSON.parse(JSON.stringify(copy));
});

describe("record shape", () => {
  it("zod and the client agree on random and damaged records", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(record, mutated), (r) => {
        const z = RecordSchema.safeParse(r).success;
        expect(isRecord(r)).toBe(z);
        if (z) accepted++;
      }),
      { numRuns: 6000, seed: 20261123 }, // fixed: the same cases on every run
    );
    expect(accepted).toBeGreaterThan(10); // the generator also produces valid records
  });
  it.each(INHERITED)("refuses a valid record with an own %s field, in every object of it, on both sides", (name) => {
    const valid = {
      type: "approval.outcome",
      namespace: "npm:@swc",
      statement: { package: "p", version: "1", artifacts: [{ name: "a", sha256: "a".repeat(64) }], requester: "a".repeat(64), approvals: [{ keyId: "a".repeat(64), sig: "AAAA" }], decision: "approved" },
      signatures: [{ keyId: "a".repeat(64), sig: "AAAA" }],
    };
    expect(isRecord(valid)).toBe(true);
    const text = JSON.stringify(valid);
    // Each object of the record gets the name as its first field, in the JSON text itself.
    const places = [...text.matchAll(/\{/g)].map((m) => m.index!);
    expect(places.length).toBe(5);
    for (const at of places) {
      const damaged = JSON.parse(`${text.slice(0, at + 1)}${JSON.stringify(name)}:1,${text.slice(at + 1)}`);
      expect(Object.hasOwn(damaged, "type")).toBe(true);
      expect([isRecord(damaged), RecordSchema.safeParse(damaged).success]).toEqual([false, false]);
    }
  });
});
