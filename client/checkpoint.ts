/** C2SP tlog-checkpoint: the body of a signed note that commits to a tree. */
import { encodeBase64, parseBase64, parseDecimal } from "./bytes.js";
import { FormatError, SignatureError } from "./errors.js";
import { HASH_SIZE } from "./hash.js";
import { openNote, type Note, type NoteVerifier } from "./note.js";

export interface Checkpoint {
  origin: string;
  treeSize: bigint;
  rootHash: Uint8Array;
  /** Opaque extension lines (not recommended, kept verbatim). */
  extensions: string[];
}

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes("\n")) throw new FormatError("bad_checkpoint", "invalid origin");
  if (c.rootHash.length !== HASH_SIZE) throw new FormatError("bad_checkpoint", "root hash must be 32 bytes");
  for (const e of c.extensions) {
    if (e.length === 0 || e.includes("\n")) throw new FormatError("bad_checkpoint", "invalid extension line");
  }
  return [c.origin, c.treeSize.toString(), encodeBase64(c.rootHash), ...c.extensions].join("\n") + "\n";
}

/** untrusted: parses checkpoint text (the note's text, ending in a newline). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== "string" || !text.endsWith("\n")) throw new FormatError("bad_checkpoint", "checkpoint must end in a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new FormatError("bad_checkpoint", "checkpoint needs origin, tree size and root hash");
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new FormatError("bad_checkpoint", "empty origin");
  let treeSize: bigint;
  let rootHash: Uint8Array;
  try {
    treeSize = parseDecimal(size, "tree size");
    rootHash = parseBase64(root);
  } catch (e) {
    throw new FormatError("bad_checkpoint", `invalid checkpoint: ${(e as Error).message}`);
  }
  if (rootHash.length !== HASH_SIZE) throw new FormatError("bad_checkpoint", "root hash must be 32 bytes");
  if (extensions.some((e) => e.length === 0)) throw new FormatError("bad_checkpoint", "empty extension line");
  return { origin, treeSize, rootHash, extensions };
}

export interface SignedCheckpoint extends Checkpoint {
  note: Note;
  /** The note exactly as received. */
  raw: string;
}

/**
 * untrusted: opens a signed checkpoint note. The log's own signature must be
 * present and valid; cosignatures by `cosigners` are verified too (a known
 * cosigner whose signature fails rejects the note); others are ignored.
 */
export function openCheckpoint(
  raw: string,
  opts: { origin: string; logVerifier: NoteVerifier; cosigners?: readonly NoteVerifier[] },
): SignedCheckpoint {
  const note = openNote(raw, [opts.logVerifier, ...(opts.cosigners ?? [])]);
  if (!note.sigs.some((s) => s.name === opts.logVerifier.name && s.keyId === opts.logVerifier.keyId)) {
    throw new SignatureError("no_verified_signature", "checkpoint is not signed by the log key");
  }
  const c = parseCheckpoint(note.text);
  if (c.origin !== opts.origin) {
    throw new FormatError("bad_checkpoint", `checkpoint origin ${JSON.stringify(c.origin)} is not ${JSON.stringify(opts.origin)}`);
  }
  return { ...c, note, raw };
}
