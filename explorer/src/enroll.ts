/**
 * /enroll: create a passkey for a namespace, sign its registration with it
 * (proof of possession), subscribe this device to approval requests, and wait
 * while the namespace's admins co-sign (the CLI command is shown).
 */
import { encodeBase64Url } from "../../client/webauthn.js";
import type { EnrollmentJson } from "../../schema/approvals.js";
import type { NamespaceJson } from "../../schema/api.js";
import { h } from "./dom.js";
import { fromBase64Url, signWithPasskey, subscribeDevice } from "./passkey.js";
import { send } from "./verify.js";
import { parseBase64 } from "../../client/bytes.js";

const main = document.getElementById("main")!;

function show(...nodes: Array<Node | string>): void {
  main.replaceChildren(...nodes);
  main.setAttribute("aria-busy", "false");
}

function failure(e: unknown): HTMLElement {
  const code = (e as { code?: string }).code;
  return h("div", { class: "verify fail", "data-state": "error" }, h("strong", {}, "✗ "), `${(e as Error).message}${code ? ` [${code}]` : ""}`);
}

function form(): HTMLElement {
  const params = new URLSearchParams(location.search);
  const f = h(
    "form",
    { id: "enroll" },
    h("label", {}, "Namespace ", h("input", { name: "namespace", required: true, value: params.get("namespace") ?? "", placeholder: "npm:@swc", spellcheck: "false" })),
    h("label", {}, "Your name ", h("input", { name: "label", required: true, value: params.get("label") ?? "", placeholder: "Jane Doe, laptop" })),
    h("button", { type: "submit" }, "Create passkey and enrol this device"),
  );
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(f as HTMLFormElement);
    void enrol(String(data.get("namespace")).trim(), String(data.get("label")).trim()).catch((e) => show(form(), failure(e)));
  });
  return h("section", {}, h("h2", {}, "Enrol as an approver"), h("p", { class: "muted" }, "A passkey on this device will approve releases of the namespace. Its registration is logged once the namespace's admins co-sign it."), f);
}

async function enrol(namespace: string, label: string): Promise<void> {
  show(h("p", { class: "muted" }, "Creating a passkey…"));
  const begin = await send<{ id: string; options: any }>("POST", "/v1/enrollments", { namespace, label });
  const o = begin.options;
  const cred = (await navigator.credentials.create({
    publicKey: {
      ...o,
      challenge: fromBase64Url(o.challenge),
      user: { ...o.user, id: fromBase64Url(o.user.id) },
      excludeCredentials: (o.excludeCredentials ?? []).map((c: { id: string; type: "public-key" }) => ({ ...c, id: fromBase64Url(c.id) })),
    },
  })) as PublicKeyCredential | null;
  if (!cred) throw new Error("no passkey was created");
  const r = cred.response as AuthenticatorAttestationResponse;
  const id = encodeBase64Url(new Uint8Array(cred.rawId));
  const response = {
    id,
    rawId: id,
    type: "public-key",
    response: { clientDataJSON: encodeBase64Url(new Uint8Array(r.clientDataJSON)), attestationObject: encodeBase64Url(new Uint8Array(r.attestationObject)), transports: r.getTransports?.() ?? [] },
    clientExtensionResults: cred.getClientExtensionResults(),
  };
  let e = await send<EnrollmentJson>("POST", `/v1/enrollments/${begin.id}/credential`, { response });
  show(h("p", { class: "muted" }, "Sign your registration with the new passkey…"));
  const rpId = o.rp.id as string;
  const own = await signWithPasskey(parseBase64(e.message!), rpId, [id]);
  e = await send<EnrollmentJson>("POST", `/v1/enrollments/${begin.id}/signatures`, { signature: { keyId: e.keyId, webauthn: own.webauthn } });
  let pushNote: Node;
  try {
    show(h("p", { class: "muted" }, "Subscribing this device to approval requests…"));
    await subscribeDevice(e.keyId!, rpId, id);
    pushNote = h("div", { class: "verify ok", "data-push": "ok" }, "✓ This device gets a notification when a release waits for your approval.");
  } catch (err) {
    pushNote = h("div", { class: "verify warn", "data-push": "fail" }, `Push notifications are off on this device: ${(err as Error).message}`);
  }
  await waitForAdmins(begin.id, pushNote);
}

/** An admin of the namespace co-signs with a passkey on this page (the CLI does the same with a key file). */
async function cosign(e: EnrollmentJson, status: HTMLElement): Promise<void> {
  try {
    const ns = await send<NamespaceJson>("GET", `/v1/namespaces/${encodeURIComponent(e.namespace)}`);
    const admins = ns.keys.filter((k) => k.role === "admin" && k.revokedAt === null && k.webauthn && k.webauthn.rpId === location.hostname);
    if (admins.length === 0) throw new Error(`${e.namespace} has no admin passkey for ${location.hostname}: co-sign from the CLI`);
    const s = await signWithPasskey(parseBase64(e.message!), location.hostname, admins.map((k) => k.webauthn!.credentialId));
    const admin = admins.find((k) => k.webauthn!.credentialId === s.credentialId)!;
    await send("POST", `/v1/enrollments/${encodeURIComponent(e.id)}/signatures`, { signature: { keyId: admin.keyId, webauthn: s.webauthn } });
    status.className = "verify ok";
    status.textContent = "✓ Co-signed.";
  } catch (err) {
    const code = (err as { code?: string }).code;
    status.className = "verify fail";
    status.textContent = `✗ ${(err as Error).message}${code ? ` [${code}]` : ""}`;
  }
}

function view(e: EnrollmentJson, pushNote: Node | null): Node[] {
  const logged = e.state === "logged";
  const origin = location.origin;
  const status = h("div", { id: "status" });
  return [
    h("h1", {}, `Enrolment of “${e.label}” in ${e.namespace}`),
    h(
      "section",
      { "data-enrollment": e.state },
      h("dl", {}, h("dt", {}, "Key ID"), h("dd", {}, h("code", { "data-key-id": e.keyId ?? "" }, e.keyId ?? "")), h("dt", {}, "State"), h("dd", {}, logged ? `logged at index ${e.loggedIndex}` : `waiting for ${e.adminThreshold} admin signature(s)`)),
      logged
        ? h("div", { class: "verify ok" }, h("strong", {}, "✓ Your passkey is registered in the log. "), `Entry ${e.loggedIndex}.`)
        : h(
            "div",
            {},
            h("p", {}, "An admin of the namespace co-signs it from the CLI:"),
            h("pre", { class: "json" }, `ledger register-key --pending ${e.id} --signer admin.key --server ${origin}`),
            h("p", {}, "or with an admin passkey, on ", h("a", { href: `/enroll?id=${encodeURIComponent(e.id)}` }, `${origin}/enroll?id=${e.id}`), ": ", h("button", { id: "cosign", onclick: () => void cosign(e, status) }, "Co-sign with my admin passkey")),
            status,
            h("p", { class: "muted" }, "This page updates when it is logged."),
          ),
      pushNote ?? "",
    ),
    h("section", {}, h("h2", {}, "The registration record"), h("pre", { class: "json" }, JSON.stringify(e.record, null, 2))),
  ];
}

async function waitForAdmins(id: string, pushNote: Node | null): Promise<void> {
  let shown = "";
  for (;;) {
    const e = await send<EnrollmentJson>("GET", `/v1/enrollments/${id}`);
    // Re-rendered only when it changed, so a co-signing admin's button stays put while the passkey prompt is open.
    const now = JSON.stringify(e);
    if (now !== shown) show(...view(e, pushNote));
    shown = now;
    if (e.state === "logged") return;
    await new Promise((r) => setTimeout(r, 1500));
  }
}

const pending = new URLSearchParams(location.search).get("id");
if (pending) void waitForAdmins(pending, null).catch((e) => show(failure(e)));
else show(form());
