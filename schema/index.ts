export * from "./records.js";
export * from "./api.js";
export * from "./database.js";
export * from "./approvals.js";
