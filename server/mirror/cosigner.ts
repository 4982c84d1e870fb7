/**
 * A mirror's cosigner (C2SP tlog-cosignature) with a key of its own:
 * Ed25519 (`cosignature/v1`, type 0x04, signed with node:crypto) or
 * ML-DSA-44 (`subtree/v1`, type 0x06, @noble/post-quantum: Node 20 has no
 * ML-DSA), as the key file says.
 */
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { concatBytes, uint64BE, utf8 } from "../../client/bytes.js";
import { parseCheckpoint } from "../../client/checkpoint.js";
import { cosignatureMessage, formatSignatureLine, formatVerifierKey, mldsaCosignedMessage, parseCosignerKey, parseNote } from "../../client/note.js";
import { ed25519SignNode, privateKeyFromSeed } from "../crypto.js";

export interface Cosigner {
  name: string;
  keyId: number;
  alg: "ed25519" | "ml-dsa-44";
  /** The cosigner's vkey (type 0x04 or 0x06), which clients, policies and logs configure. */
  verifierKey: string;
  /** The signature line for a checkpoint note, timestamped now. */
  cosign(note: string, now?: Date): string;
}

export function createCosigner(skey: string): Cosigner {
  const k = parseCosignerKey(skey);
  let signature: (time: bigint, note: string) => Uint8Array;
  if (k.alg === "ml-dsa-44") {
    const { secretKey } = ml_dsa44.keygen(k.seed);
    signature = (time, note) => {
      const cp = parseCheckpoint(parseNote(note).text);
      return ml_dsa44.sign(mldsaCosignedMessage({ cosigner: k.name, time, origin: cp.origin, start: 0n, end: cp.treeSize, hash: cp.rootHash }), secretKey);
    };
  } else {
    const key = privateKeyFromSeed(k.seed);
    signature = (time, note) => ed25519SignNode(key, cosignatureMessage(time, utf8(parseNote(note).text)));
  }
  return {
    name: k.name,
    keyId: k.keyId,
    alg: k.alg,
    verifierKey: formatVerifierKey(k.name, k.sigType, k.publicKey),
    cosign(note, now = new Date()) {
      const time = BigInt(Math.max(1, Math.floor(now.getTime() / 1000)));
      return formatSignatureLine(k.name, k.keyId, concatBytes(uint64BE(time), signature(time, note)));
    },
  };
}
