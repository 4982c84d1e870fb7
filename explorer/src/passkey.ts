/**
 * Passkeys and push in the approval pages: WebAuthn ceremonies through
 * navigator.credentials (no third-party script), the assertion encoded as the
 * log keeps it (standard base64 of the raw bytes), and a push subscription
 * bound to the passkey by its signature over "ledger-push/v1\n" ‖ JCS({keyId, endpoint}).
 */
import { encodeBase64 } from "../../client/bytes.js";
import { pushSigningMessage } from "../../client/replay.js";
import { encodeBase64Url } from "../../client/webauthn.js";
import { sha256 } from "../../client/hash.js";
import { send } from "./verify.js";

export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

const bytes = (b: ArrayBuffer) => new Uint8Array(b);

export interface PasskeySignature {
  /** base64url of the credential that signed (to find its key). */
  credentialId: string;
  webauthn: { authenticatorData: string; clientDataJSON: string; signature: string };
  userVerified: boolean;
}

/** Signs message M with one of these passkeys: challenge = SHA-256(M), user verification required. */
export async function signWithPasskey(message: Uint8Array, rpId: string, credentialIds: string[]): Promise<PasskeySignature> {
  const cred = (await navigator.credentials.get({
    publicKey: {
      challenge: sha256(message) as Uint8Array<ArrayBuffer>,
      rpId,
      allowCredentials: credentialIds.map((id) => ({ type: "public-key" as const, id: fromBase64Url(id) })),
      userVerification: "required",
      timeout: 120_000,
    },
  })) as PublicKeyCredential | null;
  if (!cred) throw new Error("no passkey answered");
  const r = cred.response as AuthenticatorAssertionResponse;
  const authData = bytes(r.authenticatorData);
  return {
    credentialId: encodeBase64Url(bytes(cred.rawId)),
    webauthn: { authenticatorData: encodeBase64(authData), clientDataJSON: encodeBase64(bytes(r.clientDataJSON)), signature: encodeBase64(bytes(r.signature)) },
    userVerified: (authData[32]! & 0x04) !== 0,
  };
}

/**
 * Subscribes this device to approval requests for a passkey: the service
 * worker, the browser's push subscription with the ledger's VAPID key, and
 * the passkey's signature binding the two.
 */
export async function subscribeDevice(keyId: string, rpId: string, credentialId: string): Promise<string> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("this browser has no Web Push");
  if ((await Notification.requestPermission()) !== "granted") throw new Error("notifications are not allowed on this device");
  const reg = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  const { publicKey } = await send<{ publicKey: string }>("GET", "/v1/push/vapid-public-key");
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(publicKey) });
  const json = sub.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
  const s = await signWithPasskey(pushSigningMessage(keyId, json.endpoint), rpId, [credentialId]);
  await send("POST", "/v1/push/subscriptions", { subscription: { endpoint: json.endpoint, keys: json.keys }, signature: { keyId, webauthn: s.webauthn } });
  return json.endpoint;
}
