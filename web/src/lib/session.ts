import { writeDevice } from './device-store.ts';

const TOKEN_KEY = 'samlarm.token';
const DEVICE_KEY = 'samlarm.deviceId';

function newDeviceId(): string {
  return `web-${crypto.randomUUID().replaceAll('-', '')}`;
}

/** The installation's own id (docs/realtime.md: 8–64 of [A-Za-z0-9_-]), kept for the life of the installation. */
export function deviceId(): string {
  const existing = localStorage.getItem(DEVICE_KEY);
  if (existing && /^[A-Za-z0-9_-]{8,64}$/.test(existing)) return existing;
  const id = newDeviceId();
  localStorage.setItem(DEVICE_KEY, id);
  return id;
}

export const storedToken = (): string | null => localStorage.getItem(TOKEN_KEY);

export async function saveToken(token: string | null): Promise<void> {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  // The service worker posts delivery receipts with it; failing here must not block sign-in.
  await writeDevice({ token, deviceId: deviceId() }).catch(() => undefined);
}
