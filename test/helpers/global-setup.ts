/**
 * Finds the PostgreSQL server the store and end-to-end suites also run on:
 * TEST_DATABASE_URL when set (CI and this machine), otherwise a testcontainers
 * PostgreSQL when a Docker engine answers, otherwise none (PGlite only).
 */
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string | undefined;
    /** Names this run's databases (ledger_test_<runId>_…), so teardown drops every one. */
    runId: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env.TEST_DATABASE_URL || undefined;
  let stop = async () => {};
  if (url) {
    // A configured server that does not answer is a failure, never a silent skip.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.end();
  } else {
    const started = await startContainer();
    if (started) ({ url, stop } = started);
  }
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  project.provide("postgresUrl", url);
  project.provide("runId", runId);
  return async () => {
    if (url) await dropRunDatabases(url, runId);
    await stop();
  };
}

/** Drops what this run created, even where a test died before its own cleanup. */
async function dropRunDatabases(url: string, runId: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like $1", [`ledger_test_${runId}_%`]);
    for (const r of rows) await client.query(`drop database if exists "${r.datname}" with (force)`);
  } finally {
    await client.end();
  }
}

async function startContainer(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
  } catch {
    console.warn("[ledger tests] no TEST_DATABASE_URL and no Docker engine: PostgreSQL suites are skipped, PGlite suites run");
    return undefined;
  }
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const c = await new PostgreSqlContainer("postgres:16-alpine").start();
  return { url: c.getConnectionUri(), stop: async () => void (await c.stop()) };
}
