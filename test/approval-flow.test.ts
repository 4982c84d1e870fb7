/**
 * The open letter's flow, end to end, in Debian's Chromium (playwright-core)
 * with CDP virtual authenticators, against `ledger serve` as a real process:
 * three approvers enrol on /enroll in three browser contexts (a passkey each,
 * this device subscribed to push), an admin co-signs each from the CLI, the
 * registry opens a request with `ledger request-approval`; each device's
 * push arrives at a push service on loopback that checks its VAPID JWT and
 * decrypts it (RFC 8291) with that subscription's keys; the decrypted message
 * is delivered to the page's real service worker, which shows the
 * notification; the approver opens its URL and approves with user
 * verification. The request turns approved only after the third group, the
 * outcome is logged, `ledger verify-release` accepts it. A second release is
 * rejected by one member; a third expires.
 *
 * Chromium cannot reach a real push service from here, so the page's
 * PushManager.subscribe is replaced (init script) by one that returns a
 * subscription to the test's push service with keys the test holds;
 * everything after it is real. Without /usr/bin/chromium the suite is
 * skipped, unless LEDGER_REQUIRE_BROWSER=1 (set by .ci/run).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveChromium, launchChromium, OK_BG, shareOf } from "./helpers/browser.js";
import { encodeBase64 } from "../client/bytes.js";
import { ed25519Sign } from "../client/ed25519.js";
import { keyIdOf, recordSigningMessage } from "../client/entry.js";
import { ApprovalRequestResponse } from "../schema/approvals.js";
import { loadKey } from "../server/cli-records.js";
import { BIN, freePort, runLedger, startServer, type Running } from "./helpers/process.js";
import { TestPushService, type TestSubscription } from "./helpers/push-service.js";
import { SoftPasskey } from "./helpers/soft-passkey.js";


const SHOTS = join(import.meta.dirname, "../test-results/approvals");
const TOKEN = "flow-writer-token-0123456789abcdef";
const NS = "npm:@swc";
const PKG = "@swc/core";


interface Device {
  name: string;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  sub: TestSubscription;
  keyId: string;
  errors: string[];
  authenticatorId: string;
  /** The service worker's registration ID, as CDP names it (found once: CDP reports registrations when enabled). */
  sw?: Promise<string>;
}

describe.skipIf(!haveChromium)("the approval flow in Chromium: enrol, push, approve with passkeys", () => {
  let dir: string;
  let server: Running;
  let base: string;
  let browser: Browser;
  let logKey: string;
  const push = new TestPushService();
  const devices: Record<string, Device> = {};
  const f = (n: string) => join(dir, n);
  const cli = async (...args: string[]) => {
    const r = await runLedger(args, { LEDGER_TOKEN: TOKEN });
    return { code: r.code, out: r.stdout, err: r.stderr };
  };
  const W = (...a: string[]) => [...a, "--server", base, "--token", TOKEN, "--namespace", NS];
  const sha = (v: string) => createHash("sha256").update(`swc ${v}`).digest("hex");
  const artifact = (v: string) => `swc-core-${v}.tgz=${sha(v)}`;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "ledger-flow-"));
    await push.start();
    for (const name of ["admin", "publish"]) expect((await cli("keygen", "--name", `flow-${name}`, "--out", f(`${name}.key`), "--json")).code).toBe(0);
    const port = await freePort();
    base = `http://localhost:${port}`;
    server = await startServer({
      PORT: String(port),
      LEDGER_DATA_DIR: f("data"),
      DATABASE_URL: "",
      LEDGER_WRITER_TOKENS: `registry:${TOKEN}:npm:*`,
      LEDGER_PUBLIC_URL: base,
      LEDGER_APPROVAL_TTL: "10m",
      BATCH_MAX_AGE_MS: "2",
      LEDGER_LOG_LEVEL: "warn",
      // The push service's self-signed certificate: web-push sends only over HTTPS.
      NODE_EXTRA_CA_CERTS: push.caFile,
    });
    logKey = ((await (await fetch(`${base}/v1/log`)).json()) as { verifierKey: string }).verifierKey;
    expect((await cli(...W("register-key", "--key", f("admin.key"), "--role", "admin"))).code).toBe(0);
    const pub = await cli(...W("register-key", "--key", f("publish.key"), "--role", "publish", "--signer", f("admin.key")));
    expect(pub.code, pub.err).toBe(0);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await push.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function device(name: string): Promise<Device> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    await context.grantPermissions(["notifications"], { origin: base });
    const sub = push.subscribe();
    // The one replaced piece: PushManager.subscribe answers with a subscription to the test's push service.
    await context.addInitScript((s: TestSubscription) => {
      const b64 = (t: string) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4)), (c) => c.charCodeAt(0)).buffer;
      PushManager.prototype.subscribe = async function () {
        return { endpoint: s.endpoint, expirationTime: null, options: {}, getKey: (k: "p256dh" | "auth") => b64(s.keys[k]), toJSON: () => ({ endpoint: s.endpoint, expirationTime: null, keys: s.keys }), unsubscribe: async () => true } as unknown as PushSubscription;
      };
    }, sub);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return { name, context, page, cdp, sub, keyId: "", errors, authenticatorId };
  }

  it("three approvers enrol with passkeys; an admin co-signs two from the CLI, one with an admin passkey on the page", async () => {
    // An admin whose passkey lives in a browser: made here, registered in the log, put into that browser's authenticator.
    const adminPasskey = new SoftPasskey({ origin: base });
    const reg = { type: "key.register", namespace: NS, statement: adminPasskey.registerStatement("admin on a phone", "admin") };
    const adminKey = loadKey(f("admin.key"));
    const msg = recordSigningMessage(reg as never);
    const registered = await fetch(`${base}/v1/records`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ ...reg, signatures: [adminPasskey.signature(msg), { keyId: keyIdOf(adminKey.publicKey), sig: encodeBase64(ed25519Sign(adminKey.seed, msg)) }] }),
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const adminDevice = await device("admin");
    await adminDevice.cdp.send("WebAuthn.addCredential", {
      authenticatorId: adminDevice.authenticatorId,
      credential: { credentialId: Buffer.from(adminPasskey.credentialId).toString("base64"), isResidentCredential: false, rpId: "localhost", privateKey: adminPasskey.pkcs8, signCount: 0 },
    });
    for (const name of ["owner", "coreA", "colleague"]) {
      const d = (devices[name] = await device(name));
      await d.page.goto(`${base}/enroll?namespace=${encodeURIComponent(NS)}&label=${name}`);
      await d.page.click("form#enroll button");
      await d.page.waitForSelector('[data-enrollment="pending"]', { timeout: 20_000 });
      expect(await d.page.getAttribute("[data-push]", "data-push")).toBe("ok");
      d.keyId = (await d.page.getAttribute("[data-key-id]", "data-key-id"))!;
      expect(d.keyId).toMatch(/^[0-9a-f]{64}$/);
      const command = (await d.page.textContent("pre.json"))!;
      const id = /--pending (\S+)/.exec(command)![1]!;
      if (name === "owner") {
        await d.page.screenshot({ path: join(SHOTS, "enroll.png"), fullPage: true });
        if (process.env.LEDGER_UPDATE_SCREENSHOTS === "1") copyFileSync(join(SHOTS, "enroll.png"), join(import.meta.dirname, "../docs/enroll.png"));
      }
      if (name === "colleague") {
        // The admin's own device: the enrolment's page, and the admin passkey signs.
        await adminDevice.page.goto(`${base}/enroll?id=${id}`);
        await adminDevice.page.click("#cosign");
        await adminDevice.page.waitForSelector('[data-enrollment="logged"]', { timeout: 10_000 });
        expect(adminDevice.errors).toEqual([]);
      } else {
        const r = await cli("register-key", "--pending", id, "--signer", f("admin.key"), "--server", base);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/registered at index \d+/);
      }
      await d.page.waitForSelector('[data-enrollment="logged"]', { timeout: 10_000 });
      expect(d.errors).toEqual([]);
    }
    const ns = (await (await fetch(`${base}/v1/namespaces/${encodeURIComponent(NS)}`)).json()) as { keys: Array<{ keyId: string; role: string }> };
    for (const d of Object.values(devices)) expect(ns.keys.find((k) => k.keyId === d.keyId)?.role).toBe("approve");
    const o = devices.owner!.keyId;
    writeFileSync(
      f("policy.json"),
      JSON.stringify({
        adminThreshold: 1,
        groups: [
          { name: "owner", members: [o], threshold: 1, excludeRequester: false },
          { name: "core", members: [devices.coreA!.keyId, o], threshold: 1, excludeRequester: true },
          { name: "colleague", members: [devices.colleague!.keyId], threshold: 1, excludeRequester: true },
        ],
      }),
    );
    const p = await cli(...W("set-policy", "--policy", f("policy.json"), "--signer", f("admin.key")));
    expect(p.code, p.err).toBe(0);
  });

  /** The push each device got for this request, delivered to its service worker; returns the URL the notification opens. */
  async function notified(d: Device, requestId: string): Promise<string> {
    await push.waitFor((r) => r.some((x) => x.endpoint === d.sub.endpoint && (x.payload as { id: string }).id === requestId));
    const got = push.received.find((x) => x.endpoint === d.sub.endpoint && (x.payload as { id: string }).id === requestId)!;
    // Into the real service worker: it shows the notification carrying the approve URL.
    const regs = await d.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope));
    expect(regs).toContain(`${base}/`);
    d.sw ??= new Promise<string>((resolve) => {
      d.cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: Array<{ registrationId: string; scopeURL: string }> }) => {
        const r = e.registrations.find((x) => x.scopeURL === `${base}/`);
        if (r) resolve(r.registrationId);
      });
      void d.cdp.send("ServiceWorker.enable");
    });
    const sw = await d.sw;
    const shownNotification = () =>
      d.page.evaluate(async (id) => {
        const reg = await navigator.serviceWorker.ready;
        const n = (await reg.getNotifications({ tag: id }))[0];
        return n ? { title: n.title, url: (n.data as { url: string }).url } : null;
      }, requestId);
    // Headless Chromium now and then drops a message delivered while the worker starts: deliver again, at most thrice.
    for (let attempt = 1; ; attempt++) {
      await d.cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: sw, data: JSON.stringify(got.payload) });
      try {
        await expect.poll(shownNotification, { timeout: 4_000 }).not.toBeNull();
        break;
      } catch (e) {
        if (attempt === 3) throw e;
      }
    }
    const n = (await shownNotification())!;
    expect(n.title).toMatch(/^Approve @swc\/core@/);
    return n.url;
  }

  it("a release is approved only after the third group; the outcome is logged and verify-release accepts it", async () => {
    const s = await cli(...W("sign-release", "--package", PKG, "--version", "1.0.0", "--key", f("publish.key"), "--requester", devices.owner!.keyId, "--artifact", artifact("1.0.0")));
    expect(s.code, s.err).toBe(0);
    // The registry opens the request and waits (exit 0 once approved).
    const registry = spawn(process.execPath, [BIN, ...W("request-approval", "--package", PKG, "--version", "1.0.0", "--artifact", artifact("1.0.0"), "--timeout", "120")], { stdio: ["ignore", "pipe", "pipe"] });
    let regErr = "";
    registry.stderr.on("data", (c) => (regErr += c));
    const exited = new Promise<number | null>((r) => registry.on("exit", r));
    await expect.poll(() => /approve\/([A-Za-z0-9_-]+)/.exec(regErr)?.[1], { timeout: 15_000 }).toBeDefined();
    const id = /approve\/([A-Za-z0-9_-]+)/.exec(regErr)![1]!;
    const order = ["owner", "coreA", "colleague"];
    for (const [i, name] of order.entries()) {
      const d = devices[name]!;
      const url = await notified(d, id);
      expect(url).toBe(`${base}/approve/${id}`);
      await d.page.goto(url);
      await d.page.waitForSelector("#approve");
      expect(await d.page.textContent("main")).toContain(sha("1.0.0"));
      await d.page.click("#approve");
      if (i < order.length - 1) {
        await d.page.waitForSelector(`[data-group] >> nth=0`);
        await expect.poll(async () => ApprovalRequestResponse.parse(await (await fetch(`${base}/v1/approval-requests/${id}`)).json()).groups.filter((g) => g.approvedBy.length >= g.threshold).length).toBe(i + 1);
        expect(ApprovalRequestResponse.parse(await (await fetch(`${base}/v1/approval-requests/${id}`)).json()).state).toBe("pending");
      } else {
        await d.page.waitForSelector('[data-state="approved"]', { timeout: 15_000 });
        await d.page.waitForSelector('[data-verify="ok"]', { timeout: 15_000 });
        const shot = await d.page.screenshot({ path: join(SHOTS, "approve.png"), fullPage: true });
        expect(PNG.sync.read(shot).width).toBe(1100);
        expect(shareOf(await d.page.locator("[data-verify]").screenshot(), OK_BG)).toBeGreaterThan(0.5);
        if (process.env.LEDGER_UPDATE_SCREENSHOTS === "1") copyFileSync(join(SHOTS, "approve.png"), join(import.meta.dirname, "../docs/approve.png"));
      }
      expect(d.errors).toEqual([]);
    }
    expect(await exited, regErr).toBe(0);
    const final = ApprovalRequestResponse.parse(await (await fetch(`${base}/v1/approval-requests/${id}`)).json());
    expect(final.state).toBe("approved");
    // Every approval is a passkey assertion made in a page, logged raw: the package manager's check.
    writeFileSync(f("swc-core-1.0.0.tgz"), "");
    const v = await cli("verify-release", "--server", base, "--log-key", logKey, "--namespace", NS, "--package", PKG, "--version", "1.0.0", "--artifact", artifact("1.0.0"), "--json");
    expect(v.code, v.out + v.err).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ ok: true });
    // The closing push reached every device.
    await push.waitFor((r) => order.every((n) => r.some((x) => x.endpoint === devices[n]!.sub.endpoint && (x.payload as { type: string; id: string }).type === "approval-decided" && (x.payload as { id: string }).id === id)));
    expect(push.errors).toEqual([]);
  });

  it("a release rejected by one member is logged rejected and never approved", async () => {
    expect((await cli(...W("sign-release", "--package", PKG, "--version", "2.0.0", "--key", f("publish.key"), "--requester", devices.owner!.keyId, "--artifact", artifact("2.0.0")))).code).toBe(0);
    const opened = await cli(...W("request-approval", "--package", PKG, "--version", "2.0.0", "--artifact", artifact("2.0.0"), "--no-wait", "--json"));
    expect(opened.code, opened.err).toBe(0);
    const id = /approve\/([A-Za-z0-9_-]+)/.exec(opened.out)![1]!;
    const d = devices.colleague!;
    await d.page.goto(await notified(d, id));
    await d.page.click("#reject");
    await d.page.waitForSelector('[data-state="rejected"]', { timeout: 15_000 });
    await d.page.waitForSelector('[data-verify="ok"]', { timeout: 15_000 }); // the logged rejection, verified in the page
    const owner = devices.owner!;
    await owner.page.goto(`${base}/approve/${id}`);
    await owner.page.waitForSelector('[data-state="rejected"]');
    expect(await owner.page.$("#approve")).toBeNull();
    const rel = (await (await fetch(`${base}/v1/releases/${encodeURIComponent(NS)}/${encodeURIComponent(PKG)}/2.0.0`)).json()) as { approved: boolean };
    expect(rel.approved).toBe(false);
    const v = await cli("verify-release", "--server", base, "--log-key", logKey, "--namespace", NS, "--package", PKG, "--version", "2.0.0", "--artifact", artifact("2.0.0"));
    expect(v.code).toBe(1);
    expect(v.out + v.err).toMatch(/rejected/);
  });

  it("a request that expires is never approved, and its page says so", async () => {
    expect((await cli(...W("sign-release", "--package", PKG, "--version", "3.0.0", "--key", f("publish.key"), "--requester", devices.owner!.keyId, "--artifact", artifact("3.0.0")))).code).toBe(0);
    const r = await cli(...W("request-approval", "--package", PKG, "--version", "3.0.0", "--artifact", artifact("3.0.0"), "--expires-in", "2"));
    expect(r.code).toBe(1); // waited until it expired
    expect(r.out).toMatch(/expired/);
    const id = /approve\/([A-Za-z0-9_-]+)/.exec(r.err)![1]!;
    const d = devices.coreA!;
    await d.page.goto(`${base}/approve/${id}`);
    await d.page.waitForSelector('[data-state="expired"]');
    expect(await d.page.$("#approve")).toBeNull();
    const rel = (await (await fetch(`${base}/v1/releases/${encodeURIComponent(NS)}/${encodeURIComponent(PKG)}/3.0.0`)).json()) as { approved: boolean };
    expect(rel.approved).toBe(false);
  });
});
