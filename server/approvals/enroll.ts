/**
 * Passkey enrolment (DESIGN "The approval service", `/enroll`): the
 * registration ceremony through @simplewebauthn/server (options, challenge
 * bookkeeping, attestation "none"); the new passkey then signs its own
 * key.register (proof of possession, the bytes the log keeps); the
 * namespace's admins co-sign it (`ledger register-key --pending <id>`, or an
 * admin passkey on the page); at the admin threshold the service logs it.
 */
import { createPublicKey, randomBytes } from "node:crypto";
import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { encodeBase64 } from "../../client/bytes.js";
import { RuleError } from "../../client/errors.js";
import { recordHash, recordSigningMessage } from "../../client/entry.js";
import { registeredKey, verifySignatures } from "../../client/replay.js";
import { webauthnChallenge, encodeBase64Url } from "../../client/webauthn.js";
import type { LedgerRecord, RecordSignature } from "../../schema/records.js";
import type { EnrollmentJson } from "../../schema/approvals.js";
import { ApiError } from "../errors.js";
import { requireCanonicalNamespace } from "../routes/params.js";
import type { Sequencer } from "../log/sequencer.js";
import type { NamespaceCache } from "../state/namespaces.js";
import type { StoreReader } from "../store/store.js";
import type { ApprovalStore, StoredEnrollment } from "../store/approval-store.js";

export interface EnrollmentOptions {
  reader: StoreReader;
  approvals: ApprovalStore;
  namespaces: NamespaceCache;
  sequencer: Sequencer;
  rpId: string;
  /** Origins the ceremony may run on (the public URL's). */
  origins: string[];
  now?: () => Date;
  /** How long an enrolment waits for its admins (default 7 days). */
  ttlMs?: number;
}

export class Enrollments {
  readonly #o: EnrollmentOptions;
  readonly #now: () => Date;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(o: EnrollmentOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
  }

  /** Starts a ceremony: the options `navigator.credentials.create` takes, and the enrolment's ID. */
  async begin(namespace: string, label: string) {
    requireCanonicalNamespace(namespace);
    const ns = await this.#o.namespaces.get(namespace, this.#o.reader);
    if (![...ns.keys.values()].some((k) => k.revokedAt === null && k.role === "admin")) {
      throw new ApiError("enrollment_state", `${namespace} has no admin key to co-sign a new key: its first keys are registered by its registry`);
    }
    const { generateRegistrationOptions } = await webauthnServer();
    const options = await generateRegistrationOptions({
      rpName: "Ledger",
      rpID: this.#o.rpId,
      userName: label,
      userDisplayName: `${label} (${namespace})`,
      attestationType: "none",
      authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
      supportedAlgorithmIDs: [-7, -8],
    });
    const now = this.#now();
    const e: StoredEnrollment = {
      id: randomBytes(16).toString("hex"),
      namespace,
      label,
      challenge: options.challenge,
      state: "ceremony",
      keyId: null,
      record: null,
      loggedIndex: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + (this.#o.ttlMs ?? 7 * 24 * 3600 * 1000)),
    };
    await this.#o.approvals.insertEnrollment(e);
    return { id: e.id, options };
  }

  async get(id: string): Promise<EnrollmentJson> {
    return this.#view(await this.#load(id));
  }

  /** The browser's registration response: verified, it becomes an unsigned key.register of the passkey. */
  async credential(id: string, response: RegistrationResponseJSON): Promise<EnrollmentJson> {
    return this.#serial(async () => {
      const e = await this.#live(id);
      if (e.state !== "ceremony") throw new ApiError("enrollment_state", `enrolment ${id} has its credential already`);
      let info;
      const { verifyRegistrationResponse } = await webauthnServer();
      try {
        const v = await verifyRegistrationResponse({ response, expectedChallenge: e.challenge, expectedOrigin: this.#o.origins, expectedRPID: this.#o.rpId, requireUserVerification: true, supportedAlgorithmIDs: [-7, -8] });
        if (!v.verified) throw new Error("not verified");
        info = v.registrationInfo;
      } catch (err) {
        throw new ApiError("registration_failed", `the passkey registration does not verify: ${(err as Error).message}`);
      }
      const { spki, alg } = await coseToSpki(info.credential.publicKey);
      const record = {
        type: "key.register",
        namespace: e.namespace,
        statement: { publicKey: encodeBase64(spki), role: "approve", label: e.label, webauthn: { credentialId: info.credential.id, rpId: this.#o.rpId, alg } },
        signatures: [] as RecordSignature[],
      };
      const { keyId } = registeredKey(record.statement as never);
      const ns = await this.#o.namespaces.get(e.namespace, this.#o.reader);
      if (ns.keys.has(keyId)) throw new ApiError("key_exists", `key ${keyId} is already registered in ${e.namespace}`);
      if (!(await this.#o.approvals.advanceEnrollment(id, "ceremony", { state: "unsigned", keyId, record, loggedIndex: null }))) throw new ApiError("enrollment_state", `enrolment ${id} moved on meanwhile`);
      return this.get(id);
    });
  }

  /**
   * A signature on the pending key.register: first the new passkey's own
   * (proof of possession), then the admins'. Each is verified here with the
   * key it names; at the admin threshold the record is logged.
   */
  async sign(id: string, signature: RecordSignature): Promise<EnrollmentJson> {
    return this.#serial(async () => {
      const e = await this.#live(id);
      if (e.state !== "unsigned" && e.state !== "pending") throw new ApiError("enrollment_state", `enrolment ${id} is ${e.state === "logged" ? "logged already" : "waiting for its passkey's registration"}`);
      const record = e.record as unknown as LedgerRecord;
      if (record.signatures.some((s) => s.keyId === signature.keyId)) throw new ApiError("duplicate_approver", `key ${signature.keyId} has signed this registration already`);
      const ns = await this.#o.namespaces.get(e.namespace, this.#o.reader);
      if (e.state === "unsigned" && signature.keyId !== e.keyId) throw new ApiError("no_proof_of_possession", "the new passkey signs its registration first");
      if (e.state === "pending" && !ns.currentKey(signature.keyId, "admin")) throw new ApiError("not_authorized", `key ${signature.keyId} is not a current admin key of ${e.namespace}`);
      const signed = { ...record, signatures: [...record.signatures, signature] } as LedgerRecord;
      try {
        // Every signature again, with the keys the record names (the passkey's own, the namespace's admins).
        verifySignatures(ns, { ...signed, signatures: [signature] } as LedgerRecord, this.#o.namespaces.verifying);
      } catch (err) {
        if (err instanceof RuleError) throw new ApiError(err.code, err.message, { cause: err });
        throw err;
      }
      const admins = signed.signatures.filter((s) => ns.currentKey(s.keyId, "admin")).length;
      if (e.state === "pending" && admins >= ns.adminThreshold) {
        try {
          this.#o.namespaces.wouldApply(ns, signed);
        } catch (err) {
          if (err instanceof RuleError) throw new ApiError(err.code, err.message, { cause: err });
          throw err;
        }
        const r = await this.#o.sequencer.submit({ record: signed, recordHash: recordHash(signed) });
        await this.#o.approvals.advanceEnrollment(id, "pending", { state: "logged", keyId: e.keyId, record: signed as never, loggedIndex: r.index });
      } else {
        await this.#o.approvals.advanceEnrollment(id, e.state, { state: "pending", keyId: e.keyId, record: signed as never, loggedIndex: null });
      }
      return this.get(id);
    });
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(f, f);
    this.#chain = next.catch(() => {});
    return next;
  }

  async #load(id: string): Promise<StoredEnrollment> {
    const e = await this.#o.approvals.getEnrollment(id);
    if (!e) throw new ApiError("not_found", `no enrolment ${id}`);
    return e;
  }

  async #live(id: string): Promise<StoredEnrollment> {
    const e = await this.#load(id);
    if (e.state !== "logged" && e.expiresAt.getTime() <= this.#now().getTime()) throw new ApiError("enrollment_state", `enrolment ${id} expired at ${e.expiresAt.toISOString()}`);
    return e;
  }

  async #view(e: StoredEnrollment): Promise<EnrollmentJson> {
    const ns = await this.#o.namespaces.get(e.namespace, this.#o.reader);
    const message = e.record ? recordSigningMessage(e.record as never) : null;
    return {
      id: e.id,
      namespace: e.namespace,
      label: e.label,
      state: e.state,
      keyId: e.keyId,
      record: e.record,
      message: message && encodeBase64(message),
      challenge: message && webauthnChallenge(message),
      adminThreshold: ns.adminThreshold,
      loggedIndex: e.loggedIndex?.toString() ?? null,
      expiresAt: e.expiresAt.toISOString(),
    };
  }
}

/**
 * @simplewebauthn/server, loaded on the first enrolment: it takes about 450 ms
 * to import, which every `ledger serve` start (and each test's) would pay.
 */
function webauthnServer() {
  return import("@simplewebauthn/server");
}

/** A credential's COSE public key as the SubjectPublicKeyInfo DER the log keeps (ES256 or EdDSA only). */
export async function coseToSpki(coseKey: Uint8Array): Promise<{ spki: Uint8Array; alg: -7 | -8 }> {
  const { cose, decodeCredentialPublicKey } = await import("@simplewebauthn/server/helpers");
  // COSE_Key labels (RFC 9052/9053): 3 alg, -1 crv, -2 x, -3 y.
  const k = decodeCredentialPublicKey(new Uint8Array(coseKey)) as unknown as Map<number, unknown>;
  const alg = k.get(cose.COSEKEYS.alg);
  const x = k.get(cose.COSEKEYS.x) as Uint8Array | undefined;
  if (alg === -7) {
    const y = k.get(cose.COSEKEYS.y) as Uint8Array | undefined;
    if (k.get(cose.COSEKEYS.crv) !== 1 || !x || !y) throw new ApiError("registration_failed", "an ES256 credential must be a P-256 key");
    const der = createPublicKey({ key: { kty: "EC", crv: "P-256", x: encodeBase64Url(x), y: encodeBase64Url(y) }, format: "jwk" }).export({ type: "spki", format: "der" });
    return { spki: new Uint8Array(der), alg: -7 };
  }
  if (alg === -8) {
    if (k.get(cose.COSEKEYS.crv) !== 6 || !x) throw new ApiError("registration_failed", "an EdDSA credential must be an Ed25519 key");
    const der = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: encodeBase64Url(x) }, format: "jwk" }).export({ type: "spki", format: "der" });
    return { spki: new Uint8Array(der), alg: -8 };
  }
  throw new ApiError("registration_failed", `credential algorithm ${String(alg)} is not ES256 (-7) or EdDSA (-8)`);
}
