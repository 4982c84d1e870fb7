/**
 * Builds the web explorer into explorer/dist (committed, so `npm start` needs
 * no build step): one ES module bundle of explorer/src/main.ts with the client
 * library, plus the page and its stylesheet. `npm run build`; a test checks
 * the committed files equal a fresh build.
 */
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));

export async function buildExplorer(outDir = join(root, "dist")): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  // The explorer, the approval pages, and the service worker (a classic script: no modules in workers everywhere).
  const bundles: Array<[string, string, "esm" | "iife"]> = [
    ["src/main.ts", "app.js", "esm"],
    ["src/enroll.ts", "enroll.js", "esm"],
    ["src/approve.ts", "approve.js", "esm"],
    ["src/sw.ts", "sw.js", "iife"],
  ];
  for (const [entry, out, format] of bundles) {
    await build({
      entryPoints: [join(root, entry)],
      outfile: join(outDir, out),
      bundle: true,
      format,
      platform: "browser",
      target: "es2022",
      minify: true,
      legalComments: "none",
      logLevel: "warning",
    });
  }
  for (const f of ["index.html", "enroll.html", "approve.html", "style.css"]) copyFileSync(join(root, "src", f), join(outDir, f));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  await buildExplorer(out);
  console.error(`explorer built into ${out ?? join(root, "dist")}`);
}
