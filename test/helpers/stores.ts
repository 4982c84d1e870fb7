/**
 * The store implementations every store and end-to-end suite runs against:
 * PGlite always, PostgreSQL when the global setup found one. Each PostgreSQL
 * fixture gets a database of its own, dropped afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { openStore, type KyselyStore } from "../../server/store/kysely-store.js";
import type { StoreKind } from "../../server/store/store.js";

export interface StoreLocation {
  kind: StoreKind;
  databaseUrl?: string;
  pgliteDir?: string;
  open(): Promise<KyselyStore>;
  destroy(): Promise<void>;
}

export interface StoreFixture {
  kind: StoreKind;
  /** A new, empty location (database or data directory). */
  create(): Promise<StoreLocation>;
}

const pgUrl = inject("postgresUrl");
const runId = inject("runId");

export const STORES: StoreFixture[] = [
  {
    kind: "pglite",
    async create() {
      const dir = mkdtempSync(join(tmpdir(), "ledger-pglite-"));
      const pgliteDir = join(dir, "db");
      return {
        kind: "pglite",
        pgliteDir,
        open: () => openStore({ pgliteDir }),
        destroy: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  ...(pgUrl
    ? [
        {
          kind: "postgres" as const,
          async create(): Promise<StoreLocation> {
            const name = `ledger_test_${runId}_${Math.random().toString(36).slice(2, 10)}`;
            await admin(`create database ${name}`);
            const u = new URL(pgUrl);
            u.pathname = `/${name}`;
            const databaseUrl = u.toString();
            return {
              kind: "postgres",
              databaseUrl,
              open: () => openStore({ databaseUrl }),
              destroy: () => admin(`drop database if exists ${name} with (force)`),
            };
          },
        },
      ]
    : []),
];

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
