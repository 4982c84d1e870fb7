/**
 * Makes test/vectors/webauthn/swc.json: real passkeys and assertions from
 * Debian's Chromium (driven by playwright-core, no browser download) with a
 * CDP virtual authenticator (ctap2, internal transport, resident keys, user
 * verification), on a page served at http://localhost:<port> (rpId
 * "localhost"). The messages are the @swc scenario's
 * (test/helpers/passkey-scenario.ts); the passkeys are created first, since
 * the messages name their key IDs.
 *
 *   npx tsx test/vectors/webauthn/generate.ts [--out test/vectors/webauthn/swc.json]
 */
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "../../helpers/browser.js";
import { encodeBase64 } from "../../../client/bytes.js";
import { webauthnChallenge } from "../../../client/webauthn.js";
import { PASSKEYS, RP_ID, scenarioMessages, type AssertionVector, type PasskeyName, type PasskeyVector, type ScenarioVectors } from "../../helpers/passkey-scenario.js";

const out = process.argv.includes("--out") ? process.argv[process.argv.indexOf("--out") + 1]! : join(import.meta.dirname, "swc.json");

/** The page: the two ceremonies, as plain browser JavaScript (standard base64 in and out). */
const PAGE = `<!doctype html><title>passkeys</title><script>
const b64 = (b) => btoa(String.fromCharCode(...new Uint8Array(b)));
const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
window.createPasskey = async (name, alg, challenge) => {
  const cred = await navigator.credentials.create({ publicKey: {
    challenge: bytes(challenge),
    rp: { id: "localhost", name: "Ledger test" },
    user: { id: new TextEncoder().encode(name), name, displayName: name },
    pubKeyCredParams: [{ type: "public-key", alg }],
    authenticatorSelection: { residentKey: "discouraged", userVerification: "required" },
    attestation: "none" } });
  const r = cred.response;
  return { id: cred.id, rawId: b64(cred.rawId), type: cred.type, clientDataJSON: b64(r.clientDataJSON), attestationObject: b64(r.attestationObject),
           transports: r.getTransports(), publicKey: b64(r.getPublicKey()), alg: r.getPublicKeyAlgorithm() };
};
window.assert = async (rawId, challenge, userVerification) => {
  const a = await navigator.credentials.get({ publicKey: { challenge: bytes(challenge), rpId: "localhost",
    allowCredentials: [{ type: "public-key", id: bytes(rawId) }], userVerification } });
  const r = a.response;
  return { authenticatorData: b64(r.authenticatorData), clientDataJSON: b64(r.clientDataJSON), signature: b64(r.signature) };
};
</script>`;

const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(PAGE));
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;
const origin = `http://localhost:${port}`;

const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(origin);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  const passkeys = {} as Record<PasskeyName, PasskeyVector>;
  for (const [name, alg] of Object.entries(PASSKEYS) as Array<[PasskeyName, number]>) {
    const challenge = encodeBase64(new TextEncoder().encode(`register ${name}`));
    await page.mouse.click(1, 1); // a user gesture before each ceremony, as a person's click would give
    const c = await page.evaluate(([n, a, ch]) => (window as unknown as { createPasskey: (...a: unknown[]) => Promise<any> }).createPasskey(n, a, ch), [name, alg, challenge] as const);
    passkeys[name] = {
      credentialId: c.id,
      publicKey: c.publicKey,
      alg: c.alg,
      registration: { id: c.id, rawId: c.rawId, type: c.type, response: { clientDataJSON: c.clientDataJSON, attestationObject: c.attestationObject, transports: c.transports }, challenge },
    };
    console.error(`created ${name} (COSE ${c.alg})`);
    if (c.alg !== alg) throw new Error(`${name}: asked for COSE ${alg}, the authenticator made ${c.alg}`);
  }

  const assertions: Record<string, AssertionVector> = {};
  for (const [label, m] of Object.entries(scenarioMessages(passkeys))) {
    const uv = m.userVerification === "required";
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: uv });
    const challenge = encodeBase64(Buffer.from(webauthnChallenge(m.message), "base64url"));
    await page.mouse.click(1, 1);
    const assertion = await page.evaluate(([id, ch, u]) => (window as unknown as { assert: (...a: unknown[]) => Promise<any> }).assert(id, ch, u), [passkeys[m.key].registration.rawId, challenge, m.userVerification] as const);
    assertions[label] = { key: m.key, message: encodeBase64(m.message), userVerified: uv, assertion };
  }
  const vectors: ScenarioVectors = { origin, rpId: RP_ID, passkeys, assertions };
  writeFileSync(out, JSON.stringify(vectors, null, 2) + "\n");
  console.log(`wrote ${Object.keys(passkeys).length} passkeys and ${Object.keys(assertions).length} assertions to ${out}`);
} finally {
  await browser.close();
  server.close();
}
