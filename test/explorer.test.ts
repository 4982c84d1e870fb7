/**
 * The web explorer in headless Chromium (Debian's chromium driven by
 * playwright-core), against a real ledger over HTTP holding the demo log.
 * Proof verification happens in the page; tampering is injected by
 * intercepting the page's requests. Screenshots are taken and checked:
 * the verification box must be green when a proof holds and red when not.
 *
 * Without /usr/bin/chromium the suite is skipped, unless
 * LEDGER_REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { type Browser, type Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAIL_BG, haveChromium, launchChromium, OK_BG, shareOf } from "./helpers/browser.js";
import { encodeBase64, encodeHex, parseBase64 } from "../client/bytes.js";
import { ed25519PublicKey } from "../client/ed25519.js";
import { formatVerifierKey, SIG_TYPE_ED25519 } from "../client/note.js";
import { loadConfig } from "../server/config.js";
import { createLedger, type Ledger } from "../server/ledger.js";
import { listen } from "../server/listen.js";
import { appendDemo, DEMO_CORE_KEYS, DEMO_NS, DEMO_PKG, demoKeys, type DemoLog } from "./helpers/demo.js";
import { TEST_WRITERS } from "./helpers/http.js";


const SHOTS = join(import.meta.dirname, "../test-results/explorer");


describe.skipIf(!haveChromium)("web explorer in Chromium", () => {
  let dir: string;
  let ledger: Ledger;
  let server: Server;
  let base: string;
  let demo: DemoLog;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "ledger-explorer-"));
    ledger = await createLedger(loadConfig({ LEDGER_DATA_DIR: dir, LEDGER_WRITER_TOKENS: TEST_WRITERS, LEDGER_CORE_KEYS: DEMO_CORE_KEYS, BATCH_MAX_AGE_MS: "1" }));
    const l = await listen(ledger.app, "127.0.0.1", 0);
    server = l.server;
    base = `http://127.0.0.1:${l.port}`;
    demo = await appendDemo((p, init) => fetch(base + p, init));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh page that fails the test on any script error or CSP violation. */
  async function open(hash: string, setup?: (p: Page) => Promise<unknown>): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    await setup?.(page);
    await page.goto(`${base}/${hash}`);
    await page.waitForSelector("#main[aria-busy=false]");
    return { page, errors };
  }

  it("home: checkpoint verified in the browser, recent entries, growth chart; screenshot", async () => {
    const { page, errors } = await open("");
    expect(await page.getAttribute("section [data-verify]", "data-verify")).toBe("ok");
    expect(await page.textContent("#tree-size")).toBe(demo.size.toString());
    expect(await page.locator("table.entries tbody tr").count()).toBe(20);
    expect(await page.textContent("table.entries tbody tr:first-child")).toContain(`${demo.size - 1n}`);
    // The chart is drawn from /v1/growth: a path that ends at the tree size.
    expect(await page.getAttribute("svg.growth", "aria-label")).toMatch(new RegExp(`to ${demo.size}$`));
    expect(await page.locator("svg.growth path.line").getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
    const shot = await page.screenshot({ path: join(SHOTS, "home.png"), fullPage: true });
    expect(PNG.sync.read(shot).width).toBe(1200);
    expect(shareOf(await page.locator("section [data-verify]").screenshot(), OK_BG)).toBeGreaterThan(0.5);
    if (process.env.LEDGER_UPDATE_SCREENSHOTS === "1") copyFileSync(join(SHOTS, "home.png"), join(import.meta.dirname, "../docs/explorer.png"));
    expect(errors).toEqual([]);
    await page.close();
  });

  it("entry page: the inclusion proof is verified in the browser", async () => {
    const { page, errors } = await open(`#/entry/${demo.at.release1}`);
    await page.waitForSelector("[data-verify=ok]");
    expect(await page.textContent("[data-verify=ok]")).toContain(`Entry ${demo.at.release1} is leaf ${demo.at.release1} of the tree of size ${demo.size}`);
    expect(await page.textContent("pre.json")).toContain(DEMO_PKG);
    expect(shareOf(await page.locator("[data-verify]").screenshot({ path: join(SHOTS, "entry-ok.png") }), OK_BG)).toBeGreaterThan(0.5);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a tampered inclusion proof is refused, in red", async () => {
    const { page } = await open(`#/entry/${demo.at.release1}`, (p) =>
      p.route("**/v1/proofs/inclusion**", async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        const h = parseBase64(body.proof[0]);
        h[0]! ^= 1;
        body.proof[0] = encodeBase64(h);
        await route.fulfill({ response: res, json: body });
      }),
    );
    await page.waitForSelector("[data-verify=fail]");
    expect(await page.textContent("[data-verify=fail]")).toMatch(/Verification failed.*root/i);
    expect(shareOf(await page.locator("[data-verify]").screenshot({ path: join(SHOTS, "entry-tampered.png") }), FAIL_BG)).toBeGreaterThan(0.5);
    await page.close();
  });

  it("a served entry that is not the proven leaf is refused", async () => {
    const { page } = await open(`#/entry/${demo.at.release1}`, (p) =>
      p.route(`**/v1/entries/${demo.at.release1}`, async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        body.entry = encodeBase64(new TextEncoder().encode(new TextDecoder().decode(parseBase64(body.entry)).replace("1.0.0", "6.6.6")));
        await route.fulfill({ response: res, json: body });
      }),
    );
    await page.waitForSelector("[data-verify=fail]");
    expect(await page.textContent("[data-verify=fail]")).toContain("leaf hash");
    await page.close();
  });

  it("a checkpoint with a bad signature, or a log key other than the pinned one, fails verification", async () => {
    const bad = await open("", (p) =>
      p.route("**/checkpoint", async (route) => {
        const res = await route.fetch();
        const note = await res.text();
        await route.fulfill({ response: res, body: note.replace(/\n(\d+)\n/, (_m, n) => `\n${BigInt(n) + 1n}\n`) });
      }),
    );
    expect(await bad.page.getAttribute("section [data-verify]", "data-verify")).toBe("fail");
    expect(await bad.page.textContent("section [data-verify]")).toMatch(/invalid signature/);
    await bad.page.close();

    const otherKey = formatVerifierKey(ledger.origin, SIG_TYPE_ED25519, ed25519PublicKey(new Uint8Array(32).fill(9)));
    const pinned = await open(`#/entry/0`, (p) => p.addInitScript((k) => localStorage.setItem("ledger.pinnedLogKey", k), otherKey));
    await pinned.page.waitForSelector("[data-verify=fail]");
    expect(await pinned.page.textContent("[data-verify=fail]")).toMatch(/no_verified_signature|not signed by the log key/);
    await pinned.page.close();
  });

  it("pinning the log key: later pages say the check used the pinned key", async () => {
    const { page } = await open("");
    await page.click("#pin");
    await page.waitForSelector(".badge.ok >> text=pinned");
    await page.goto(`${base}/#/entry/0`);
    await page.waitForSelector("[data-verify=ok]");
    expect(await page.textContent("[data-verify=ok]")).toContain("your pinned log key");
    await page.close();
  });

  it("namespace page: keys with history, policy, releases with approval, break-glass highlighted; labels are text, not HTML", async () => {
    const { page, errors } = await open(`#/ns/${encodeURIComponent(DEMO_NS)}`);
    expect(await page.textContent("h1")).toBe(DEMO_NS);
    expect(await page.locator("table.keys tbody tr").count()).toBe(4);
    expect(await page.locator("table.keys tr.break-glass").count()).toBe(1);
    expect(await page.locator("table.keys tr.revoked").count()).toBe(1);
    expect(await page.getAttribute("[data-break-glass]", "data-break-glass")).toBe("1");
    expect(await page.textContent("section:has(h2:text('Policy'))")).toContain("reviewers: 1 of 1 approvers");
    const releases = page.locator("table.releases tbody tr");
    expect(await releases.count()).toBe(2);
    expect(await releases.filter({ hasText: "1.0.0" }).textContent()).toContain(`approved at #${demo.at.outcome1}`);
    expect(await releases.filter({ hasText: "1.1.0" }).textContent()).toContain("not approved");
    expect(await page.locator("table.entries tr.break-glass").count()).toBe(1);
    // The hostile label is shown as text and ran nothing.
    expect(await page.textContent("table.keys")).toContain("<img src=x onerror=");
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    await page.screenshot({ path: join(SHOTS, "namespace.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("release page: verdict, the policy it is judged by, and who approved it and where each counted; screenshot", async () => {
    const { page, errors } = await open(`#/release/${encodeURIComponent(DEMO_NS)}/${encodeURIComponent(DEMO_PKG)}/1.0.0`);
    await page.waitForSelector("[data-release]");
    expect(await page.getAttribute("[data-release]", "data-release")).toBe("valid");
    const approvers = page.locator("section:has(h2:text('Approved by')) li");
    expect(await approvers.count()).toBe(1);
    expect(await approvers.first().textContent()).toMatch(/Ed25519 key · counted in reviewers/);
    expect(await page.textContent("dl")).toMatch(/judged by policy#\d+/);
    await page.screenshot({ path: join(SHOTS, "release.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("search finds entries, namespaces, packages, releases, keys and leaf hashes; says so when nothing matches", async () => {
    const entry = await (await fetch(`${base}/v1/entries/${demo.at.release2}`)).json();
    const cases: Array<[string, RegExp]> = [
      [String(demo.at.policy), new RegExp(`#/entry/${demo.at.policy}$`)],
      [DEMO_NS, /#\/ns\/npm%3A%40acme$/],
      [`${DEMO_NS} ${DEMO_PKG}`, /#\/ns\/npm%3A%40acme\/%40acme%2Fwidget$/],
      [`${DEMO_NS} ${DEMO_PKG}@1.1.0`, /#\/release\/npm%3A%40acme\/%40acme%2Fwidget\/1\.1\.0$/],
      [demoKeys.approve.keyId, new RegExp(`#/key/${demoKeys.approve.keyId}$`)],
      [entry.leafHash, new RegExp(`#/entry/${demo.at.release2}$`)],
      [encodeHex(parseBase64(entry.leafHash)), new RegExp(`#/entry/${demo.at.release2}$`)],
    ];
    const { page } = await open("");
    for (const [q, want] of cases) {
      await page.fill("#search input", q);
      await page.press("#search input", "Enter");
      await page.waitForURL(want);
      await page.waitForSelector("#main[aria-busy=false]");
      expect(await page.locator("[data-error]").count(), q).toBe(0);
    }
    // The release page shows the replayed verdict and verifies the release's inclusion.
    await page.goto(`${base}/#/release/${encodeURIComponent(DEMO_NS)}/${encodeURIComponent(DEMO_PKG)}/1.1.0`);
    await page.waitForSelector("[data-verify=ok]");
    expect(await page.getAttribute("[data-release]", "data-release")).toBe("not approved");
    // The key page lists the namespace that registers it.
    await page.goto(`${base}/#/key/${demoKeys.stranger.keyId}`);
    await page.waitForSelector("#main[aria-busy=false]");
    expect(await page.textContent("main")).toContain(DEMO_NS);
    expect(await page.locator("li.break-glass").count()).toBe(1);

    for (const q of ["no such thing here", "f".repeat(64), "999999"]) {
      await page.fill("#search input", q);
      await page.press("#search input", "Enter");
      await page.waitForSelector("[data-error]");
      expect(await page.getAttribute("[data-error]", "data-error"), q).toBe("not_found");
      await page.goto(`${base}/#/`);
      await page.waitForSelector("#main[aria-busy=false]");
    }
    await page.close();
  });

  it("pages carry a strict Content-Security-Policy", async () => {
    const res = await fetch(`${base}/`);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});

describe("explorer build", () => {
  it("explorer/dist is what `npm run build` makes from explorer/src", async () => {
    const { buildExplorer } = await import("../explorer/build.js");
    const out = mkdtempSync(join(tmpdir(), "ledger-explorer-build-"));
    try {
      await buildExplorer(out);
      // Every file the build makes, not a list that can miss a new page.
      const built = readdirSync(out).sort();
      expect(built).toEqual(expect.arrayContaining(["app.js", "approve.html", "approve.js", "enroll.html", "enroll.js", "index.html", "style.css", "sw.js"]));
      for (const f of built) {
        const committed = join(import.meta.dirname, "../explorer/dist", f);
        expect(existsSync(committed), `explorer/dist/${f} is missing: run npm run build and commit it`).toBe(true);
        expect(readFileSync(join(out, f)).equals(readFileSync(committed)), `explorer/dist/${f} is stale: run npm run build`).toBe(true);
      }
      // …and git must not ignore them: a clean clone serves only what is committed.
      const ignored = spawnSync("git", ["check-ignore", ...built.map((f) => `explorer/dist/${f}`)], { cwd: join(import.meta.dirname, "..") });
      expect(ignored.stdout.toString(), "explorer/dist files ignored by git").toBe("");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
