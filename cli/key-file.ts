/** Signer key files as every writer reads them: mode 0600 or refused, and a valid C2SP signer key. */
import { readFileSync, statSync } from "node:fs";
import { parseCosignerKey } from "../client/note.js";

/** Reads a signer key file, refusing one that group or others may read or write; `fail` makes the caller's error. */
export function readSignerKeyFile(path: string, fail: (message: string) => Error = (m) => new Error(m)): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw fail(`key file ${path} cannot be read`);
  }
  if ((mode & 0o077) !== 0) {
    throw fail(`key file ${path} has mode ${(mode & 0o777).toString(8)}: it must not be accessible to group or others (chmod 600)`);
  }
  const skey = readFileSync(path, "utf8").trim();
  try {
    parseCosignerKey(skey); // an Ed25519 key, or a mirror's ML-DSA-44 cosigner key
  } catch (e) {
    throw fail(`key file ${path} is not a signer key: ${(e as Error).message}`);
  }
  return skey;
}
