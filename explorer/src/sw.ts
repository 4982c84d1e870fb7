/**
 * The approval service's service worker: shows a notification for each push
 * (RFC 8291-decrypted by the browser) and opens the approve page on click.
 */
/// <reference lib="webworker" />
export {};
declare const self: ServiceWorkerGlobalScope;

interface PushPayload {
  type: "approval-request" | "approval-decided";
  id: string;
  namespace: string;
  package: string;
  version: string;
  url: string;
  state?: string;
}

self.addEventListener("push", (event) => {
  let p: PushPayload;
  try {
    p = event.data!.json() as PushPayload;
  } catch {
    return;
  }
  // Only this ledger's own pages are opened from a notification.
  const url = new URL(p.url, self.location.origin);
  const target = url.origin === self.location.origin ? url.href : `${self.location.origin}/approve/${encodeURIComponent(p.id)}`;
  const title = p.type === "approval-request" ? `Approve ${p.package}@${p.version}?` : `${p.package}@${p.version}: ${p.state}`;
  event.waitUntil(
    self.registration.showNotification(title, {
      body: p.type === "approval-request" ? `${p.namespace}: a release waits for your approval` : `${p.namespace}: the request is ${p.state}`,
      tag: p.id,
      data: { url: target },
      requireInteraction: p.type === "approval-request",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data as { url?: string } | null)?.url;
  if (url) event.waitUntil(self.clients.openWindow(url));
});
