import { ApiError, NetworkError, isTransient } from './errors.ts';
import { read, write } from './idb.ts';
import type { Bilingual, Incident, Instruction, Lang } from './types.ts';
import type { RaiseRequest } from '../../../src/contract/alarms.ts';

/**
 * Alarm presses the server has not stored yet, kept in IndexedDB so that a reload or a closed app does
 * not forget a press the screen promised to send (ADR 013). The page sends them while it is open; the
 * service worker sends them on Background Sync where the browser has it; the next start sends what is
 * left. Every send carries the press's own id, so however many of them get through, there is one alarm
 * (DESIGN invariant 4). Shared by the page and the service worker.
 */

/** The body of `POST /alarms` (README "API overview"). */
/** What is sent: the contract's raise request (src/contract/alarms.ts), with what the app always fills in. */
export type PressBody = Pick<RaiseRequest, 'pressId' | 'siteId' | 'alarmTypeId' | 'confirmContradiction'> & { location: string | null; drill: boolean };

export interface StoredPress {
  pressId: string;
  body: PressBody;
  /** The alarm type's label, for what the screen and a notification say about it. */
  label: Bilingual;
  lang: Lang;
  /** The session of the person who pressed: sent with it, never with someone else's. */
  token: string;
  createdAt: number;
  /**
   * `pending`: to be sent. The others are answers the service worker got while no page was open,
   * kept for the app to show: stored (`sent`), a contradiction to confirm, or refused for good.
   */
  state: 'pending' | 'sent' | 'confirm' | 'refused';
  /** `confirm`: the site's current instruction; `refused`: the error code. */
  current: Bilingual | null;
  code: string | null;
  /** `sent`: what the server stored. */
  incidentId: string | null;
  outcome: string | null;
  recipients: number | null;
}

/** The Background Sync tag under which the service worker sends stored presses. */
export const PRESS_SYNC_TAG = 'samlarm-presses';

/**
 * A press older than this is not sent without the person being asked: an alarm that arrives long after
 * the emergency (a phone that was off for an hour) would send a school out into a fire that is long over,
 * or into a lockdown that has ended. The app asks "send now?" instead.
 */
export const PRESS_MAX_AGE_MS = 15 * 60_000;

export const savePress = (press: StoredPress): Promise<void> => write('presses', (s) => s.put(press));
export const deletePress = (pressId: string): Promise<void> => write('presses', (s) => s.delete(pressId));
export const clearPresses = (): Promise<void> => write('presses', (s) => s.clear());
export const storedPresses = (): Promise<StoredPress[]> => read<StoredPress[]>('presses', (s) => s.getAll());

export type PressAnswer =
  | { kind: 'sent'; outcome: string; incident: Incident; instruction: Instruction | null }
  | { kind: 'confirm'; current: Bilingual | null }
  | { kind: 'refused'; error: ApiError }
  | { kind: 'retry'; error: ApiError | NetworkError };

/**
 * Sends a press once and says what to do next. `timeoutMs` bounds the wait: a frozen server answers
 * nothing at all, and the same press id can be sent again at once.
 */
export async function postPress(body: PressBody, token: string, timeoutMs: number): Promise<PressAnswer> {
  let status: number;
  let text: string;
  try {
    const res = await fetch('/api/v1/alarms', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    return { kind: 'retry', error: new NetworkError(err instanceof Error ? err.message : 'network error') };
  }
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (status >= 200 && status < 300) {
    const ok = parsed as { outcome: string; incident: Incident; instruction: Instruction | null };
    return { kind: 'sent', outcome: ok.outcome, incident: ok.incident, instruction: ok.instruction };
  }
  const e = (parsed ?? {}) as { code?: string; message?: string; details?: { current?: { label?: Bilingual } } };
  const error = new ApiError(status, e.code ?? `http_${status}`, e.message ?? '', e.details);
  if (error.code === 'contradicts_instruction') return { kind: 'confirm', current: e.details?.current?.label ?? null };
  return isTransient(error) ? { kind: 'retry', error } : { kind: 'refused', error };
}
