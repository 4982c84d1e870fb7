/**
 * C2SP signed-note: parsing, verification (after Go's sumdb/note.Open),
 * signing, key IDs and vkey strings. Ed25519 (type 0x01) note signatures,
 * and C2SP tlog-cosignature cosignatures: Ed25519 (type 0x04) and ML-DSA-44
 * (type 0x06, FIPS 204, over the `subtree/v1` message).
 */
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { concatBytes, encodeBase64, parseBase64, uint64BE, utf8 } from "./bytes.js";
import { parseCheckpoint } from "./checkpoint.js"; // checkpoint.ts imports this module too: only functions, called after load
import { ed25519PublicKey, ed25519Sign, ed25519Verify } from "./ed25519.js";
import { FormatError, SignatureError } from "./errors.js";
import { sha256 } from "./hash.js";

export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_COSIGNATURE = 0x04;
/** ML-DSA-44 cosignatures (C2SP tlog-cosignature): a timestamped signature over `subtree/v1`. */
export const SIG_TYPE_MLDSA44_COSIGNATURE = 0x06;
export const MLDSA44_PUBLIC_KEY_SIZE = 1312;
export const MLDSA44_SIGNATURE_SIZE = 2420;
/** Go's sumdb/note stops parsing after this many signatures. */
export const MAX_SIGNATURES = 100;

const SIG_PREFIX = "\u2014 "; // EM DASH and a space

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  sig: Uint8Array;
  /** The whole base64 payload as it appeared on the line. */
  base64: string;
}

export interface Note {
  text: string;
  /** Signatures by known verifiers, all verified. */
  sigs: NoteSignature[];
  /** Signatures by keys the caller did not name; ignored, never trusted. */
  unverifiedSigs: NoteSignature[];
}

export interface NoteVerifier {
  name: string;
  keyId: number;
  verify(text: Uint8Array, sig: Uint8Array): boolean;
}

export interface NoteSigner {
  name: string;
  keyId: number;
  sign(text: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** Key names are non-empty, without Unicode spaces and without '+'. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s\u0085+]/u.test(name);
}

/** SHA-256(name || "\n" || type || publicKey)[:4] as a uint32. */
export function computeKeyId(name: string, sigType: number, publicKey: Uint8Array): number {
  const h = sha256(concatBytes(utf8(name), new Uint8Array([0x0a, sigType]), publicKey));
  return new DataView(h.buffer, h.byteOffset, 4).getUint32(0, false);
}

/** untrusted: splits a note into its text and signature lines, checking syntax only. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (typeof note !== "string") throw new FormatError("bad_note", "note must be a string");
  if (!note.isWellFormed()) throw new FormatError("bad_note", "note is not valid utf-8");
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note)) throw new FormatError("bad_note", "note contains control characters");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new FormatError("bad_note", "note has no signature block");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith("\n")) throw new FormatError("bad_note", "note signature block must end in a newline");
  const signatures: NoteSignature[] = [];
  for (const line of block.slice(0, -1).split("\n")) {
    if (signatures.length >= MAX_SIGNATURES) {
      throw new FormatError("too_many_signatures", `note has more than ${MAX_SIGNATURES} signatures`);
    }
    signatures.push(parseSignatureLine(line));
  }
  return { text, signatures };
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) throw new FormatError("bad_note", "signature line must start with an em dash and a space");
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) throw new FormatError("bad_note", "signature line has no signature");
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) throw new FormatError("bad_note", "invalid key name in signature line");
  const raw = parseBase64(b64);
  if (raw.length < 5) throw new FormatError("bad_note", "signature too short");
  const keyId = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, false);
  return { name, keyId, sig: raw.subarray(4), base64: b64 };
}

/**
 * untrusted: parses a note and verifies it with the given verifiers (Go's
 * note.Open): unknown signers are ignored, a known signer whose signature
 * fails rejects the note, and at least one known signer must have signed.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): Note {
  const { text, signatures } = parseNote(note);
  const textBytes = utf8(text);
  const sigs: NoteSignature[] = [];
  const unverifiedSigs: NoteSignature[] = [];
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const s of signatures) {
    const v = verifiers.find((x) => x.name === s.name && x.keyId === s.keyId);
    const key = `${s.name} ${s.keyId}`;
    if (!v) {
      const line = `${s.name} ${s.base64}`;
      if (!seenUnverified.has(line)) {
        seenUnverified.add(line);
        unverifiedSigs.push(s);
      }
      continue;
    }
    if (seen.has(key)) continue; // a repeated signature from the same verifier counts once
    seen.add(key);
    if (!v.verify(textBytes, s.sig)) {
      throw new SignatureError("invalid_signature", `invalid signature by ${s.name}+${hex8(s.keyId)}`);
    }
    sigs.push(s);
  }
  if (sigs.length === 0) throw new SignatureError("no_verified_signature", "note has no signature by a known key");
  return { text, sigs, unverifiedSigs };
}

export function formatSignatureLine(name: string, keyId: number, sig: Uint8Array): string {
  const payload = new Uint8Array(4 + sig.length);
  new DataView(payload.buffer).setUint32(0, keyId, false);
  payload.set(sig, 4);
  return `${SIG_PREFIX}${name} ${encodeBase64(payload)}\n`;
}

/** Signs `text` (which must end in a newline) with every signer; returns the note. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  checkNoteText(text);
  const bytes = utf8(text);
  let note = `${text}\n`;
  for (const s of signers) note += formatSignatureLine(s.name, s.keyId, await s.sign(bytes));
  return note;
}

export function checkNoteText(text: string): void {
  if (!text.endsWith("\n") || /[\u0000-\u0009\u000b-\u001f\u007f]/.test(text) || !text.isWellFormed()) {
    throw new FormatError("bad_note", "note text must be valid utf-8 ending in a newline without control characters");
  }
}

export function hex8(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

/** `<name>+<hex keyid>+<base64(type || key)>` */
export function formatVerifierKey(name: string, sigType: number, publicKey: Uint8Array): string {
  const id = computeKeyId(name, sigType, publicKey);
  return `${name}+${hex8(id)}+${encodeBase64(concatBytes(new Uint8Array([sigType]), publicKey))}`;
}

export interface VerifierKey {
  name: string;
  keyId: number;
  sigType: number;
  publicKey: Uint8Array;
}

/** untrusted: parses a vkey string and recomputes its key ID. */
export function parseVerifierKey(vkey: string): VerifierKey {
  if (typeof vkey !== "string") throw new FormatError("bad_vkey", "vkey must be a string");
  const parts = splitPlus(vkey, 3);
  if (parts.length !== 3) throw new FormatError("bad_vkey", "vkey must be <name>+<hex keyid>+<base64 key>");
  const [name, idHex, keyB64] = parts as [string, string, string];
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex)) throw new FormatError("bad_vkey", "invalid vkey name or key id");
  let raw: Uint8Array;
  try {
    raw = parseBase64(keyB64);
  } catch {
    throw new FormatError("bad_vkey", "invalid vkey key encoding");
  }
  if (raw.length < 2) throw new FormatError("bad_vkey", "vkey key too short");
  const sigType = raw[0]!;
  const publicKey = raw.slice(1);
  if ((sigType === SIG_TYPE_ED25519 || sigType === SIG_TYPE_COSIGNATURE) && publicKey.length !== 32) {
    throw new FormatError("bad_vkey", "ed25519 vkey must hold a 32-byte key");
  }
  if (sigType === SIG_TYPE_MLDSA44_COSIGNATURE && publicKey.length !== MLDSA44_PUBLIC_KEY_SIZE) {
    throw new FormatError("bad_vkey", `ml-dsa-44 vkey must hold a ${MLDSA44_PUBLIC_KEY_SIZE}-byte key`);
  }
  const keyId = computeKeyId(name, sigType, publicKey);
  if (hex8(keyId) !== idHex) throw new FormatError("bad_vkey", "vkey key id does not match its key");
  return { name, keyId, sigType, publicKey };
}

/** untrusted: a verifier for an Ed25519 (0x01) or cosignature (0x04) vkey. */
export function createVerifier(vkey: string | VerifierKey): NoteVerifier {
  const k = typeof vkey === "string" ? parseVerifierKey(vkey) : vkey;
  if (k.sigType === SIG_TYPE_ED25519) {
    return { name: k.name, keyId: k.keyId, verify: (text, sig) => ed25519Verify(k.publicKey, text, sig) };
  }
  if (k.sigType === SIG_TYPE_COSIGNATURE) {
    return {
      name: k.name,
      keyId: k.keyId,
      verify: (text, sig) => {
        if (sig.length !== 72) return false;
        const time = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0, false);
        if (time >= 1n << 63n) return false;
        return ed25519Verify(k.publicKey, cosignatureMessage(time, text), sig.subarray(8));
      },
    };
  }
  if (k.sigType === SIG_TYPE_MLDSA44_COSIGNATURE) {
    return {
      name: k.name,
      keyId: k.keyId,
      verify: (text, sig) => {
        if (sig.length !== 8 + MLDSA44_SIGNATURE_SIZE) return false;
        const time = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0, false);
        if (time >= 1n << 63n) return false;
        const msg = mldsaCosignedMessageFromNote(k.name, time, text);
        if (!msg) return false;
        try {
          return ml_dsa44.verify(sig.subarray(8), msg, k.publicKey);
        } catch {
          return false;
        }
      },
    };
  }
  throw new FormatError("bad_vkey", `unsupported signature type 0x${k.sigType.toString(16).padStart(2, "0")}`);
}

/**
 * The message an ML-DSA-44 cosigner signs (C2SP tlog-cosignature
 * `cosigned_message`): "subtree/v1\n\0", the cosigner's name, the timestamp,
 * the log's origin, start and end of the (sub)tree and its root hash. For a
 * checkpoint start is 0 and end its size; extension lines are not covered.
 */
export function mldsaCosignedMessage(m: { cosigner: string; time: bigint; origin: string; start: bigint; end: bigint; hash: Uint8Array }): Uint8Array {
  const name = utf8(m.cosigner);
  const origin = utf8(m.origin);
  if (name.length < 1 || name.length > 255 || origin.length < 1 || origin.length > 255) throw new FormatError("bad_note", "cosigner name and origin must be 1 to 255 bytes");
  if (m.hash.length !== 32) throw new FormatError("bad_note", "the hash must be 32 bytes");
  return concatBytes(utf8("subtree/v1\n\0"), new Uint8Array([name.length]), name, uint64BE(m.time), new Uint8Array([origin.length]), origin, uint64BE(m.start), uint64BE(m.end), m.hash);
}

/** The cosigned message for a checkpoint note's text, or undefined when the text is not a checkpoint. */
function mldsaCosignedMessageFromNote(cosigner: string, time: bigint, text: Uint8Array): Uint8Array | undefined {
  try {
    const cp = parseCheckpoint(new TextDecoder().decode(text));
    if (cp.treeSize >= 1n << 64n) return undefined;
    return mldsaCosignedMessage({ cosigner, time, origin: cp.origin, start: 0n, end: cp.treeSize, hash: cp.rootHash });
  } catch {
    return undefined;
  }
}

/** The message an Ed25519 cosigner signs (C2SP tlog-cosignature v1). */
export function cosignatureMessage(time: bigint, text: Uint8Array): Uint8Array {
  return concatBytes(utf8(`cosignature/v1\ntime ${time}\n`), text);
}

/** The timestamp carried by a verified cosignature (Ed25519 or ML-DSA-44). */
export function cosignatureTime(sig: NoteSignature): bigint {
  if (sig.sig.length !== 72 && sig.sig.length !== 8 + MLDSA44_SIGNATURE_SIZE) throw new FormatError("bad_note", "not a cosignature");
  return new DataView(sig.sig.buffer, sig.sig.byteOffset, 8).getBigUint64(0, false);
}

export interface SignerKey {
  name: string;
  keyId: number;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/** Go's signer-key format: `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>`. */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  if (!isValidKeyName(name)) throw new FormatError("bad_key", "invalid key name");
  const id = computeKeyId(name, SIG_TYPE_ED25519, ed25519PublicKey(seed));
  return `PRIVATE+KEY+${name}+${hex8(id)}+${encodeBase64(concatBytes(new Uint8Array([SIG_TYPE_ED25519]), seed))}`;
}

/** untrusted: parses a Go-format Ed25519 signer key and checks its key ID. */
export function parseSignerKey(skey: string): SignerKey {
  const parts = typeof skey === "string" ? splitPlus(skey.trim(), 5) : [];
  if (parts.length !== 5 || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new FormatError("bad_key", "signer key must be PRIVATE+KEY+<name>+<hex keyid>+<base64 key>");
  }
  const [, , name, idHex, keyB64] = parts as [string, string, string, string, string];
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex)) throw new FormatError("bad_key", "invalid signer key name or key id");
  let raw: Uint8Array;
  try {
    raw = parseBase64(keyB64);
  } catch {
    throw new FormatError("bad_key", "invalid signer key encoding");
  }
  if (raw.length !== 33 || raw[0] !== SIG_TYPE_ED25519) throw new FormatError("bad_key", "signer key must be an ed25519 seed");
  const seed = raw.slice(1);
  const publicKey = ed25519PublicKey(seed);
  const keyId = computeKeyId(name, SIG_TYPE_ED25519, publicKey);
  if (hex8(keyId) !== idHex) throw new FormatError("bad_key", "signer key id does not match its key");
  return { name, keyId, seed, publicKey };
}

/** A cosigner's key: an Ed25519 seed (Go's signer-key format, cosigning as type 0x04) or an ML-DSA-44 seed (type 0x06). */
export interface CosignerKey {
  alg: "ed25519" | "ml-dsa-44";
  name: string;
  /** The key ID of its cosignatures (over type 0x04 or 0x06). */
  keyId: number;
  sigType: typeof SIG_TYPE_COSIGNATURE | typeof SIG_TYPE_MLDSA44_COSIGNATURE;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/** `PRIVATE+KEY+<name>+<hex8>+<base64(0x06 || 32-byte seed)>`: an ML-DSA-44 cosigner key (FIPS 204 key generation from the seed). */
export function formatMldsaSignerKey(name: string, seed: Uint8Array): string {
  if (!isValidKeyName(name)) throw new FormatError("bad_key", "invalid key name");
  if (seed.length !== 32) throw new FormatError("bad_key", "an ml-dsa-44 seed is 32 bytes");
  const id = computeKeyId(name, SIG_TYPE_MLDSA44_COSIGNATURE, ml_dsa44.keygen(seed).publicKey);
  return `PRIVATE+KEY+${name}+${hex8(id)}+${encodeBase64(concatBytes(new Uint8Array([SIG_TYPE_MLDSA44_COSIGNATURE]), seed))}`;
}

/** untrusted: a cosigner key file's key, Ed25519 (Go's format) or ML-DSA-44. */
export function parseCosignerKey(skey: string): CosignerKey {
  const parts = typeof skey === "string" ? splitPlus(skey.trim(), 5) : [];
  let raw: Uint8Array | undefined;
  try {
    raw = parts.length === 5 ? parseBase64(parts[4]!) : undefined;
  } catch {
    raw = undefined;
  }
  if (raw?.[0] !== SIG_TYPE_MLDSA44_COSIGNATURE) {
    const k = parseSignerKey(skey);
    return { alg: "ed25519", name: k.name, keyId: computeKeyId(k.name, SIG_TYPE_COSIGNATURE, k.publicKey), sigType: SIG_TYPE_COSIGNATURE, seed: k.seed, publicKey: k.publicKey };
  }
  const [p0, p1, name, idHex] = parts as [string, string, string, string];
  if (p0 !== "PRIVATE" || p1 !== "KEY" || !isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex)) throw new FormatError("bad_key", "invalid signer key name or key id");
  if (raw.length !== 33) throw new FormatError("bad_key", "an ml-dsa-44 signer key holds a 32-byte seed");
  const seed = raw.slice(1);
  const publicKey = ml_dsa44.keygen(seed).publicKey;
  const keyId = computeKeyId(name, SIG_TYPE_MLDSA44_COSIGNATURE, publicKey);
  if (hex8(keyId) !== idHex) throw new FormatError("bad_key", "signer key id does not match its key");
  return { alg: "ml-dsa-44", name, keyId, sigType: SIG_TYPE_MLDSA44_COSIGNATURE, seed, publicKey };
}

/** An Ed25519 note signer on @noble/ed25519 (the server uses node:crypto for the same bytes). */
export function createNoteSigner(name: string, seed: Uint8Array): NoteSigner {
  const publicKey = ed25519PublicKey(seed);
  return { name, keyId: computeKeyId(name, SIG_TYPE_ED25519, publicKey), sign: (text) => ed25519Sign(seed, text) };
}



/** Splits at the first n-1 '+' signs: the last part (base64) may itself contain '+'. */
function splitPlus(s: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf("+");
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  out.push(rest);
  return out;
}
