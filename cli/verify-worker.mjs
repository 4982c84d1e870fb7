// Ed25519 verification off the event loop: the server's VerifyPool sends
// batches of [publicKey, message, signature]; every key was already checked
// to be canonical and of large order on the main thread (isValidPublicKey).
// Plain JavaScript so the thread starts without the TypeScript loader.
import { createPublicKey, verify } from "node:crypto";
import { parentPort } from "node:worker_threads";

const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const keys = new Map();

function keyObject(pub) {
  const k = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString("base64");
  let o = keys.get(k);
  if (!o) {
    o = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: "der", type: "spki" });
    if (keys.size >= 10_000) keys.delete(keys.keys().next().value);
    keys.set(k, o);
  }
  return o;
}

parentPort.on("message", ({ id, items }) => {
  const results = items.map(([pub, msg, sig]) => {
    try {
      return pub.length === 32 && sig.length === 64 && verify(null, msg, keyObject(pub), sig);
    } catch {
      return false;
    }
  });
  parentPort.postMessage({ id, results });
});
