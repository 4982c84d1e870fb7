/** A mirror's cosigner: C2SP cosignature/v1 (type 0x04) with a key of its own. */
import { uint64BE, concatBytes } from "../../client/bytes.js";
import { computeKeyId, cosignatureMessage, formatSignatureLine, formatVerifierKey, parseNote, parseSignerKey, SIG_TYPE_COSIGNATURE } from "../../client/note.js";
import { utf8 } from "../../client/bytes.js";
import { ed25519SignNode, privateKeyFromSeed } from "../crypto.js";

export interface Cosigner {
  name: string;
  keyId: number;
  /** The cosigner's vkey (type 0x04), which clients and logs configure. */
  verifierKey: string;
  /** The signature line for a checkpoint note, timestamped now. */
  cosign(note: string, now?: Date): string;
}

export function createCosigner(skey: string): Cosigner {
  const k = parseSignerKey(skey); // an Ed25519 seed in Go's key format; used here as a 0x04 key
  const key = privateKeyFromSeed(k.seed);
  const keyId = computeKeyId(k.name, SIG_TYPE_COSIGNATURE, k.publicKey);
  return {
    name: k.name,
    keyId,
    verifierKey: formatVerifierKey(k.name, SIG_TYPE_COSIGNATURE, k.publicKey),
    cosign(note, now = new Date()) {
      const time = BigInt(Math.max(1, Math.floor(now.getTime() / 1000)));
      const sig = ed25519SignNode(key, cosignatureMessage(time, utf8(parseNote(note).text)));
      return formatSignatureLine(k.name, keyId, concatBytes(uint64BE(time), sig));
    },
  };
}
