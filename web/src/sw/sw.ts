/// <reference lib="webworker" />
import { cleanupOutdatedCaches, matchPrecache, precache, type PrecacheEntry } from 'workbox-precaching';
import { base64UrlToBytes } from '../lib/base64url.ts';
import { readDevice } from '../lib/device-store.ts';
import { PRESS_MAX_AGE_MS, PRESS_SYNC_TAG, postPress, savePress, storedPresses, type StoredPress } from '../lib/press-store.ts';

/**
 * Samlarm's service worker: the offline shell (Workbox precaching, ADR 012), alarm notifications from Web
 * Push with the delivery receipt for each push (a push service's 201 is not a receipt; this is), and
 * presses the app could not send before it was closed (Background Sync, ADR 013).
 */
declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | PrecacheEntry)[] };

/** Background Sync (Chromium), which TypeScript's lib does not describe. */
interface SyncEvent extends ExtendableEvent { readonly tag: string }
declare global {
  interface ServiceWorkerGlobalScopeEventMap { sync: SyncEvent }
}

/** The cache of the hand-written shell before Workbox (removed on activate). */
const LEGACY_CACHE = 'samlarm-shell-v1';

/** The push payload the server sends (issue 4's contract). */
interface PushPayload {
  v: number;
  /** site_instruction (ADR 027): no incident id (nothing to confirm), silent unless the instruction is loud by type. */
  kind: 'alarm' | 'reminder' | 'instruction' | 'all_clear' | 'escalation' | 'test' | 'site_instruction';
  incidentId: string | null;
  drill: boolean;
  title: string;
  body: string;
  tag: string;
  lang: 'sv' | 'en';
  alarmType: { key: string; colour: string; icon: string; sound: string } | null;
  site: { id: string; name: string } | null;
  at: string;
}

/** Options Chromium supports beyond TypeScript's lib: replace-and-alert-again, vibration. */
type AlarmNotificationOptions = NotificationOptions & { renotify?: boolean; vibrate?: number[]; timestamp?: number };

const DRILL = { sv: 'ÖVNING', en: 'DRILL' } as const;

// Every file of the shell (the build injects the list with content hashes) is cached while the worker
// installs, so that the app opens offline after its very first visit.
precache(self.__WB_MANIFEST);
cleanupOutdatedCaches();

self.addEventListener('install', () => {
  void self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    await caches.delete(LEGACY_CACHE);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/socket.io/')) return;
  if (request.mode === 'navigate') {
    // Network first, so that a new app version is picked up at once; the precached shell when offline
    // (every path of the app is the same shell).
    event.respondWith(fetch(request).catch(async () => (await matchPrecache('/index.html')) ?? Response.error()));
    return;
  }
  // The shell's files from the precache (hashed names never change content); anything else from the network.
  event.respondWith((async () => (await matchPrecache(url.pathname)) ?? fetch(request))());
});

function parse(data: PushMessageData | null): PushPayload | null {
  if (!data) return null;
  try {
    const value = data.json() as PushPayload;
    return typeof value.title === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** Tells the server this device has the alarm (delivered) or the person opened it (acknowledged); stops escalation. */
async function postReceipt(incidentId: string | null, kind: 'delivered' | 'acknowledged'): Promise<void> {
  if (!incidentId) return;
  const device = await readDevice().catch(() => null);
  if (!device?.token) return;
  // The server records the channel (push) itself. A failure is not fatal: the socket's receipt still counts.
  await fetch(`/api/v1/incidents/${incidentId}/receipts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${device.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind, deviceId: device.deviceId }),
  }).catch(() => undefined);
}

/**
 * Whether the notification already shown under this tag must stay: it is newer (pushes can arrive out
 * of order: retries, several push services, a phone waking up), or it is the incident's all clear,
 * which nothing but another all clear replaces (an incident never reopens).
 */
async function superseded(payload: PushPayload): Promise<boolean> {
  const at = Date.parse(payload.at);
  const shown = await self.registration.getNotifications({ tag: payload.tag });
  return shown.some((n) => {
    const old = n.data as Partial<PushPayload> | null;
    if (!old) return false;
    if (old.kind === 'all_clear' && payload.kind !== 'all_clear') return true;
    return Date.parse(old.at ?? '') > at;
  });
}

/**
 * Notification work, one push at a time. Chromium reconciles its notification database with what is on
 * screen whenever getNotifications() runs; a notification being shown at that moment can be dropped from
 * the database (seen in Chromium 156, one in about 40 pairs of concurrent pushes). Pushes taken in turn
 * never overlap our own reads with our own shows.
 */
let turn: Promise<unknown> = Promise.resolve();
/** How long one push may hold the turn: a show that never settles must not hold back the next alarm. */
const TURN_MS = 5000;
function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const bounded = () => Promise.race([work(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('push handling timed out')), TURN_MS))]);
  const next = turn.then(bounded, bounded);
  turn = next.catch(() => undefined);
  return next;
}

/**
 * Shows the notification and checks it is there; a read elsewhere (an open app, another tab) can still
 * race the show, so a missing one is shown again. A second ring beats none.
 */
async function showConfirmed(title: string, options: AlarmNotificationOptions, payload: PushPayload): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await self.registration.showNotification(title, options);
    const shown = await self.registration.getNotifications({ tag: payload.tag });
    if (shown.some((n) => (n.data as Partial<PushPayload> | null)?.at === payload.at && n.title === title)) return true;
  }
  return false;
}

self.addEventListener('push', (event) => {
  const payload = parse(event.data);
  event.waitUntil((async () => {
    if (!payload) {
      // A push must always show something (userVisibleOnly); never stay silent about an unknown one.
      await self.registration.showNotification('Samlarm', { body: event.data?.text() ?? '', tag: 'samlarm-unknown' });
      return;
    }
    const drill = DRILL[payload.lang] ?? DRILL.sv;
    const title = payload.drill && !payload.title.includes(drill) ? `${drill}: ${payload.title}` : payload.title;
    const silent = payload.alarmType?.sound === 'silent';
    const options: AlarmNotificationOptions = {
      body: payload.body,
      tag: payload.tag,
      data: payload,
      lang: payload.lang,
      icon: '/icons/icon-192.png',
      requireInteraction: payload.kind !== 'test',
      renotify: true,
      silent,
      timestamp: Date.parse(payload.at) || Date.now(),
      ...(silent ? {} : { vibrate: [400, 200, 400, 200, 400] }),
    };
    // An older push still counts as delivered; it just must not hide what is newer.
    // Shown, or rightly not shown (a newer one stays): only then is this a receipt. One that could not be
    // shown is no receipt, so that reminders and escalation go on for this person.
    const handled = await inTurn(async () => (await superseded(payload)) || showConfirmed(title, options, payload)).catch(() => false);
    // An open app syncs at once (its socket may have missed the event while the phone slept).
    for (const client of await self.clients.matchAll({ type: 'window' })) client.postMessage({ type: 'push', incidentId: payload.incidentId });
    if (handled && payload.kind !== 'test') await postReceipt(payload.incidentId, 'delivered');
  })());
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const payload = event.notification.data as PushPayload | null;
  const path = payload?.incidentId ? `/alarm/${payload.incidentId}` : '/';
  event.waitUntil((async () => {
    await postReceipt(payload?.incidentId ?? null, 'acknowledged');
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
    if (open) {
      await open.focus();
      await open.navigate(path).catch(() => undefined);
      return;
    }
    await self.clients.openWindow(path);
  })());
});

/** The push service replaced the subscription: subscribe again and tell the server, or alarms stop. */
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const device = await readDevice().catch(() => null);
    if (!device?.token) return;
    const config = await fetch('/api/v1/push/config').then((r) => (r.ok ? (r.json() as Promise<{ vapidPublicKey: string }>) : null)).catch(() => null);
    if (!config) return;
    const subscription = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(config.vapidPublicKey) });
    await fetch('/api/v1/me/device/push-subscription', {
      method: 'PUT',
      headers: { authorization: `Bearer ${device.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(subscription.toJSON()),
    }).catch(() => undefined);
  })());
});

/** What a notification about a press sent in the background says, in the presser's language. */
const PRESS_TEXT = {
  sv: { sent: 'Larmet är skickat', notSent: 'Larmet är INTE skickat', sentBody: 'Servern har sparat larmet.', open: 'Öppna Samlarm. Vid en nödsituation: ring 112.' },
  en: { sent: 'The alarm has been sent', notSent: 'The alarm has NOT been sent', sentBody: 'The server has stored the alarm.', open: 'Open Samlarm. In an emergency: call 112.' },
} as const;

/** Tells the person what became of a press they made before the app was closed, unless the app is on screen to say it. */
async function notifyPress(press: StoredPress): Promise<void> {
  const windows = await self.clients.matchAll({ type: 'window' });
  if (windows.some((w) => w.visibilityState === 'visible')) return;
  const text = PRESS_TEXT[press.lang] ?? PRESS_TEXT.sv;
  const label = press.label[press.lang] || press.label.sv;
  const sent = press.state === 'sent';
  await self.registration.showNotification(`${sent ? text.sent : text.notSent}: ${label}`, {
    body: sent ? text.sentBody : text.open,
    tag: `samlarm-press-${press.pressId}`,
    lang: press.lang,
    icon: '/icons/icon-192.png',
    requireInteraction: !sent,
    data: { incidentId: sent ? press.incidentId : null },
  }).catch(() => undefined);
}

/**
 * Sends every stored press that is still to be sent, once each (the press id makes a repeat harmless).
 * Throws while any is left, so that the browser tries the sync again later.
 */
async function sendStoredPresses(): Promise<void> {
  let left = 0;
  for (const press of await storedPresses()) {
    // Old presses wait for the person (PRESS_MAX_AGE_MS); answers already got wait for the app to show them.
    if (press.state !== 'pending' || Date.now() - press.createdAt > PRESS_MAX_AGE_MS) continue;
    const answer = await postPress(press.body, press.token, 10_000);
    if (answer.kind === 'retry') {
      left += 1;
      continue;
    }
    const done: StoredPress = answer.kind === 'sent'
      ? { ...press, state: 'sent', incidentId: answer.incident.id, outcome: answer.outcome, recipients: answer.incident.recipients }
      : answer.kind === 'confirm' ? { ...press, state: 'confirm', current: answer.current } : { ...press, state: 'refused', code: answer.error.code };
    await savePress(done);
    await notifyPress(done);
  }
  if (left > 0) throw new Error(`${left} presses not sent yet`);
}

self.addEventListener('sync', (event) => {
  if (event.tag === PRESS_SYNC_TAG) event.waitUntil(sendStoredPresses());
});
