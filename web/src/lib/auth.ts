import { api, setUnauthenticatedHandler } from './api.ts';
import { reportDeviceStatus, subscribe, unsubscribe, permission } from './push.ts';
import { forgetPresses } from './raise.ts';
import { realtime } from './realtime/client.ts';
import { navigate } from './router.ts';
import { saveToken, storedToken } from './session.ts';
import { setState } from './store.ts';
import type { Me } from './types.ts';

const SETUP_KEY = 'samlarm.setupDone';
export const setupDone = (): boolean => localStorage.getItem(SETUP_KEY) === '1';
export const markSetupDone = (): void => localStorage.setItem(SETUP_KEY, '1');

/** Loads the person and connects the device: after sign-in and on every start with a stored token. */
export async function startSession(): Promise<Me> {
  const me = await api<Me>('GET', '/me');
  setState({ me, lang: me.person.language });
  const token = storedToken();
  if (token) realtime.start(token, me.person.id, () => void signedOut(true));
  void reportDeviceStatus();
  // A subscription the browser replaced while the app was closed is registered again.
  if (permission() === 'granted') void subscribe();
  return me;
}

export async function signIn(email: string, password: string): Promise<void> {
  const res = await api<{ token: string }>('POST', '/auth/login', { email, password, kind: 'device', label: `Samlarm web app (${navigator.platform || 'browser'})` }, { auth: false });
  await saveToken(res.token);
  await startSession();
  setState({ notice: null });
  navigate(setupDone() ? '/' : '/setup', { replace: true });
}

/**
 * Local sign-out: the session ended (revoked, expired: `elsewhere`, and the sign-in page says that
 * alarms no longer reach this device) or the person signed out.
 */
export async function signedOut(elsewhere: boolean): Promise<void> {
  forgetPresses();
  realtime.stop();
  realtime.reset();
  await saveToken(null);
  setState({ me: null, notice: elsewhere ? 'signedOutElsewhere' : null });
  navigate('/login', { replace: true });
}

export async function signOut(): Promise<void> {
  await unsubscribe();
  await api('POST', '/auth/logout').catch(() => undefined);
  await signedOut(false);
}

setUnauthenticatedHandler(() => void signedOut(true));
