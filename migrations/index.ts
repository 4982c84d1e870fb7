/** Every migration, by its timestamped name. Names are never changed once released. */
import type { Migration } from "kysely";
import * as log from "./2026-11-23T0800-log.js";
import * as writerTokens from "./2026-11-23T0900-writer-tokens.js";
import * as mirror from "./2026-11-23T1000-mirror.js";
import * as lookups from "./2026-12-03T0900-lookups.js";
import * as approvals from "./2026-12-03T1600-approvals.js";
import * as mirrorPending from "./2026-12-04T0900-mirror-pending.js";

export const migrations: Record<string, Migration> = {
  "2026-11-23T0800-log": log,
  "2026-11-23T0900-writer-tokens": writerTokens,
  "2026-11-23T1000-mirror": mirror,
  "2026-12-03T0900-lookups": lookups,
  "2026-12-03T1600-approvals": approvals,
  "2026-12-04T0900-mirror-pending": mirrorPending,
};
