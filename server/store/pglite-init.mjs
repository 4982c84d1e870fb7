// Creates a PGlite data directory (initdb) in a process of its own, then exits.
// initdb inside the server would raise the server's peak memory by some 600 MB
// for good (WebAssembly memory never shrinks); here it is returned to the system.
// Plain JavaScript, so it starts without a TypeScript loader. Usage: node pglite-init.mjs <dataDir>
import { PGlite } from "@electric-sql/pglite";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: pglite-init.mjs <dataDir>\n");
  process.exit(2);
}
const db = await PGlite.create(dir);
await db.close();
