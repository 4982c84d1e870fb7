#!/usr/bin/env node
// The `ledger` command: the compiled build in dist/ (made by `npm run build:lib`, which
// `npm ci`, `npm test` and `npm pack` run). No TypeScript loader at run time.
import { main } from "../dist/server/cli.js";

process.exitCode = await main(process.argv.slice(2));
