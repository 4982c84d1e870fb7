import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outcome as code } from "../test/helpers/outcome.js";
import { parseCheckpoint, formatCheckpoint, openCheckpoint } from "./checkpoint.js";
import { encodeBase64, parseBase64 } from "./bytes.js";
import { ed25519PublicKey, ed25519Sign } from "./ed25519.js";
import { LedgerError } from "./errors.js";
import { EMPTY_ROOT } from "./hash.js";
import {
  createNoteSigner,
  createVerifier,
  computeKeyId,
  cosignatureMessage,
  formatSignatureLine,
  formatSignerKey,
  formatVerifierKey,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE,
  SIG_TYPE_ED25519,
  SIG_TYPE_MLDSA44_COSIGNATURE,
  cosignatureTime,
  formatMldsaSignerKey,
  mldsaCosignedMessage,
  parseCosignerKey,
} from "./note.js";
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { concatBytes, uint64BE } from "./bytes.js";

// golang.org/x/mod/sumdb/note documentation example (data only).
const GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
// C2SP signed-note spec example.
const SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE = "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";


const seed = (n: number) => new Uint8Array(32).fill(n);

describe("Go sumdb/note and C2SP vectors", () => {
  it("reproduces Go's PeterNeumann signature byte for byte", async () => {
    const sk = parseSignerKey(GO_SKEY);
    expect(sk.name).toBe("PeterNeumann");
    expect(formatVerifierKey(sk.name, SIG_TYPE_ED25519, sk.publicKey)).toBe(GO_VKEY);
    expect(formatSignerKey(sk.name, sk.seed)).toBe(GO_SKEY);
    expect(await signNote(GO_TEXT, [createNoteSigner(sk.name, sk.seed)])).toBe(GO_NOTE);
  });

  it("opens Go's note and the C2SP spec example", () => {
    expect(openNote(GO_NOTE, [createVerifier(GO_VKEY)]).text).toBe(GO_TEXT);
    const n = openNote(SPEC_NOTE, [createVerifier(SPEC_VKEY)]);
    expect(n.text).toBe("This is an example message.\n");
    expect(n.sigs).toHaveLength(1);
  });

  it("refuses a vkey whose key id does not match", () => {
    expect(code(() => parseVerifierKey(GO_VKEY.replace("c74f20a3", "c74f20a4")))).toBe("bad_vkey");
    expect(code(() => parseVerifierKey("PeterNeumann+c74f20a3"))).toBe("bad_vkey");
    expect(code(() => parseVerifierKey("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"))).toBe("bad_vkey");
  });

  it("parses Sunlight's checkpoint, ignoring its RFC 6962 signature as unknown", () => {
    const raw = readFileSync(join(import.meta.dirname, "../test/vectors/sunlight-skylight/tree/checkpoint"), "utf8");
    const { text, signatures } = parseNote(raw);
    const c = parseCheckpoint(text);
    expect(c.origin).toBe("rome2026h1.example.org");
    expect(c.treeSize).toBe(300n);
    expect(signatures[0]!.name).toBe("rome2026h1.example.org");
    expect(code(() => openNote(raw, [createVerifier(GO_VKEY)]))).toBe("no_verified_signature");
  });
});

describe("signed notes", () => {
  const a = createNoteSigner("log.example/a", seed(1));
  const b = createNoteSigner("log.example/b", seed(2));
  const va = createVerifier(formatVerifierKey(a.name, SIG_TYPE_ED25519, ed25519PublicKey(seed(1))));
  const vb = createVerifier(formatVerifierKey(b.name, SIG_TYPE_ED25519, ed25519PublicKey(seed(2))));

  it("round-trips with several signers, ignoring unknown ones", async () => {
    const note = await signNote("hello\nworld\n", [a, b]);
    const n = openNote(note, [va]);
    expect(n.sigs.map((s) => s.name)).toEqual(["log.example/a"]);
    expect(n.unverifiedSigs.map((s) => s.name)).toEqual(["log.example/b"]);
    expect(openNote(note, [va, vb]).sigs).toHaveLength(2);
  });

  it("tolerates grease: a random id under the log's own name", async () => {
    const note = await signNote("t\n", [a]);
    const grease = formatSignatureLine(a.name, (a.keyId ^ 0x5a5a5a5a) >>> 0, new Uint8Array(64).fill(7));
    expect(openNote(note + grease, [va]).sigs).toHaveLength(1);
  });

  it("refuses a bad signature from a known key", async () => {
    const note = await signNote("t\n", [a]);
    const forged = note.replace(/ (\S+)\n$/, (_m, b64: string) => {
      const raw = parseBase64(b64);
      raw[10]! ^= 1;
      return ` ${encodeBase64(raw)}\n`;
    });
    expect(code(() => openNote(forged, [va]))).toBe("invalid_signature");
    const other = await signNote("other\n", [a]);
    expect(code(() => openNote("t\n\n" + other.split("\n\n")[1], [va]))).toBe("invalid_signature");
  });

  it.each([
    ["no signature block", "hello\n"],
    ["hyphen instead of em dash", "t\n\n- log.example/a AAAAAAA=\n"],
    ["en dash", "t\n\n\u2013 log.example/a AAAAAAA=\n"],
    ["missing final newline", "t\n\n\u2014 log.example/a AAAAAAA="],
    ["short signature", "t\n\n\u2014 log.example/a AAAA\n"],
    ["bad base64", "t\n\n\u2014 log.example/a AAA*AAA=\n"],
    ["control character", "t\u0001\n\n\u2014 log.example/a AAAAAAA=\n"],
    ["carriage return", "t\r\n\n\u2014 log.example/a AAAAAAA=\n"],
    ["name with plus", "t\n\n\u2014 log+a AAAAAAA=\n"],
    ["empty signature line", "t\n\n\n"],
  ])("refuses a malformed note: %s", (_d, note) => {
    expect(code(() => openNote(note, [va]))).toMatch(/^bad_note|bad_base64$/);
  });

  it("refuses notes with more than 100 signatures", async () => {
    const note = await signNote("t\n", [a]);
    const junk = Array.from({ length: 100 }, (_, i) => formatSignatureLine(`x${i}`, i, new Uint8Array(64))).join("");
    expect(code(() => openNote(note + junk, [va]))).toBe("too_many_signatures");
    expect(openNote(note + junk.split("\n").slice(0, 99).join("\n") + "\n", [va]).sigs).toHaveLength(1);
  });

  it("property: any change to the text is refused", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), async (s, pos) => {
        const text = s.replace(/[\u0000-\u001f\u007f]/g, "x").replace(/[\ud800-\udfff]/g, "x") + "\n";
        const note = await signNote(text, [a]);
        const i = pos % text.length;
        const changed = text.slice(0, i) + (text[i] === "a" ? "b" : "a") + text.slice(i + 1);
        expect(code(() => openNote(changed + note.slice(text.length), [va]))).not.toBe("ok");
      }),
      { numRuns: 100 },
    );
  });
});

describe("cosignatures (type 0x04)", () => {
  it("verify over the cosignature/v1 message and bind the timestamp", async () => {
    const logSigner = createNoteSigner("log.example", seed(3));
    const logV = createVerifier(formatVerifierKey("log.example", SIG_TYPE_ED25519, ed25519PublicKey(seed(3))));
    const text = formatCheckpoint({ origin: "log.example", treeSize: 0n, rootHash: EMPTY_ROOT, extensions: [] });
    const note = await signNote(text, [logSigner]);
    const pub = ed25519PublicKey(seed(4));
    const id = computeKeyId("witness.example", SIG_TYPE_COSIGNATURE, pub);
    const time = 1_700_000_000n;
    const sig = ed25519Sign(seed(4), cosignatureMessage(time, new TextEncoder().encode(text)));
    const payload = new Uint8Array(72);
    new DataView(payload.buffer).setBigUint64(0, time, false);
    payload.set(sig, 8);
    const cosigned = note + formatSignatureLine("witness.example", id, payload);
    const wv = createVerifier(formatVerifierKey("witness.example", SIG_TYPE_COSIGNATURE, pub));
    const c = openCheckpoint(cosigned, { origin: "log.example", logVerifier: logV, cosigners: [wv] });
    expect(c.note.sigs).toHaveLength(2);
    payload[7]! ^= 1; // another timestamp
    const tampered = note + formatSignatureLine("witness.example", id, payload);
    expect(code(() => openCheckpoint(tampered, { origin: "log.example", logVerifier: logV, cosigners: [wv] }))).toBe("invalid_signature");
    // A checkpoint signed only by the witness is not a log checkpoint.
    expect(code(() => openCheckpoint("" + text + "\n" + cosigned.split("\n\n")[1]!.split("\n")[1] + "\n", { origin: "log.example", logVerifier: logV, cosigners: [wv] }))).toBe("no_verified_signature");
  });
});

describe("ML-DSA-44 cosignatures (type 0x06)", () => {
  const VECTORS = join(import.meta.dirname, "../test/vectors/c2sp");

  it("verifies torchwood's ML-DSA-44 signed checkpoint (another implementation's bytes)", () => {
    const vkey = readFileSync(join(VECTORS, "mldsa-log.vkey"), "utf8").trim();
    const note = readFileSync(join(VECTORS, "mldsa-log.checkpoint"), "utf8");
    const k = parseVerifierKey(vkey);
    expect(k.sigType).toBe(SIG_TYPE_MLDSA44_COSIGNATURE);
    expect(k.publicKey).toHaveLength(1312);
    const v = createVerifier(vkey);
    const opened = openNote(note, [v]);
    expect(opened.sigs).toHaveLength(1);
    expect(cosignatureTime(opened.sigs[0]!)).toBe(0n);
    // One changed byte of the signature, the size or the root: refused.
    const line = note.split("\n").find((l) => l.startsWith("\u2014 "))!;
    const raw = parseBase64(line.split(" ")[2]!);
    raw[100]! ^= 1;
    expect(code(() => openNote(note.replace(line, `\u2014 example.com/mldsa-log ${encodeBase64(raw)}`), [v]))).toBe("invalid_signature");
    expect(code(() => openNote(note.replace("\n1\n", "\n2\n"), [v]))).toBe("invalid_signature");
    expect(code(() => openNote(note.replace("+zoE", "+zoF"), [v]))).toBe("invalid_signature");
  });

  it("signs and verifies the subtree/v1 message, which binds cosigner name, time, origin, size and root", async () => {
    const skey = formatMldsaSignerKey("witness.example/pq", seed(9));
    const k = parseCosignerKey(skey);
    expect(k.alg).toBe("ml-dsa-44");
    expect(k.keyId).toBe(computeKeyId("witness.example/pq", SIG_TYPE_MLDSA44_COSIGNATURE, k.publicKey));
    const { secretKey } = ml_dsa44.keygen(seed(9));
    const text = formatCheckpoint({ origin: "log.example", treeSize: 5n, rootHash: new Uint8Array(32).fill(7), extensions: ["ext line"] });
    const note = await signNote(text, [createNoteSigner("log.example", seed(3))]);
    const logV = createVerifier(formatVerifierKey("log.example", SIG_TYPE_ED25519, ed25519PublicKey(seed(3))));
    const sign = (m: Parameters<typeof mldsaCosignedMessage>[0]) => formatSignatureLine("witness.example/pq", k.keyId, concatBytes(uint64BE(m.time), ml_dsa44.sign(mldsaCosignedMessage(m), secretKey)));
    const good = { cosigner: "witness.example/pq", time: 1_800_000_000n, origin: "log.example", start: 0n, end: 5n, hash: new Uint8Array(32).fill(7) };
    const wv = createVerifier(formatVerifierKey("witness.example/pq", SIG_TYPE_MLDSA44_COSIGNATURE, k.publicKey));
    const open = (line: string) => code(() => openCheckpoint(note + line, { origin: "log.example", logVerifier: logV, cosigners: [wv] }));
    expect(open(sign(good))).toBe("ok");
    expect(cosignatureTime(openCheckpoint(note + sign(good), { origin: "log.example", logVerifier: logV, cosigners: [wv] }).note.sigs[1]!)).toBe(1_800_000_000n);
    // Extension lines are not covered (the spec says so): the same cosignature holds without them.
    const bare = await signNote(formatCheckpoint({ origin: "log.example", treeSize: 5n, rootHash: new Uint8Array(32).fill(7), extensions: [] }), [createNoteSigner("log.example", seed(3))]);
    expect(code(() => openCheckpoint(bare + sign(good), { origin: "log.example", logVerifier: logV, cosigners: [wv] }))).toBe("ok");
    for (const bad of [{ cosigner: "other.example/pq" }, { origin: "other.example" }, { end: 4n }, { start: 1n }, { hash: new Uint8Array(32).fill(8) }]) {
      expect(open(sign({ ...good, ...bad })), JSON.stringify(Object.keys(bad))).toBe("invalid_signature");
    }
    // The signed timestamp is the one on the line.
    const line = sign(good);
    const raw = parseBase64(line.trim().split(" ")[2]!);
    raw[11]! ^= 1;
    expect(open(`\u2014 witness.example/pq ${encodeBase64(raw)}\n`)).toBe("invalid_signature");
    // An Ed25519-sized signature under an ML-DSA key is refused, not misread.
    expect(open(formatSignatureLine("witness.example/pq", k.keyId, new Uint8Array(72)))).toBe("invalid_signature");
  });

  it("property: any changed byte of an ML-DSA-44 cosignature line's payload is refused", () => {
    const vkey = readFileSync(join(VECTORS, "mldsa-log.vkey"), "utf8").trim();
    const note = readFileSync(join(VECTORS, "mldsa-log.checkpoint"), "utf8");
    const v = createVerifier(vkey);
    const line = note.split("\n").find((l) => l.startsWith("\u2014 "))!;
    const payload = parseBase64(line.split(" ")[2]!);
    fc.assert(
      fc.property(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const p = payload.slice();
        p[at]! ^= x;
        const r = code(() => openNote(note.replace(line, `\u2014 example.com/mldsa-log ${encodeBase64(p)}`), [v]));
        // The key ID bytes: the line is then another key's, unknown, so nothing verifies; else the signature fails.
        expect(r).toBe(at < 4 ? "no_verified_signature" : "invalid_signature");
      }),
      { numRuns: 150 },
    );
  });

  it("refuses malformed ML-DSA keys", () => {
    const pub = ml_dsa44.keygen(seed(9)).publicKey;
    expect(code(() => parseVerifierKey(formatVerifierKey("w", SIG_TYPE_MLDSA44_COSIGNATURE, pub.slice(1))))).toBe("bad_vkey");
    const skey = formatMldsaSignerKey("w", seed(9));
    expect(code(() => parseCosignerKey(skey.replace(/\+[0-9a-f]{8}\+/, "+00000000+")))).toBe("bad_key");
    expect(code(() => parseSignerKey(skey))).toBe("bad_key"); // not an Ed25519 record or log key
    expect(parseCosignerKey(formatSignerKey("w", seed(2))).alg).toBe("ed25519");
  });
});

describe("checkpoints", () => {
  it("format and parse round-trip", () => {
    const c = { origin: "example.com/log", treeSize: 1234n, rootHash: EMPTY_ROOT, extensions: ["ext"] };
    expect(parseCheckpoint(formatCheckpoint(c))).toEqual(c);
  });
  it.each([
    ["too few lines", "example.com/log\n0\n"],
    ["leading zero", `example.com/log\n01\n${encodeBase64(EMPTY_ROOT)}\n`],
    ["negative size", `example.com/log\n-1\n${encodeBase64(EMPTY_ROOT)}\n`],
    ["short root", `example.com/log\n1\nAAAA\n`],
    ["empty origin", `\n1\n${encodeBase64(EMPTY_ROOT)}\n`],
    ["no final newline", `example.com/log\n1\n${encodeBase64(EMPTY_ROOT)}`],
    ["empty extension", `example.com/log\n1\n${encodeBase64(EMPTY_ROOT)}\n\n`],
    ["size beyond uint64", `example.com/log\n18446744073709551616\n${encodeBase64(EMPTY_ROOT)}\n`],
  ])("refuses %s", (_d, text) => {
    expect(code(() => parseCheckpoint(text))).toBe("bad_checkpoint");
  });
  it("checks the origin", async () => {
    const s = createNoteSigner("log.example", seed(5));
    const v = createVerifier(formatVerifierKey("log.example", SIG_TYPE_ED25519, ed25519PublicKey(seed(5))));
    const note = await signNote(formatCheckpoint({ origin: "other.example", treeSize: 0n, rootHash: EMPTY_ROOT, extensions: [] }), [s]);
    expect(code(() => openCheckpoint(note, { origin: "log.example", logVerifier: v }))).toBe("bad_checkpoint");
  });
});
