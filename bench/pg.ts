/** A fresh PostgreSQL database for one bench run, created from an admin URL and dropped after. */
import pg from "pg";

export async function withBenchDatabase<T>(adminUrl: string, tag: string, use: (databaseUrl: string) => Promise<T>): Promise<T> {
  const name = `ledger_bench_${tag}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    return await use(u.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
