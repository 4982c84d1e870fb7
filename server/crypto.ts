/**
 * Ed25519 on node:crypto (OpenSSL), the server's hot path. Verification is
 * shared with the CLI (cli/node-ed25519.ts); signing is the server's own.
 * Tests check that node:crypto and the client produce and accept the same bytes.
 */
import { createPrivateKey, sign, type KeyObject } from "node:crypto";

export { ed25519VerifyNode, isUsablePublicKey } from "../cli/node-ed25519.js";

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
}

export function ed25519SignNode(key: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, key));
}
