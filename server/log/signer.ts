/** The log's checkpoint signer: the client's note format, node:crypto's Ed25519. */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ed25519RandomSeed } from "../../client/ed25519.js";
import { readSignerKeyFile } from "../../cli/key-file.js";
import { formatMldsaSignerKey, formatSignerKey, formatVerifierKey, parseSignerKey, SIG_TYPE_ED25519, signNote, type NoteSigner } from "../../client/note.js";
import { ed25519SignNode, privateKeyFromSeed } from "../crypto.js";

export interface LogSigner {
  /** Key name; equal to the log's origin. */
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** C2SP vkey string. */
  readonly verifierKey: string;
  /** Signs checkpoint text into a signed note. */
  signNote(text: string): Promise<string>;
}

export function createLogSigner(skey: string): LogSigner {
  const k = parseSignerKey(skey);
  const privateKey = privateKeyFromSeed(k.seed);
  const signer: NoteSigner = { name: k.name, keyId: k.keyId, sign: (text) => ed25519SignNode(privateKey, text) };
  return {
    name: k.name,
    keyId: k.keyId,
    publicKey: k.publicKey,
    verifierKey: formatVerifierKey(k.name, SIG_TYPE_ED25519, k.publicKey),
    signNote: (text) => signNote(text, [signer]),
  };
}

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

/** Writes a new Ed25519 signer key (Go note format) with mode 0600; never overwrites. */
export function writeNewKeyFile(path: string, name: string, alg: "ed25519" | "ml-dsa-44" = "ed25519"): string {
  const skey = alg === "ml-dsa-44" ? formatMldsaSignerKey(name, randomBytes(32)) : formatSignerKey(name, ed25519RandomSeed());
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, skey + "\n", { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new KeyFileError(`key file ${path} already exists`);
    throw e;
  }
  chmodSync(path, 0o600); // the umask may have narrowed it; never widened
  return skey;
}

/** Reads a signer key file, refusing one that group or others may read or write. */
export function readKeyFile(path: string): string {
  return readSignerKeyFile(path, (m) => new KeyFileError(m));
}

/** Loads the key at `path`, creating it with `name` (and `alg`) on first start when `create` is set. */
export function loadOrCreateKey(path: string, name: string, create: boolean, alg: "ed25519" | "ml-dsa-44" = "ed25519"): { skey: string; created: boolean } {
  if (existsSync(path)) return { skey: readKeyFile(path), created: false };
  if (!create) throw new KeyFileError(`key file ${path} does not exist`);
  return { skey: writeNewKeyFile(path, name, alg), created: true };
}
