import { ApiError, api } from './api.ts';
import { isTransient } from './errors.ts';
import { realtime } from './realtime/client.ts';
import { navigate } from './router.ts';
import { getState, setState } from './store.ts';
import type { Incident, Instruction } from './types.ts';

export interface RaiseInput { siteId: string; alarmTypeId: string; location: string | null; drill: boolean }

/** One press from the moment it is confirmed until the server has stored it (or refused it for good). */
export interface Press {
  pressId: string;
  input: RaiseInput;
  status: 'sending' | 'retrying' | 'sent' | 'confirm' | 'refused';
  attempt: number;
  outcome: string | null;
  incident: Incident | null;
  /** For `confirm`: what the site's current instruction is. For `refused`: the error code. */
  detail: string | null;
}

const RETRY_MS = [500, 1000, 2000, 3000];
/** The press on screen. */
let current: Press | null = null;
/** Every press not yet stored or refused: each is retried until it is, whichever is on screen. */
const inFlight = new Map<string, Press>();
/** Presses that need the person (confirm a contradiction, read a refusal) while the screen shows another. */
const waiting: Press[] = [];
const pressListeners = new Set<() => void>();

export const currentPress = (): Press | null => current;
/** Presses other than the one on screen that are not stored yet or need the person (a second alarm pressed during an outage). */
export const otherPressesInFlight = (): number =>
  [...inFlight.keys()].filter((id) => id !== current?.pressId).length + waiting.length;
export const onPressChange = (listener: () => void): (() => void) => {
  pressListeners.add(listener);
  return () => pressListeners.delete(listener);
};

function notify(): void {
  pressListeners.forEach((l) => l());
  // Re-render screens that show the press (they read it through currentPress()).
  setState({});
}

function set(press: Press | null): void {
  current = press;
  notify();
}

const needsPerson = (press: Press | null): boolean => press?.status === 'confirm' || press?.status === 'refused';

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

/**
 * Raises an alarm and keeps trying until the server has stored it. Every retry sends the same press
 * id, so a retry never makes a second alarm (DESIGN invariant 4); the screen meanwhile tells the
 * person to call 112. A second press during an outage does not end the first: both are sent.
 */
export function raise(input: RaiseInput, confirmContradiction = false, pressId: string = crypto.randomUUID()): void {
  const press: Press = { pressId, input, status: 'sending', attempt: 1, outcome: null, incident: null, detail: null };
  inFlight.set(pressId, press);
  set(press);
  promoteWaiting();
  void send(press, confirmContradiction);
}

async function send(press: Press, confirmContradiction: boolean): Promise<void> {
  for (;;) {
    // Cancelled by the person, or the device signed out: stop.
    if (!inFlight.has(press.pressId)) return;
    try {
      const result = await api<{ outcome: string; incident: Incident; instruction: Instruction | null }>('POST', '/alarms', {
        pressId: press.pressId,
        siteId: press.input.siteId,
        alarmTypeId: press.input.alarmTypeId,
        location: press.input.location,
        drill: press.input.drill,
        ...(confirmContradiction ? { confirmContradiction: true } : {}),
      });
      realtime.raised(result.incident, result.instruction);
      const onScreen = current?.pressId === press.pressId;
      update({ ...press, status: 'sent', outcome: result.outcome, incident: result.incident });
      if (onScreen) navigate(`/alarm/${result.incident.id}`);
      return;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'contradicts_instruction') {
        const details = err.details as { current?: { label?: { sv: string; en: string } } } | undefined;
        const label = details?.current?.label;
        update({ ...press, status: 'confirm', detail: label ? label[getState().lang] : null });
        return;
      }
      if (!isTransient(err)) {
        update({ ...press, status: 'refused', detail: err instanceof ApiError ? err.code : 'unknown' });
        return;
      }
      press = { ...press, status: 'retrying', attempt: press.attempt + 1 };
      update(press);
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(press.attempt - 2, RETRY_MS.length - 1)]));
    }
  }
}

/** The person confirmed a contradicting alarm: send the same press again, confirmed. */
export function confirmPress(): void {
  if (current?.status !== 'confirm') return;
  raise(current.input, true, current.pressId);
}

/** The person closed what the screen showed (or cancelled a press still being retried); the next press takes its place. */
export function clearPress(): void {
  if (current) inFlight.delete(current.pressId);
  set(next());
}

/** Sign-out: no press of this person is sent any more, nor shown to the next. */
export function forgetPresses(): void {
  inFlight.clear();
  waiting.length = 0;
  set(null);
}
