/** A trusted-state store in a file (Node): written atomically, never moved backwards by a crash. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { TrustedStateStore } from "../client/ledger-client.js";

export class FileStateStore implements TrustedStateStore {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }
  async load(): Promise<string | undefined> {
    try {
      return readFileSync(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
  async save(note: string): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, note, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
