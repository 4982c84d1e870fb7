/**
 * The package's root folder, from the sources (server/ is one level down) or
 * from the build (dist/server/ is two): where package.json and the explorer's
 * files are.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const up1 = new URL("../", import.meta.url);
export const PACKAGE_ROOT: string = fileURLToPath(existsSync(new URL("package.json", up1)) ? up1 : new URL("../../", import.meta.url));
