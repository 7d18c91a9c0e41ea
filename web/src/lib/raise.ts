import { reportUnauthenticated } from './api.ts';
import { PRESS_MAX_AGE_MS, PRESS_SYNC_TAG, clearPresses, deletePress, postPress, savePress, storedPresses, type PressBody, type StoredPress } from './press-store.ts';
import { realtime } from './realtime/client.ts';
import { navigate } from './router.ts';
import { storedToken } from './session.ts';
import { getState, setState } from './store.ts';
import type { Bilingual } from './types.ts';

export interface RaiseInput { siteId: string; alarmTypeId: string; label: Bilingual; location: string | null; drill: boolean }

/** One press from the moment it is confirmed until the server has stored it (or refused it for good). */
export interface Press {
  pressId: string;
  input: RaiseInput;
  /** `stale`: found on start, older than PRESS_MAX_AGE_MS and never sent: the person decides. */
  status: 'sending' | 'retrying' | 'sent' | 'confirm' | 'refused' | 'stale';
  attempt: number;
  /** When the person pressed (or confirmed): the app's own deadline counts from here. */
  startedAt: number;
  /** Not stored within NOT_SENT_AFTER_MS: the screen says "not sent, call 112" whether or not any answer came. */
  late: boolean;
  /** What the server stored: the incident, how the press counted, how many it reached. */
  sent: { incidentId: string; outcome: string; recipients: number; at: string; whileClosed: boolean } | null;
  /** For `confirm`: the site's current instruction. */
  current: Bilingual | null;
  /** For `refused`: the error code. */
  code: string | null;
}

const RETRY_MS = [500, 1000, 2000, 3000];
/**
 * The app's own deadline for a press (issue 14): a server that answers nothing at all (a frozen
 * database) must not leave the person looking at "sending…". After this the screen says the alarm is
 * NOT sent and to call 112, while the press goes on being sent.
 */
export const NOT_SENT_AFTER_MS = 3000;
/** How long one attempt waits for an answer before the same press id is sent again. */
const ATTEMPT_TIMEOUT_MS = 10_000;

/** The press on screen. */
let current: Press | null = null;
/** Every press not yet stored or refused: each is retried until it is, whichever is on screen. */
const inFlight = new Map<string, Press>();
/** Presses that need the person (confirm a contradiction, read a refusal, an old press) while the screen shows another. */
const waiting: Press[] = [];

export const currentPress = (): Press | null => current;
/** Presses other than the one on screen that are not stored yet or need the person (a second alarm pressed during an outage). */
export const otherPressesInFlight = (): number =>
  [...inFlight.keys()].filter((id) => id !== current?.pressId).length + waiting.length;

/** Re-renders the screens that show the press (they read it through currentPress()). */
function notify(): void {
  setState({});
}

function set(press: Press | null): void {
  current = press;
  notify();
}

const needsPerson = (press: Press | null): boolean => press?.status === 'confirm' || press?.status === 'refused' || press?.status === 'stale';

/** A press changed: shown if it is the one on screen or the screen is free for it; otherwise it waits its turn. */
function update(press: Press): void {
  if (press.status === 'sending' || press.status === 'retrying') inFlight.set(press.pressId, press);
  else inFlight.delete(press.pressId);
  if (current?.pressId === press.pressId) set(press);
  else if (needsPerson(press) && needsPerson(current)) waiting.push(press);
  else if (needsPerson(press)) set(press);
  promoteWaiting();
  notify();
}

/** Once the screen no longer needs the person, a press waiting for them takes it (the other goes on being sent). */
function promoteWaiting(): void {
  const first = waiting[0];
  if (first && !needsPerson(current)) {
    waiting.shift();
    set(first);
  }
}

/** What the screen shows next once the person is done with a press: one waiting for them, else one still being sent. */
function next(): Press | null {
  return waiting.shift() ?? [...inFlight.values()].find((p) => p.pressId !== current?.pressId) ?? null;
}

const bodyOf = (press: Press, confirmContradiction: boolean): PressBody => ({
  pressId: press.pressId,
  siteId: press.input.siteId,
  alarmTypeId: press.input.alarmTypeId,
  location: press.input.location,
  drill: press.input.drill,
  ...(confirmContradiction ? { confirmContradiction: true as const } : {}),
});

/** Keeps the press where a reload, a closed app and the service worker still find it (ADR 013). */
function persist(press: Press, confirmContradiction: boolean): void {
  const token = storedToken();
  if (!token) return;
  void savePress({
    pressId: press.pressId, body: bodyOf(press, confirmContradiction), label: press.input.label, lang: getState().lang, token,
    createdAt: press.startedAt, state: 'pending', current: null, code: null, incidentId: null, outcome: null, recipients: null,
  }).catch(() => undefined);
}

/** Asks the service worker to send the stored presses, now or once the browser is online (Chromium's Background Sync). */
function requestBackgroundSend(): void {
  type WithSync = ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } };
  void navigator.serviceWorker?.ready.then((r) => (r as WithSync).sync?.register(PRESS_SYNC_TAG)).catch(() => undefined);
}

/**
 * Raises an alarm and keeps trying until the server has stored it. Every retry sends the same press
 * id, so a retry never makes a second alarm (DESIGN invariant 4); after NOT_SENT_AFTER_MS the screen
 * tells the person to call 112. A second press during an outage does not end the first: both are sent.
 */
export function raise(input: RaiseInput, confirmContradiction = false, pressId: string = crypto.randomUUID(), startedAt = Date.now()): void {
  const press: Press = {
    pressId, input, status: 'sending', attempt: 1, startedAt, late: Date.now() - startedAt >= NOT_SENT_AFTER_MS,
    sent: null, current: null, code: null,
  };
  inFlight.set(pressId, press);
  set(press);
  promoteWaiting();
  persist(press, confirmContradiction);
  window.setTimeout(() => {
    const still = inFlight.get(pressId);
    if (!still || still.late) return;
    update({ ...still, late: true });
    requestBackgroundSend();
  }, Math.max(0, startedAt + NOT_SENT_AFTER_MS - Date.now()));
  void send(pressId, confirmContradiction);
}

async function send(pressId: string, confirmContradiction: boolean): Promise<void> {
  for (;;) {
    const press = inFlight.get(pressId);
    const token = storedToken();
    // Cancelled by the person, or the device signed out: stop.
    if (!press || !token) return;
    const answer = await postPress(bodyOf(press, confirmContradiction), token, ATTEMPT_TIMEOUT_MS);
    const now = inFlight.get(pressId);
    if (!now) return;
    if (answer.kind === 'sent') {
      const { incident, outcome, instruction } = answer;
      realtime.raised(incident, instruction);
      const onScreen = current?.pressId === pressId;
      update({ ...now, status: 'sent', sent: { incidentId: incident.id, outcome, recipients: incident.recipients, at: new Date().toISOString(), whileClosed: false } });
      void deletePress(pressId).catch(() => undefined);
      if (onScreen) navigate(`/alarm/${incident.id}`);
      return;
    }
    if (answer.kind === 'confirm') {
      update({ ...now, status: 'confirm', current: answer.current });
      return;
    }
    if (answer.kind === 'refused') {
      // The session ended (revoked elsewhere): the app signs out, and the sign-in page still shows this press was not sent.
      if (answer.error.code === 'unauthenticated') reportUnauthenticated();
      update({ ...now, status: 'refused', code: answer.error.code });
      void deletePress(pressId).catch(() => undefined);
      return;
    }
    const retrying: Press = { ...now, status: 'retrying', attempt: now.attempt + 1 };
    update(retrying);
    requestBackgroundSend();
    await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(retrying.attempt - 2, RETRY_MS.length - 1)]));
  }
}

/** The person confirmed a contradicting alarm: send the same press again, confirmed; the deadline starts again. */
export function confirmPress(): void {
  if (current?.status !== 'confirm') return;
  raise(current.input, true, current.pressId);
}

/** An old press found on start: the person sends it now (the deadline starts now). */
export function sendStaleNow(): void {
  if (current?.status !== 'stale') return;
  raise(current.input, false, current.pressId);
}

/** The person closed what the screen showed (or cancelled a press still being retried); the next press takes its place. */
export function clearPress(): void {
  if (current) {
    inFlight.delete(current.pressId);
    void deletePress(current.pressId).catch(() => undefined);
  }
  set(next());
}

/** Sign-out: no press of this person is sent any more, nor shown to the next. */
export function forgetPresses(): void {
  inFlight.clear();
  waiting.length = 0;
  set(null);
  void clearPresses().catch(() => undefined);
}

const inputOf = (stored: StoredPress): RaiseInput => ({
  siteId: stored.body.siteId, alarmTypeId: stored.body.alarmTypeId, label: stored.label, location: stored.body.location, drill: stored.body.drill,
});

/**
 * On start: presses a reload or a closed app left behind. Those still to send are sent (the same press id:
 * if the service worker got there first, the server answers with the stored alarm); answers the service
 * worker got meanwhile are shown; a press older than PRESS_MAX_AGE_MS is put to the person.
 */
export async function resumePresses(): Promise<void> {
  const token = storedToken();
  const found = await storedPresses().catch(() => [] as StoredPress[]);
  const mine: StoredPress[] = [];
  for (const stored of found.sort((a, b) => a.createdAt - b.createdAt)) {
    if (inFlight.has(stored.pressId) || current?.pressId === stored.pressId) continue;
    // Another person's session on this device: theirs was forgotten at sign-out; nothing of it is sent as this one.
    if (stored.token === token) mine.push(stored);
    else void deletePress(stored.pressId).catch(() => undefined);
  }
  const base = (stored: StoredPress): Press => ({
    pressId: stored.pressId, input: inputOf(stored), status: 'sending', attempt: 1, startedAt: stored.createdAt, late: true,
    sent: null, current: stored.current, code: stored.code,
  });
  const young = (stored: StoredPress) => Date.now() - stored.createdAt <= PRESS_MAX_AGE_MS;
  // First what is still to send, then what needs the person: a question is never pushed off the screen by a send.
  for (const stored of mine) {
    if (stored.state === 'pending' && young(stored)) raise(inputOf(stored), stored.body.confirmContradiction === true, stored.pressId, stored.createdAt);
  }
  for (const stored of mine) {
    if (stored.state === 'sent' && stored.incidentId) {
      void deletePress(stored.pressId).catch(() => undefined);
      const sent = { incidentId: stored.incidentId, outcome: stored.outcome ?? 'raised', recipients: stored.recipients ?? 0, at: new Date(stored.createdAt).toISOString(), whileClosed: true };
      if (!needsPerson(current)) set({ ...base(stored), status: 'sent', sent });
    } else if (stored.state === 'refused') {
      void deletePress(stored.pressId).catch(() => undefined);
      update({ ...base(stored), status: 'refused' });
    } else if (stored.state === 'confirm') {
      update({ ...base(stored), status: 'confirm' });
    } else if (stored.state === 'pending' && !young(stored)) {
      update({ ...base(stored), status: 'stale' });
    }
  }
}

// Leaving the page with presses still unsent: the service worker takes them over where it can.
window.addEventListener('pagehide', () => {
  if (inFlight.size > 0) requestBackgroundSend();
});
