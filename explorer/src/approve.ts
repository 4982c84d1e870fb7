/**
 * /approve/<id>: what is asked (package, version, digests, requester, the
 * previous release and its digests, who approved so far), approve or reject
 * with a passkey (the assertion is the one the log keeps), and afterwards the
 * logged outcome with its inclusion proof verified in this page.
 */
import { parseBase64 } from "../../client/bytes.js";
import { approvalSigningMessage, rejectionSigningMessage } from "../../client/replay.js";
import type { ApprovalRequestJson } from "../../schema/approvals.js";
import type { EntryJson } from "../../schema/api.js";
import { h, short } from "./dom.js";
import { signWithPasskey } from "./passkey.js";
import { send, verifyEntryInclusion } from "./verify.js";

const main = document.getElementById("main")!;
const id = decodeURIComponent(location.pathname.replace(/^\/approve\//, ""));

function show(...nodes: Array<Node | string>): void {
  main.replaceChildren(...nodes);
  main.setAttribute("aria-busy", "false");
}

function digests(artifacts: ApprovalRequestJson["artifacts"]): HTMLElement {
  return h(
    "table",
    {},
    h("tr", {}, h("th", {}, "artifact"), h("th", {}, "sha256"), h("th", {}, "sha512")),
    ...artifacts.map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, h("code", {}, a.sha256)), h("td", {}, h("code", {}, a.sha512 ?? "—")))),
  );
}

function who(r: ApprovalRequestJson, keyId: string): string {
  const m = r.members.find((x) => x.keyId === keyId);
  return m?.label ? `${m.label} (${short(keyId)})` : short(keyId, 16);
}

async function decide(r: ApprovalRequestJson, decision: "approve" | "reject", status: HTMLElement): Promise<void> {
  const request = { namespace: r.namespace, package: r.package, version: r.version, artifacts: r.artifacts, requester: r.requester };
  const message = decision === "approve" ? approvalSigningMessage(request) : rejectionSigningMessage(request);
  const passkeys = r.members.filter((m) => m.credentialId !== null && m.rpId === location.hostname);
  const rpId = passkeys[0]?.rpId ?? location.hostname;
  status.className = "verify pending";
  status.textContent = "Waiting for your passkey…";
  try {
    const s = await signWithPasskey(message, rpId, passkeys.map((m) => m.credentialId!));
    const member = passkeys.find((m) => m.credentialId === s.credentialId);
    if (!member) throw new Error("this passkey is not one of the approvers of this release");
    await send("POST", `/v1/approval-requests/${encodeURIComponent(r.id)}/decisions`, { decision, signature: { keyId: member.keyId, webauthn: s.webauthn } });
    await render();
  } catch (e) {
    const code = (e as { code?: string }).code;
    status.className = "verify fail";
    status.dataset.state = "error";
    status.textContent = `✗ ${(e as Error).message}${code ? ` [${code}]` : ""}`;
  }
}

async function outcome(r: ApprovalRequestJson): Promise<Node> {
  if (r.outcomeIndex === null) return h("p", { class: "muted" }, r.state === "expired" ? "The request expired: nothing was logged." : "");
  const e = await send<EntryJson>("GET", `/v1/entries/${r.outcomeIndex}`);
  return h("section", { "data-outcome": r.outcomeIndex }, h("h2", {}, `Logged outcome: entry ${r.outcomeIndex}`), await verifyEntryInclusion(BigInt(e.index), parseBase64(e.entry)));
}

async function render(): Promise<void> {
  const r = await send<ApprovalRequestJson>("GET", `/v1/approval-requests/${encodeURIComponent(id)}`);
  const status = h("div", { id: "status" });
  const pending = r.state === "pending";
  show(
    h("h1", {}, `${r.package}@${r.version}`, h("span", { class: `badge ${r.state === "approved" ? "ok" : r.state === "pending" ? "" : "danger"}`, "data-state": r.state }, r.state)),
    h(
      "section",
      {},
      h("h2", {}, "What is asked"),
      h("dl", {}, ...[
        ["Namespace", r.namespace],
        ["Requested by", who(r, r.requester)],
        ["Logged at", `entry ${r.releaseIndex}`],
        ["Open until", r.expiresAt.replace("T", " ").replace(/\.\d+Z$/, "Z")],
      ].flatMap(([k, v]) => [h("dt", {}, k!), h("dd", {}, v!)])),
      digests(r.artifacts),
      h("h3", {}, "Previous release"),
      r.previous ? h("div", {}, h("p", {}, `${r.package}@${r.previous.version} (entry ${r.previous.index})`), digests(r.previous.artifacts)) : h("p", { class: "muted" }, "none: this is the first release of the package"),
    ),
    h(
      "section",
      {},
      h("h2", {}, "Approval groups"),
      h(
        "table",
        {},
        h("tr", {}, h("th", {}, "group"), h("th", {}, "needs"), h("th", {}, "approved by")),
        ...r.groups.map((g) =>
          h("tr", { "data-group": g.name }, h("td", {}, g.name, g.excludeRequester ? h("span", { class: "badge" }, "not the requester") : null), h("td", {}, `${g.approvedBy.length} of ${g.threshold}`), h("td", {}, g.approvedBy.map((k) => who(r, k)).join(", ") || "—")),
        ),
      ),
      r.rejectedBy.length > 0 ? h("p", { class: "verify fail" }, `Rejected by ${r.rejectedBy.map((k) => who(r, k)).join(", ")}`) : null,
    ),
    pending
      ? h(
          "section",
          {},
          h("button", { id: "approve", class: "primary", onclick: () => void decide(r, "approve", status) }, "Approve with passkey"),
          " ",
          h("button", { id: "reject", onclick: () => void decide(r, "reject", status) }, "Reject"),
          status,
        )
      : await outcome(r),
  );
}

render().catch((e) => show(h("div", { class: "verify fail" }, `✗ ${(e as Error).message}`)));
