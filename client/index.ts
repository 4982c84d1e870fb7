/** Ledger client library: verification code shared by the server, mirrors and package managers. */
export * from "./errors.js";
export * from "./bytes.js";
export * from "./hash.js";
export * from "./merkle-verify.js";
export * from "./merkle-tree.js";
export * from "./jcs.js";
export * from "./ed25519.js";
export * from "./note.js";
export * from "./checkpoint.js";
export * from "./entry.js";
export * from "./record-shape.js";
export * from "./replay.js";
export * from "./quorum.js";
export * from "./tlog-proof.js";
export * from "./ledger-client.js";
export * from "./tiles.js";
export * from "./evidence.js";
