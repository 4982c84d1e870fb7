/**
 * The web explorer: a small single-page app over the ledger's public read API.
 * Proofs are verified here, in the browser, by the same client library that
 * package managers embed: the page never takes the server's word for inclusion.
 */
import { policyCosigners, policyMet } from "../../client/policy.js";
import { encodeBase64, encodeHex, parseBase64, parseHex } from "../../client/bytes.js";
import type { SignedCheckpoint } from "../../client/checkpoint.js";
import { keyIdOf, parseEntry, type Entry } from "../../client/entry.js";
import { LedgerError } from "../../client/errors.js";
import { NAMESPACE_RE } from "../../client/record-shape.js";
import { isBreakGlass } from "../../client/replay.js";
import { hex8 } from "../../client/note.js";
import type { LedgerRecord } from "../../schema/records.js";
// The wire shapes are schema/api.ts's, as types only: the bundle carries no zod.
import type { EntriesJson, EntryJson, GrowthJson, InclusionProofJson, KeyJson, NamespaceEntriesJson, NamespaceJson, ReleaseJson } from "../../schema/api.js";
import { h, link, short, svg } from "./dom.js";
import { api, ApiFailure, enc, PIN_KEY, trust, verifiedCheckpoint, verifyEntryInclusion, type Trust } from "./verify.js";


// ---- rendering helpers --------------------------------------------------------

function summary(r: LedgerRecord): Array<Node | string> {
  switch (r.type) {
    case "key.register": {
      const id = keyIdOf(parseBase64(r.statement.publicKey));
      return [`register ${r.statement.role} key `, link(`/key/${id}`, short(id)), r.statement.label ? ` “${r.statement.label}”` : ""];
    }
    case "key.revoke":
      return ["revoke key ", link(`/key/${r.statement.keyId}`, short(r.statement.keyId)), `: ${r.statement.reason}`];
    case "policy.set":
      return [`policy: ${r.statement.adminThreshold} admin signature(s); ` + (r.statement.groups.map((g) => `${g.name} ${g.threshold}-of-${g.members.length}`).join(", ") || "no approval groups")];
    case "release.sign":
      return [releaseLink(r.namespace, r.statement.package, r.statement.version), ` (${r.statement.artifacts.length} artifact${r.statement.artifacts.length === 1 ? "" : "s"})`];
    case "release.revoke":
      return ["revoke ", releaseLink(r.namespace, r.statement.package, r.statement.version), `: ${r.statement.reason}`];
    case "approval.outcome":
      return [`${r.statement.decision} `, releaseLink(r.namespace, r.statement.package, r.statement.version), ` by ${r.statement.approvals.length} approver(s)`];
  }
}

function releaseLink(ns: string, pkg: string, version: string): HTMLElement {
  return link(`/release/${enc(ns)}/${enc(pkg)}/${enc(version)}`, `${pkg}@${version}`);
}

function entryRow(e: EntryJson): HTMLElement {
  let parsed: Entry | undefined;
  try {
    parsed = parseEntry(parseBase64(e.entry));
  } catch {
    return h("tr", { class: "bad" }, h("td", {}, link(`/entry/${e.index}`, e.index)), h("td", { colspan: 4 }, "(not a valid entry)"));
  }
  const r = parsed.record;
  return h(
    "tr",
    { class: isBreakGlass(r) ? "break-glass" : undefined, "data-index": e.index },
    h("td", {}, link(`/entry/${e.index}`, e.index)),
    h("td", { class: "time" }, parsed.time.replace("T", " ").replace(/\.\d+Z$/, "Z")),
    h("td", {}, h("code", {}, r.type), isBreakGlass(r) ? h("span", { class: "badge danger" }, "break-glass") : null),
    h("td", {}, link(`/ns/${enc(r.namespace)}`, r.namespace)),
    h("td", {}, ...summary(r)),
  );
}

function entriesTable(entries: EntryJson[]): HTMLElement {
  return h(
    "table",
    { class: "entries" },
    h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "time"), h("th", {}, "type"), h("th", {}, "namespace"), h("th", {}, "what"))),
    h("tbody", {}, entries.map(entryRow)),
  );
}

function section(title: string, ...children: Array<Node | string | null>): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}

function dl(pairs: Array<[string, Node | string]>): HTMLElement {
  return h("dl", {}, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function growthChart(points: Array<{ time: string; treeSize: string }>): Element {
  if (points.length < 2) return h("p", { class: "muted" }, "Not enough checkpoints yet to draw the tree's growth.");
  const W = 640, H = 160, P = 36;
  const t0 = Date.parse(points[0]!.time), t1 = Date.parse(points[points.length - 1]!.time);
  const max = Number(points[points.length - 1]!.treeSize) || 1;
  const x = (t: number) => P + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * P);
  const y = (n: number) => H - P / 2 - (n / max) * (H - P);
  const d = points.map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.time)).toFixed(1)},${y(Number(p.treeSize)).toFixed(1)}`).join(" ");
  return svg(
    "svg",
    { class: "growth", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `tree size from ${points[0]!.treeSize} to ${max}` },
    svg("line", { x1: P, y1: H - P / 2, x2: W - P, y2: H - P / 2, class: "axis" }),
    svg("line", { x1: P, y1: P / 2, x2: P, y2: H - P / 2, class: "axis" }),
    svg("path", { d, class: "line" }),
    svg("text", { x: P - 4, y: P / 2 + 4, class: "label end" }, String(max)),
    svg("text", { x: P - 4, y: H - P / 2, class: "label end" }, "0"),
    svg("text", { x: P, y: H - 2, class: "label" }, new Date(t0).toISOString().slice(0, 19).replace("T", " ")),
    svg("text", { x: W - P, y: H - 2, class: "label end" }, new Date(t1).toISOString().slice(0, 19).replace("T", " ")),
  );
}

// ---- pages ----------------------------------------------------------------------

async function homePage(): Promise<Node[]> {
  const t = await trust();
  let cp: SignedCheckpoint | undefined;
  let cpError: string | undefined;
  try {
    cp = await verifiedCheckpoint(t);
  } catch (e) {
    cpError = `${(e as Error).message}${e instanceof LedgerError ? ` [${e.code}]` : ""}`;
  }
  const size = BigInt(t.info.treeSize);
  const start = size > 20n ? size - 20n : 0n;
  const [recent, growth] = await Promise.all([
    size > 0n ? api<EntriesJson>(`/v1/entries?start=${start}&limit=20`) : Promise.resolve({ entries: [] }),
    api<GrowthJson>("/v1/growth?points=60"),
  ]);
  const pinned = localStorage.getItem(PIN_KEY);
  const keyLine = h(
    "span",
    {},
    h("code", {}, t.info.verifierKey),
    pinned === null
      ? h("button", { type: "button", id: "pin", onclick: () => (localStorage.setItem(PIN_KEY, t.info.verifierKey), render()) }, "Pin this log key")
      : pinned === t.info.verifierKey
        ? h("span", { class: "badge ok" }, "pinned")
        : h("span", { class: "badge danger" }, `differs from your pinned key ${pinned}`),
  );
  const sigs = cp
    ? h(
        "ul",
        { class: "sigs" },
        cp.note.sigs.map((s) => {
          const w = t.policy?.witnesses.find((x) => x.verifier.name === s.name && x.verifier.keyId === s.keyId);
          return h("li", { "data-sig": "verified" }, h("span", { class: "badge ok" }, "✓ verified"), ` ${s.name} `, h("code", {}, hex8(s.keyId)), s.name === t.info.origin ? " (log)" : w ? ` (cosignature; policy witness ${w.name})` : " (cosignature)");
        }),
        cp.note.unverifiedSigs.map((s) => h("li", { "data-sig": "unknown" }, h("span", { class: "badge" }, "unknown key"), ` ${s.name} `, h("code", {}, hex8(s.keyId)))),
      )
    : null;
  return [
    section(
      "Latest checkpoint",
      cp
        ? h("div", { class: "verify ok", "data-verify": "ok" }, "✓ Checkpoint signature verified in this browser.")
        : h("div", { class: "verify fail", "data-verify": "fail" }, `✗ The checkpoint does not verify: ${cpError}`),
      dl([
        ["origin", t.info.origin],
        ["tree size", h("span", { id: "tree-size" }, (cp?.treeSize ?? size).toString())],
        ["root hash", h("code", {}, cp ? encodeBase64(cp.rootHash) : t.info.rootHash)],
        ["log key", keyLine],
        ["witnesses", witnessLine(t, cp)],
      ]),
      sigs ? h("div", {}, h("h3", {}, "Signatures"), sigs) : null,
    ),
    section("Tree growth", growthChart(growth.points)),
    section("Recent entries", recent.entries.length ? entriesTable([...recent.entries].reverse()) : h("p", { class: "muted" }, "The log is empty.")),
  ];
}

async function entryPage(indexText: string): Promise<Node[]> {
  if (!/^(0|[1-9]\d*)$/.test(indexText)) throw new ApiFailure(400, "invalid_parameter", "an entry index is a decimal number");
  const e = await api<EntryJson>(`/v1/entries/${indexText}`);
  const bytes = parseBase64(e.entry);
  let body: Node;
  let record: LedgerRecord | undefined;
  try {
    const parsed = parseEntry(bytes);
    record = parsed.record;
    body = h("pre", { class: "json" }, JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2));
  } catch (err) {
    body = h("p", { class: "verify fail" }, `The entry bytes do not parse: ${(err as Error).message}`);
  }
  return [
    section(
      `Entry ${e.index}`,
      await verifyEntryInclusion(BigInt(e.index), bytes),
      record && isBreakGlass(record) ? h("p", { class: "verify warn" }, "This is a break-glass record, signed by the ecosystem's core keys rather than the namespace's admins.") : null,
      dl([
        ["leaf hash", h("code", { id: "leaf-hash" }, e.leafHash)],
        ["leaf hash (hex)", h("code", {}, encodeHex(parseBase64(e.leafHash)))],
        ...(record ? ([["namespace", link(`/ns/${enc(record.namespace)}`, record.namespace)], ["what", h("span", {}, ...summary(record))]] as Array<[string, Node]>) : []),
      ]),
      body,
    ),
  ];
}

async function namespacePage(ns: string, pkg?: string): Promise<Node[]> {
  const [state, page] = await Promise.all([
    api<NamespaceJson>(`/v1/namespaces/${enc(ns)}`),
    api<NamespaceEntriesJson>(`/v1/namespaces/${enc(ns)}/entries?limit=1000`),
  ]);
  const entries = page.entries.filter((e) => {
    if (!pkg) return true;
    try {
      const s = parseEntry(parseBase64(e.entry)).record.statement as { package?: string };
      return s.package === pkg;
    } catch {
      return false;
    }
  });
  const keys = h(
    "table",
    { class: "keys" },
    h("thead", {}, h("tr", {}, h("th", {}, "key ID"), h("th", {}, "role"), h("th", {}, "label"), h("th", {}, "registered"), h("th", {}, "revoked"))),
    h(
      "tbody",
      {},
      state.keys.map((k) =>
        h(
          "tr",
          { class: k.breakGlass ? "break-glass" : k.revokedAt ? "revoked" : undefined },
          h("td", {}, link(`/key/${k.keyId}`, h("code", {}, short(k.keyId, 16))), k.breakGlass ? h("span", { class: "badge danger" }, "break-glass") : null),
          h("td", {}, k.role),
          h("td", {}, k.label ?? ""),
          h("td", {}, link(`/entry/${k.registeredAt}`, `#${k.registeredAt}`)),
          h("td", {}, k.revokedAt ? link(`/entry/${k.revokedAt}`, `#${k.revokedAt}`) : "—"),
        ),
      ),
    ),
  );
  const policy = state.policy
    ? h(
        "div",
        {},
        h("p", {}, `Set at `, link(`/entry/${state.policy.index}`, `#${state.policy.index}`), `: ${state.policy.adminThreshold} admin signature(s) for key and policy changes.`),
        h(
          "ul",
          {},
          state.policy.groups.map((g) => h("li", {}, `${g.name}: ${g.threshold} of ${g.members.length} approvers${g.excludeRequester ? ", not the requester" : ""}`)),
        ),
        state.policy.groups.length === 0 ? h("p", { class: "muted" }, "No approval groups: a signed release is approved.") : null,
      )
    : h("p", { class: "muted" }, "No policy set: one admin signature, no approval groups.");
  const releases = state.recentReleases.filter((r) => !pkg || r.package === pkg);
  const releaseTable = h(
    "table",
    { class: "releases" },
    h("thead", {}, h("tr", {}, h("th", {}, "release"), h("th", {}, "logged"), h("th", {}, "approval"), h("th", {}, "state"))),
    h(
      "tbody",
      {},
      releases.map((r) =>
        h(
          "tr",
          { class: r.revoked ? "revoked" : undefined },
          h("td", {}, releaseLink(state.namespace, r.package, r.version)),
          h("td", {}, link(`/entry/${r.index}`, `#${r.index}`)),
          h("td", {}, r.approved ? (r.approvalIndex ? h("span", {}, "approved at ", link(`/entry/${r.approvalIndex}`, `#${r.approvalIndex}`)) : "no approval needed") : h("span", { class: "badge danger" }, "not approved")),
          h("td", {}, r.revoked ? h("span", { class: "badge danger" }, "revoked") : "valid"),
        ),
      ),
    ),
  );
  return [
    h("h1", {}, state.namespace, pkg ? ` — ${pkg}` : ""),
    state.breakGlass.length
      ? h("p", { class: "verify warn", "data-break-glass": String(state.breakGlass.length) }, `${state.breakGlass.length} break-glass record(s) applied here: `, ...state.breakGlass.flatMap((i) => [link(`/entry/${i}`, `#${i}`), " "]))
      : h("p", { class: "muted" }, "No break-glass records in this namespace."),
    section("Keys", keys),
    section("Policy", policy),
    section(`Releases (${state.releaseCount}${state.releaseCount > state.recentReleases.length ? `, newest ${state.recentReleases.length} shown` : ""})`, releases.length ? releaseTable : h("p", { class: "muted" }, "No releases.")),
    section(`History${pkg ? ` of ${pkg}` : ""}`, entriesTable(entries), page.next ? h("p", { class: "muted" }, `The first ${page.entries.length} records are shown.`) : null),
  ];
}

async function releasePage(ns: string, pkg: string, version: string): Promise<Node[]> {
  const r = await api<ReleaseJson>(
    `/v1/releases/${enc(ns)}/${pkg.split("/").map(enc).join("/")}/${enc(version)}`,
  );
  const e = await api<EntryJson>(`/v1/entries/${r.index}`);
  const verdict = r.revoked ? "revoked" : r.rejected ? "rejected" : !r.approved ? "not approved" : "valid";
  return [
    h("h1", {}, `${pkg}@${version}`),
    h("p", {}, "in ", link(`/ns/${enc(ns)}`, ns), " · ", link(`/ns/${enc(ns)}/${enc(pkg)}`, `all of ${pkg}`)),
    h("p", { class: verdict === "valid" ? "verify ok" : "verify fail", "data-release": verdict }, `Release ${verdict} by the log's replay of the namespace's records.`),
    await verifyEntryInclusion(BigInt(e.index), parseBase64(e.entry)),
    dl([
      ["logged at", link(`/entry/${r.index}`, `#${r.index}`)],
      ["signed by", h("span", {}, ...r.signedBy.flatMap((k) => [link(`/key/${k}`, h("code", {}, short(k, 16))), " "]))],
      ["approval", r.approvalIndex ? link(`/entry/${r.approvalIndex}`, `#${r.approvalIndex}`) : r.approved ? "no approval groups" : r.rejected ? "rejected" : "none logged"],
      ["judged by policy", r.policyIndex ? link(`/entry/${r.policyIndex}`, `#${r.policyIndex}`) : "none in force when logged"],
    ]),
    r.approvers.length
      ? section(
          r.rejected ? "Rejected by" : "Approved by",
          h("ul", {}, r.approvers.map((a) => h("li", {}, link(`/key/${a.keyId}`, h("code", {}, short(a.keyId, 16))), ` ${a.passkey ? `passkey, UV ${a.userVerified ? "yes" : "no"}` : "Ed25519 key"}`, a.groups.length ? ` · counted in ${a.groups.join(", ")}` : ""))),
        )
      : h("span", {}),
    section("Artifacts", h("ul", {}, r.artifacts.map((a) => h("li", {}, h("code", {}, a.sha256), ` ${a.name}`)))),
  ];
}

async function keyPage(keyId: string): Promise<Node[]> {
  const k = await api<KeyJson>(`/v1/keys/${enc(keyId)}`);
  return [
    h("h1", {}, "Key ", h("code", {}, short(keyId, 24))),
    h("p", {}, h("code", {}, keyId)),
    section(
      "Registrations",
      h(
        "ul",
        {},
        k.registrations.map((r) =>
          h(
            "li",
            { class: r.breakGlass ? "break-glass" : undefined },
            link(`/ns/${enc(r.namespace)}`, r.namespace),
            ` ${r.role}${r.label ? ` “${r.label}”` : ""}, registered at `,
            link(`/entry/${r.registeredAt}`, `#${r.registeredAt}`),
            r.revokedAt ? h("span", {}, ", revoked at ", link(`/entry/${r.revokedAt}`, `#${r.revokedAt}`)) : ", active",
            r.breakGlass ? h("span", { class: "badge danger" }, "break-glass") : null,
          ),
        ),
      ),
    ),
  ];
}

/** Finds what the query names; returns the route to show, or throws a not_found. */
async function resolveSearch(q: string): Promise<string> {
  q = q.trim();
  if (/^(0|[1-9]\d*)$/.test(q)) return `/entry/${q}`;
  const leafIndex = async (b64: string) => (await api<InclusionProofJson>(`/v1/proofs/inclusion?leafHash=${enc(b64)}`)).index;
  if (/^[0-9a-fA-F]{64}$/.test(q)) {
    const hex = q.toLowerCase();
    try {
      await api(`/v1/keys/${hex}`);
      return `/key/${hex}`;
    } catch (e) {
      if (!(e instanceof ApiFailure && e.status === 404)) throw e;
    }
    return `/entry/${await leafIndex(encodeBase64(parseHex(hex)))}`;
  }
  if (/^[A-Za-z0-9+/]{43}=$/.test(q)) return `/entry/${await leafIndex(q)}`;
  const [ns, rest, ...more] = q.split(/\s+/);
  if (ns && NAMESPACE_RE.test(ns) && more.length === 0) {
    if (!rest) return `/ns/${enc(ns)}`;
    const at = rest.lastIndexOf("@");
    if (at > 0) return `/release/${enc(ns)}/${enc(rest.slice(0, at))}/${enc(rest.slice(at + 1))}`;
    return `/ns/${enc(ns)}/${enc(rest)}`;
  }
  throw new ApiFailure(404, "not_found", `nothing matches ${JSON.stringify(q)}: try an entry index, a namespace (npm:@scope), "namespace package[@version]", a key ID or a leaf hash`);
}

// ---- the router -----------------------------------------------------------------------

async function route(path: string): Promise<Node[]> {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
      return homePage();
    case "entry":
      return entryPage(parts[1] ?? "");
    case "ns":
      return namespacePage(parts[1] ?? "", parts[2]);
    case "release":
      return releasePage(parts[1] ?? "", parts[2] ?? "", parts[3] ?? "");
    case "key":
      return keyPage(parts[1] ?? "");
    case "search": {
      location.hash = "#" + (await resolveSearch(parts.slice(1).join("/")));
      return [];
    }
    default:
      throw new ApiFailure(404, "not_found", `no page ${path}`);
  }
}

let generation = 0;

async function render(): Promise<void> {
  const main = document.getElementById("main")!;
  const mine = ++generation;
  main.setAttribute("aria-busy", "true");
  let nodes: Node[];
  try {
    nodes = await route(location.hash.replace(/^#/, ""));
  } catch (e) {
    const code = e instanceof ApiFailure || e instanceof LedgerError ? e.code : "error";
    nodes = [h("div", { class: "verify fail", "data-error": code }, `${(e as Error).message} [${code}]`)];
  }
  if (mine !== generation) return; // a later navigation won
  main.replaceChildren(...nodes);
  main.setAttribute("aria-busy", "false");
}

function start(): void {
  const form = document.getElementById("search") as HTMLFormElement;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = (form.elements.namedItem("q") as HTMLInputElement).value.trim();
    if (q) location.hash = `#/search/${enc(q)}`;
  });
  window.addEventListener("hashchange", () => void render());
  void render();
}

start();

/** The log's witness quorum, and for a policy whether this checkpoint's verified cosignatures meet it. */
function witnessLine(t: Trust, cp: SignedCheckpoint | undefined): Node | string {
  const w = t.info.witnesses;
  if (!w) return "none configured";
  if (t.policy === null) return h("span", { class: "badge danger", "data-policy": "unreadable" }, "the log's witness policy does not parse");
  if (!t.policy) return `quorum ${w.quorum} of ${w.vkeys.length}`;
  const name = t.policy.quorum?.name ?? "none";
  if (!cp) return `policy quorum ${name} (${t.policy.witnesses.length} witnesses)`;
  const ok = policyMet(t.policy, cp.note.sigs.map((s) => `${s.name}+${s.keyId}`));
  return h("span", {}, h("span", { class: ok ? "badge ok" : "badge danger", "data-policy": ok ? "met" : "not-met" }, ok ? "✓ met" : "✗ not met"), ` policy quorum ${name}: cosigned by ${policyCosigners(cp, t.policy).join(", ") || "none of its witnesses"}`);
}
