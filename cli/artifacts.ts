/** Release artifacts as the CLI reads them: files hashed here, or `name=sha256[:sha512]` pairs. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseBase64 } from "../client/bytes.js";
import type { Artifact } from "../client/replay.js";
import { CliError } from "./errors.js";

/**
 * Artifacts from files (name = file name, sha256 of the content, and sha512
 * too with `withSha512`: npm tarballs, whose integrity is a sha512) and from
 * `name=sha256[:sha512]` pairs. An artifact is compared whole: a release
 * logged with sha512 is matched only by artifacts that carry it.
 */
export function artifactsFrom(files: string[], pairs: string[] = [], withSha512 = false): Artifact[] {
  const out: Artifact[] = files.map((f) => {
    let data: Buffer;
    try {
      data = readFileSync(f);
    } catch {
      throw new CliError(`cannot read artifact ${f}`, 2);
    }
    const a: Artifact = { name: basename(f), sha256: createHash("sha256").update(data).digest("hex") };
    if (withSha512) a.sha512 = createHash("sha512").update(data).digest("hex");
    return a;
  });
  for (const p of pairs) {
    const m = /^([\x21-\x7e]+?)=([0-9a-f]{64})(?::([0-9a-f]{128}))?$/.exec(p);
    if (!m) throw new CliError(`--artifact must be <name>=<64 hex sha256>[:<128 hex sha512>], got ${JSON.stringify(p)}`, 2);
    out.push({ name: m[1]!, sha256: m[2]!, ...(m[3] ? { sha512: m[3] } : {}) });
  }
  if (out.length === 0) throw new CliError("give the artifact files (or --artifact name=sha256)", 2);
  return out;
}

/** The sha512 digests (hex, in order) an SRI `integrity` string names, as npm writes `dist.integrity`; other hashes and malformed parts are skipped. */
export function integritySha512s(integrity: string | undefined): string[] {
  if (typeof integrity !== "string") return [];
  const out: string[] = [];
  for (const part of integrity.trim().split(/\s+/)) {
    if (!part.startsWith("sha512-")) continue;
    try {
      const d = parseBase64(part.slice(7).replace(/\?.*$/, ""));
      if (d.length === 64) out.push(Buffer.from(d).toString("hex"));
    } catch {
      // not base64: keep looking
    }
  }
  return out;
}
