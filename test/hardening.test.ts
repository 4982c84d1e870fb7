/**
 * Findings of issue 12 that are answered over HTTP, each on every store:
 * indices beyond int8 are 400s with a code (no stack trace per request),
 * namespaces are canonical per ecosystem, and the unauthenticated lookups
 * (/v1/keys/<id>, /v1/growth) answer from an index, not a scan.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalNamespace } from "../client/namespace.js";
import * as api from "../schema/api.js";
import { getJson, postRecord, type Fetch } from "./helpers/http.js";
import { useLedger } from "./helpers/ledger.js";
import { sql } from "kysely";
import { growthQuery, keyRegistrationsQuery } from "../server/store/kysely-store.js";
import { registerKey, signRecord, signRelease, testKey } from "./helpers/records.js";
import { STORES } from "./helpers/stores.js";

describe("canonical namespaces", () => {
  it.each([
    ["npm:@acme", "npm:@acme"],
    ["npm:@ACME", "npm:@acme"],
    ["npm:Left-Pad", "npm:left-pad"],
    ["pypi:requests", "pypi:requests"],
    ["pypi:Requests", "pypi:requests"],
    ["pypi:zope.interface", "pypi:zope-interface"],
    ["pypi:Foo__Bar-.baz", "pypi:foo-bar-baz"],
    ["composer:PHPUnit", "composer:phpunit"],
    ["go:github.com/Azure/azure-sdk", "go:github.com/Azure/azure-sdk"], // case-sensitive ecosystems are taken as written
    ["constructor:X", "constructor:X"],
  ])("%s is canonically %s", (ns, canon) => {
    expect(canonicalNamespace(ns)).toBe(canon);
  });
});

describe.each(STORES)("hardening over HTTP: $kind", (fixture) => {
  const logs: string[] = [];
  const t = useLedger(fixture, { log: (l) => logs.push(l) });
  const fetch: Fetch = (p, init) => t.fetch(p, init);

  beforeAll(async () => {
    const k = testKey(700);
    expect((await postRecord(fetch, registerKey("npm:@acme", k, "publish"))).status).toBe(201);
    expect((await postRecord(fetch, signRelease("npm:@acme", k, "acme", "1.0.0"))).status).toBe(201);
  });

  it.each([
    "/v1/entries/9223372036854775808",
    "/v1/entries/18446744073709551615",
    "/v1/entries?start=9223372036854775808&limit=10",
    "/v1/namespaces/npm:@acme/entries?after=9223372036854775808",
    "/v1/proofs/inclusion?index=9223372036854775808&treeSize=1",
    "/v1/proofs/consistency?size1=1&size2=9223372036854775808",
  ])("GET %s is a 400 with a code", async (path) => {
    const before = logs.length;
    const res = await fetch(path);
    expect(res.status).toBe(400);
    expect(api.ErrorResponse.parse(await res.json()).error.code).toBe("invalid_parameter");
    expect(logs.slice(before).join("\n")).not.toMatch(/stack|at .*\.ts:/);
  });

  it.each([
    ["/v1/entries/9223372036854775807", 404],
    ["/v1/entries?start=9223372036854775807&limit=1000", 200],
    ["/v1/namespaces/npm:@acme/entries?after=9223372036854775807", 200],
  ])("GET %s at the very end of int8 answers %i", async (path, status) => {
    const res = await fetch(path);
    expect(res.status).toBe(status);
    if (status === 200) expect(JSON.stringify(await res.json())).toMatch(/"entries":\[\]/);
  });

  it("refuses a record in a non-canonical namespace with a code, and reads of one", async () => {
    const k = testKey(701);
    for (const ns of ["npm:@ACME", "pypi:Requests", "pypi:zope.interface", "composer:PHPUnit"]) {
      const res = await postRecord(fetch, registerKey(ns, k, "admin"));
      expect([ns, res.status, res.body.error?.code]).toEqual([ns, 400, "non_canonical_namespace"]);
    }
    expect((await postRecord(fetch, registerKey("pypi:zope-interface", k, "admin"))).status).toBe(201);
    const res = await fetch("/v1/namespaces/npm:@ACME");
    expect([res.status, (await res.json()).error.code]).toEqual([400, "non_canonical_namespace"]);
    expect((await fetch("/v1/releases/npm:@ACME/acme/1.0.0")).status).toBe(400);
    expect((await getJson(fetch, "/v1/namespaces/npm:@acme", api.NamespaceResponse)).releaseCount).toBe(1);
  });

  it("answers /v1/keys/<id> and /v1/growth from indexes: the plans scan neither entries nor checkpoints", async () => {
    const k = testKey(702);
    for (let i = 0; i < 3; i++) expect((await postRecord(fetch, signRelease("npm:@acme", testKey(700), "acme", `2.0.${i}`))).status).toBe(201);
    expect((await postRecord(fetch, registerKey("npm:@other", k, "admin"))).status).toBe(201);
    const keys = await getJson(fetch, `/v1/keys/${k.keyId}`, api.KeyResponse);
    expect(keys.registrations.map((r) => r.namespace)).toEqual(["npm:@other"]);
    const growth = await getJson(fetch, "/v1/growth?points=3", api.GrowthResponse);
    const sizes = growth.points.map((p) => BigInt(p.treeSize));
    expect(sizes.length).toBeGreaterThanOrEqual(1);
    expect(sizes).toEqual([...sizes].sort((a, b) => (a < b ? -1 : 1)));
    expect(sizes.at(-1)).toBe(BigInt((await getJson(fetch, "/v1/log", api.LogInfoResponse)).treeSize));
    // With sequential scans priced out, a query that can use an index shows one; one that cannot still scans.
    const db = t.ledger.store.db;
    const plans = await db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      const lines = async (q: { execute: (d: typeof trx) => Promise<{ rows: unknown[] }> }) => (await q.execute(trx)).rows.map((r) => Object.values(r as object)[0]).join("\n");
      return [await lines(sql`explain ${growthQuery(100)}`), (await keyRegistrationsQuery(trx, k.keyId).explain()).map((r) => Object.values(r)[0]).join("\n")];
    });
    for (const plan of plans) expect(plan).not.toMatch(/Seq Scan on (entries|checkpoints)/);
    expect(plans[0]).toMatch(/checkpoints_created_at/);
    expect(plans[1]).toMatch(/key_registrations_pk/);
  });

  it("takes artifacts with a sha512 (DESIGN), and refuses one that is not 128 lowercase hex", async () => {
    const k = testKey(700);
    const rel = (sha512: string) => signRecord({ type: "release.sign", namespace: "npm:@acme", statement: { package: "acme", version: `3.0.${sha512.length}`, artifacts: [{ name: "acme.tgz", sha256: "c".repeat(64), sha512 }] } } as never, k);
    expect((await postRecord(fetch, rel("ab".repeat(64)))).status).toBe(201);
    for (const bad of ["AB".repeat(64), "a".repeat(127)]) {
      const res = await postRecord(fetch, rel(bad));
      expect([res.status, res.body.error.code]).toEqual([400, "invalid_record"]);
    }
    const r = await getJson(fetch, "/v1/releases/npm:@acme/acme/3.0.128", api.ReleaseResponse);
    expect(r.artifacts).toEqual([{ name: "acme.tgz", sha256: "c".repeat(64), sha512: "ab".repeat(64) }]);
  });
});
