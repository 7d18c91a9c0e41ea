import { ApiError, api, isMissing } from './api.ts';
import { base64UrlToBytes } from './base64url.ts';

/** What this browser can do about notifications: the device status the server keeps per session. */
export type Permission = 'granted' | 'denied' | 'default' | 'unsupported';

export const pushSupported = (): boolean =>
  'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

export const isIos = (): boolean =>
  /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.userAgent.includes('Macintosh') && navigator.maxTouchPoints > 1);

export const isStandalone = (): boolean =>
  matchMedia('(display-mode: standalone)').matches || (navigator as Navigator & { standalone?: boolean }).standalone === true;

export const platform = (): string => (isIos() ? 'ios' : /Android/i.test(navigator.userAgent) ? 'android' : 'desktop');

export const permission = (): Permission => ('Notification' in window ? Notification.permission : 'unsupported');

/** Tells the server what this device can do; the rektor's "cannot receive alarms" list is built from it. */
export async function reportDeviceStatus(): Promise<void> {
  await api('PUT', '/me/device/status', { pushPermission: permission(), standalone: isStandalone(), platform: platform() })
    .catch(() => undefined);
}

export async function registerServiceWorker(): Promise<ServiceWorkerRegistration | null> {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    return null;
  }
}

export type PushOutcome = 'enabled' | 'denied' | 'unsupported' | 'server_missing' | 'failed';

/** Asks for permission (only ever from a button press), subscribes and registers the subscription. */
export async function enablePush(): Promise<PushOutcome> {
  if (!pushSupported()) {
    await reportDeviceStatus();
    return 'unsupported';
  }
  const answer = await Notification.requestPermission();
  await reportDeviceStatus();
  if (answer !== 'granted') return answer === 'denied' ? 'denied' : 'failed';
  return subscribe();
}

/**
 * Subscribes (again) with the server's VAPID key. Keeps an existing subscription, unless `renew`: a test push
 * failed on it, so it is replaced with a new one.
 */
export async function subscribe(options: { renew?: boolean } = {}): Promise<PushOutcome> {
  let key: string;
  try {
    key = (await api<{ vapidPublicKey: string }>('GET', '/push/config', undefined, { auth: false })).vapidPublicKey;
  } catch (err) {
    return isMissing(err) ? 'server_missing' : 'failed';
  }
  try {
    const registration = (await registerServiceWorker()) ?? (await navigator.serviceWorker.ready);
    const fresh = () => registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) });
    const existing = await registration.pushManager.getSubscription();
    if (existing && options.renew) await existing.unsubscribe();
    const subscription = (options.renew ? null : existing) ?? (await fresh());
    try {
      await api('PUT', '/me/device/push-subscription', subscription.toJSON());
    } catch (err) {
      // 409: this browser's subscription still belongs to someone else's live session (they did not
      // sign out here). The server will not hand it over; a new subscription gets a new endpoint.
      if (!(err instanceof ApiError && err.status === 409 && err.code === 'conflict')) throw err;
      await subscription.unsubscribe();
      await api('PUT', '/me/device/push-subscription', (await fresh()).toJSON());
    }
    return 'enabled';
  } catch (err) {
    return isMissing(err) ? 'server_missing' : 'failed';
  }
}

/** Removes this device's subscription on sign-out, so the next person on a shared device gets nothing of ours. */
export async function unsubscribe(): Promise<void> {
  await api('DELETE', '/me/device/push-subscription').catch(() => undefined);
  const registration = await navigator.serviceWorker?.getRegistration('/').catch(() => undefined);
  const subscription = await registration?.pushManager.getSubscription().catch(() => null);
  await subscription?.unsubscribe().catch(() => undefined);
}
