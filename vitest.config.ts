import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["client/**/*.test.ts", "cli/**/*.test.ts", "server/**/*.test.ts", "schema/**/*.test.ts", "integrations/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Both cores: most files wait on child processes, sockets and PostgreSQL, not CPU (one worker,
    // Vitest's default on 2 cores, took 9 min; two take 7).
    maxWorkers: 2,
    // .ci/run asks for a machine-readable report to print its one-line summary.
    reporters: process.env.LEDGER_TEST_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.LEDGER_TEST_REPORT ? { json: process.env.LEDGER_TEST_REPORT } : undefined,
  },
});
