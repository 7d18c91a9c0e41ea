import { ApiError, NetworkError, api } from './api.ts';
import { realtime } from './realtime.ts';
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
let current: Press | null = null;
const pressListeners = new Set<() => void>();

export const currentPress = (): Press | null => current;
export const onPressChange = (listener: () => void): (() => void) => {
  pressListeners.add(listener);
  return () => pressListeners.delete(listener);
};

function set(press: Press | null): void {
  current = press;
  pressListeners.forEach((l) => l());
  // Re-render screens that show the press (they read it through currentPress()).
  setState({});
}

/**
 * Raises an alarm and keeps trying until the server has stored it. Every retry sends the same press
 * id, so a retry never makes a second alarm (DESIGN invariant 4); the screen meanwhile tells the
 * person to call 112.
 */
export function raise(input: RaiseInput, confirmContradiction = false, pressId: string = crypto.randomUUID()): void {
  const press: Press = { pressId, input, status: 'sending', attempt: 1, outcome: null, incident: null, detail: null };
  set(press);
  void send(press, confirmContradiction);
}

async function send(press: Press, confirmContradiction: boolean): Promise<void> {
  for (;;) {
    if (current?.pressId !== press.pressId) return;
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
      set({ ...press, status: 'sent', outcome: result.outcome, incident: result.incident });
      navigate(`/alarm/${result.incident.id}`);
      return;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'contradicts_instruction') {
        const details = err.details as { current?: { label?: { sv: string; en: string } } } | undefined;
        const label = details?.current?.label;
        set({ ...press, status: 'confirm', detail: label ? label[getState().lang] : null });
        return;
      }
      const retryable = err instanceof NetworkError || (err instanceof ApiError && (err.status >= 500 || err.status === 429));
      if (!retryable) {
        set({ ...press, status: 'refused', detail: err instanceof ApiError ? err.code : 'unknown' });
        return;
      }
      press = { ...press, status: 'retrying', attempt: press.attempt + 1 };
      set(press);
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(press.attempt - 2, RETRY_MS.length - 1)]));
    }
  }
}

/** The person confirmed a contradicting alarm: send the same press again, confirmed. */
export function confirmPress(): void {
  if (current?.status !== 'confirm') return;
  raise(current.input, true, current.pressId);
}

export function clearPress(): void {
  set(null);
}
