/**
 * Debian's Chromium for the browser tests and the vector generator, driven by
 * playwright-core (never a downloaded browser). Without /usr/bin/chromium
 * the browser suites are skipped, unless LEDGER_REQUIRE_BROWSER=1 (set by
 * .ci/run, which installs Chromium): then importing this fails loudly.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { PNG } from "pngjs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.LEDGER_REQUIRE_BROWSER === "1") throw new Error(`LEDGER_REQUIRE_BROWSER=1 but ${CHROMIUM} does not exist: apt-get install chromium`);

/** Headless, and quiet: without the background-networking flags Chromium keeps dialling hosts this machine cannot reach. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** The share of pixels near `rgb` (within 24 per channel). */
export function shareOf(png: Buffer, rgb: [number, number, number]): number {
  const img = PNG.sync.read(png);
  let near = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (Math.abs(img.data[i]! - rgb[0]) < 24 && Math.abs(img.data[i + 1]! - rgb[1]) < 24 && Math.abs(img.data[i + 2]! - rgb[2]) < 24) near++;
  }
  return near / (img.width * img.height);
}

/** The verification box's backgrounds (explorer/src/style.css --okbg, --badbg). */
export const OK_BG: [number, number, number] = [0xec, 0xfd, 0xf3];
export const FAIL_BG: [number, number, number] = [0xfe, 0xf3, 0xf2];
