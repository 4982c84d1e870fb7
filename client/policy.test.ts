/**
 * C2SP tlog-policy: the spec's example (keys made here), every rule a file
 * can break refused with its line, nested k-of-n quorums with Ed25519 and
 * ML-DSA-44 witnesses, and properties: the parser throws nothing but
 * FormatError, and no mutation of a valid policy's quorum lowers what it needs.
 */
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outcome as code } from "../test/helpers/outcome.js";
import { concatBytes, uint64BE } from "./bytes.js";
import { formatCheckpoint, openCheckpoint } from "./checkpoint.js";
import { ed25519PublicKey, ed25519Sign } from "./ed25519.js";
import { FormatError, LedgerError } from "./errors.js";
import { computeKeyId, cosignatureMessage, createNoteSigner, createVerifier, formatSignatureLine, formatVerifierKey, mldsaCosignedMessage, signNote, SIG_TYPE_COSIGNATURE, SIG_TYPE_ED25519, SIG_TYPE_MLDSA44_COSIGNATURE } from "./note.js";
import { parsePolicy, policyMet, requirePolicy } from "./policy.js";

const seed = (n: number) => new Uint8Array(32).fill(n);
const LOG = "log.example";
const logVkey = formatVerifierKey(LOG, SIG_TYPE_ED25519, ed25519PublicKey(seed(1)));

/** A witness: its vkey and a function that cosigns a checkpoint note. */
function witness(name: string, n: number, alg: "ed25519" | "ml-dsa-44") {
  if (alg === "ed25519") {
    const pub = ed25519PublicKey(seed(n));
    const id = computeKeyId(name, SIG_TYPE_COSIGNATURE, pub);
    return {
      name,
      vkey: formatVerifierKey(name, SIG_TYPE_COSIGNATURE, pub),
      cosign: (text: string, time = 1_800_000_000n) => formatSignatureLine(name, id, concatBytes(uint64BE(time), ed25519Sign(seed(n), cosignatureMessage(time, new TextEncoder().encode(text))))),
    };
  }
  const { publicKey, secretKey } = ml_dsa44.keygen(seed(n));
  const id = computeKeyId(name, SIG_TYPE_MLDSA44_COSIGNATURE, publicKey);
  return {
    name,
    vkey: formatVerifierKey(name, SIG_TYPE_MLDSA44_COSIGNATURE, publicKey),
    cosign: (text: string, time = 1_800_000_000n) => {
      const [origin, size, root] = text.split("\n") as [string, string, string];
      const msg = mldsaCosignedMessage({ cosigner: name, time, origin, start: 0n, end: BigInt(size), hash: Uint8Array.from(atob(root), (c) => c.charCodeAt(0)) });
      return formatSignatureLine(name, id, concatBytes(uint64BE(time), ml_dsa44.sign(msg, secretKey)));
    },
  };
}


describe("parsePolicy", () => {
  const X = [witness("x1.example", 11, "ed25519"), witness("x2.example", 12, "ml-dsa-44"), witness("x3.example", 13, "ml-dsa-44")];
  const Y = [witness("y1.example", 21, "ed25519"), witness("y2.example", 22, "ed25519"), witness("y3.example", 23, "ml-dsa-44")];
  // The spec's example, with real keys.
  const example = `# two organisations
log ${logVkey} https://log.example/

witness X1 ${X[0]!.vkey}
witness X2 ${X[1]!.vkey}
 witness X3\t${X[2]!.vkey}   https://x3.example/witness
group X-witnesses 2 X1 X2 X3

witness Y1 ${Y[0]!.vkey}
witness Y2 ${Y[1]!.vkey}
witness Y3 ${Y[2]!.vkey}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`;

  it("reads the spec's example: logs, witnesses with URLs, nested groups", () => {
    const p = parsePolicy(example);
    expect(p.logs.map((l) => [l.key.name, l.url])).toEqual([[LOG, "https://log.example/"]]);
    expect(p.witnesses.map((w) => [w.name, w.url ?? null])).toEqual([["X1", null], ["X2", null], ["X3", "https://x3.example/witness"], ["Y1", null], ["Y2", null], ["Y3", null]]);
    expect(p.quorum).toMatchObject({ kind: "group", name: "X-and-Y", k: 2 });
    const id = (w: (typeof X)[0]) => {
      const v = createVerifier(w.vkey);
      return `${v.name}+${v.keyId}`;
    };
    expect(policyMet(p, [id(X[0]!), id(X[1]!), id(Y[2]!)])).toBe(true);
    expect(policyMet(p, [id(X[0]!), id(Y[0]!), id(Y[1]!), id(Y[2]!)])).toBe(false); // one X is not two
    expect(policyMet(p, [id(X[0]!), id(X[1]!), id(X[2]!)])).toBe(false); // no Y
    expect(policyMet(parsePolicy("quorum none\n"), [])).toBe(true);
  });

  it("refuses every rule a file can break, naming the line", () => {
    const w1 = `witness A ${X[0]!.vkey}`;
    const cases: Array<[string, RegExp]> = [
      ["", /no quorum line/],
      [`${w1}\nquorum A\nquorum A`, /line 3: a policy has exactly one quorum line/],
      ["quorum B", /line 1: "B" is not defined/],
      [`quorum A\n${w1}`, /line 1: "A" is not defined on an earlier line/],
      [`${w1}\nwitness A ${X[1]!.vkey}\nquorum A`, /line 2: the name "A" is already defined/],
      [`${w1}\nwitness B ${X[0]!.vkey.replace("x1.example", "x1.example")}\nquorum A`, /line 2: a witness with this public key is already listed/],
      [`witness none ${X[0]!.vkey}\nquorum none`, /line 1: "none" is predefined/],
      [`witness A ${logVkey}\nquorum A`, /line 1: a witness key must be a cosignature key/],
      [`${w1}\ngroup G 2 A\nquorum G`, /line 2: the threshold 2 must be from 1 to the 1 members/],
      [`${w1}\ngroup G 0 A\nquorum G`, /line 2: the threshold must be all, any or a decimal number, not "0"/],
      [`${w1}\ngroup G 01 A\nquorum G`, /line 2: the threshold must be/],
      [`${w1}\ngroup G any A A\nquorum G`, /line 2: "A" is listed twice/],
      [`${w1}\ngroup G any none\nquorum G`, /line 2: "none" cannot be a group member/],
      [`${w1}\ngroup G any\nquorum G`, /line 2: group takes/],
      [`${w1}\ngroup G any H\ngroup H any A\nquorum G`, /line 2: "H" is not defined on an earlier line/],
      [`${w1}\ngroup A any A\nquorum A`, /line 2: the name "A" is already defined/],
      [`log ${logVkey}\nlog ${logVkey.replace(LOG, LOG)}\nquorum none`, /line 2: a log with this public key is already listed/],
      [`log ${logVkey.slice(0, -2)}xx\nquorum none`, /line 1:/],
      [`${w1}\nquorum A\r\n`, /line 2: control character 0x0d/],
      [`${w1}\nwitnesses A\nquorum A`, /line 2: unknown line "witnesses"/],
      [`${w1}\u000b\nquorum A`, /line 1: control character 0x0b/],
    ];
    for (const [text, want] of cases) {
      let err: unknown;
      try {
        parsePolicy(text);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(text.slice(0, 60))).toBeInstanceOf(FormatError);
      expect((err as FormatError).code).toBe("bad_policy");
      expect((err as Error).message, text.slice(0, 60)).toMatch(want);
    }
  });

  it("property: any line added to or removed from a valid policy is parsed or refused with bad_policy, never another error", () => {
    const base = example.split("\n");
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.oneof(fc.string(), fc.constantFrom("group G 1", "quorum X1", "witness", "log", "# c", "group Z all X1 X1")), fc.boolean(), (at, line, remove) => {
        const lines = [...base];
        if (remove) lines.splice(at, 1);
        else lines.splice(at, 0, line);
        try {
          parsePolicy(lines.join("\n"));
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("checkpoints under a policy: a 2-of-3 quorum of one Ed25519 and two ML-DSA-44 witnesses", () => {
  const [ed, pq1, pq2] = [witness("ed.example", 31, "ed25519"), witness("pq1.example", 32, "ml-dsa-44"), witness("pq2.example", 33, "ml-dsa-44")];
  const stranger = witness("stranger.example", 34, "ml-dsa-44");
  const policy = parsePolicy(`log ${logVkey}\nwitness E ${ed.vkey}\nwitness P1 ${pq1.vkey}\nwitness P2 ${pq2.vkey}\ngroup two 2 E P1 P2\nquorum two\n`);
  const text = formatCheckpoint({ origin: LOG, treeSize: 42n, rootHash: new Uint8Array(32).fill(4), extensions: [] });
  const open = (note: string) => {
    const cp = openCheckpoint(note, { origin: LOG, logVerifier: createVerifier(logVkey), cosigners: policy.witnesses.map((w) => w.verifier) });
    requirePolicy(cp, policy);
    return cp;
  };

  it("accepts mixed quorums, refuses a tampered ML-DSA cosignature, a cosigner outside the policy and a quorum not met", async () => {
    const note = await signNote(text, [createNoteSigner(LOG, seed(1))]);
    expect(code(() => open(note + ed.cosign(text) + pq1.cosign(text)))).toBe("ok");
    expect(code(() => open(note + pq1.cosign(text) + pq2.cosign(text)))).toBe("ok");
    const line = pq2.cosign(text);
    const [, name, b64] = /^\u2014 (\S+) (\S+)\n$/.exec(line)!;
    const raw = Uint8Array.from(atob(b64!), (c) => c.charCodeAt(0));
    raw[500]! ^= 0x40;
    expect(code(() => open(note + ed.cosign(text) + `\u2014 ${name} ${btoa(String.fromCharCode(...raw))}\n`))).toBe("invalid_signature");
    // A valid cosignature by a key the policy does not name counts for nothing.
    expect(code(() => open(note + ed.cosign(text) + stranger.cosign(text)))).toBe("policy");
    expect(code(() => open(note + pq1.cosign(text)))).toBe("policy");
    // A cosignature of another checkpoint (another size) does not verify here.
    const other = formatCheckpoint({ origin: LOG, treeSize: 43n, rootHash: new Uint8Array(32).fill(4), extensions: [] });
    expect(code(() => open(note + ed.cosign(text) + pq1.cosign(other)))).toBe("invalid_signature");
  });
});
