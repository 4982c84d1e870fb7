/**
 * The approval service's own state (DESIGN "The approval service"): requests,
 * the signed decisions on them, push subscriptions, webhook deliveries and
 * pending passkey enrolments. Mutable, unlike the log tables: every decision
 * that matters is also logged as a record. Frozen in time: typed Kysely<any>,
 * never edited once released.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("approval_requests")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("namespace", "text", (c) => c.notNull())
    .addColumn("package", "text", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("artifacts", "text", (c) => c.notNull()) // JSON, as in the release
    .addColumn("requester", "text", (c) => c.notNull())
    .addColumn("release_index", "int8", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull().check(sql`state in ('pending', 'approved', 'rejected', 'expired')`))
    .addColumn("writer", "text", (c) => c.notNull())
    .addColumn("callback_url", "text")
    .addColumn("callback_key", "text") // hex SHA-256 of the writer's token: the webhook's HMAC key
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("decided_at", "timestamptz")
    .addColumn("outcome_index", "int8")
    .execute();
  // One open request per release.
  await sql`create unique index approval_requests_one_pending on approval_requests (namespace, package, version) where state = 'pending'`.execute(db);
  await db.schema.createIndex("approval_requests_state_expires").on("approval_requests").columns(["state", "expires_at"]).execute();

  await db.schema
    .createTable("approval_decisions")
    .addColumn("request_id", "text", (c) => c.notNull().references("approval_requests.id"))
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("decision", "text", (c) => c.notNull().check(sql`decision in ('approve', 'reject')`))
    .addColumn("signature", "text", (c) => c.notNull()) // JSON {keyId, sig} or {keyId, webauthn}
    // SHA-256 of the signature's bytes: an assertion counts once, on one request, ever.
    .addColumn("assertion_digest", "text", (c) => c.notNull().unique())
    .addColumn("user_verified", "boolean")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("approval_decisions_pk", ["request_id", "key_id"])
    .execute();

  await db.schema
    .createTable("push_subscriptions")
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("endpoint", "text", (c) => c.notNull())
    .addColumn("p256dh", "text", (c) => c.notNull())
    .addColumn("auth", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("push_subscriptions_pk", ["key_id", "endpoint"])
    .execute();

  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "serial", (c) => c.primaryKey())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("status", "integer")
    .addColumn("error", "text")
    .addColumn("at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("webhook_deliveries_request").on("webhook_deliveries").column("request_id").execute();

  await db.schema
    .createTable("enrollments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("namespace", "text", (c) => c.notNull())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("challenge", "text", (c) => c.notNull()) // of the registration ceremony, base64url
    .addColumn("state", "text", (c) => c.notNull().check(sql`state in ('ceremony', 'unsigned', 'pending', 'logged')`))
    .addColumn("key_id", "text")
    .addColumn("record", "text") // JSON: the key.register record with the signatures gathered so far
    .addColumn("logged_index", "int8")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("enrollments_key_id").on("enrollments").column("key_id").execute();
}
