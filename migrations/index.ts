/** Every migration, by its timestamped name. Names are never changed once released. */
import type { Migration } from "kysely";
import * as log from "./2026-11-23T0800-log.js";

export const migrations: Record<string, Migration> = {
  "2026-11-23T0800-log": log,
};
