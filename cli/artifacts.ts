/** Release artifacts as the CLI reads them: files hashed here, or `name=sha256` pairs. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Artifact } from "../client/replay.js";
import { CliError } from "./errors.js";

/** Artifacts from files (name = file name, sha256 of the content) and `name=sha256` pairs. */
export function artifactsFrom(files: string[], pairs: string[] = []): Artifact[] {
  const out: Artifact[] = files.map((f) => {
    let data: Buffer;
    try {
      data = readFileSync(f);
    } catch {
      throw new CliError(`cannot read artifact ${f}`, 2);
    }
    return { name: basename(f), sha256: createHash("sha256").update(data).digest("hex") };
  });
  for (const p of pairs) {
    const m = /^([\x21-\x7e]+)=([0-9a-f]{64})$/.exec(p);
    if (!m) throw new CliError(`--artifact must be <name>=<64 hex sha256>, got ${JSON.stringify(p)}`, 2);
    out.push({ name: m[1]!, sha256: m[2]! });
  }
  if (out.length === 0) throw new CliError("give the artifact files (or --artifact name=sha256)", 2);
  return out;
}

