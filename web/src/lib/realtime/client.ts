import { api } from '../api.ts';
import { attention, startAlert, stopAlert } from '../alert.ts';
import { isTransient } from '../errors.ts';
import { navigate } from '../router.ts';
import { getState, setState } from '../store.ts';
import type { EscalationNote, Incident, Instruction, ResponseStatus, SiteInstructionNotice, Sound } from '../types.ts';
import { initialState, reduce, soundOf, type Action, type Effect, type RealtimeState } from './reducer.ts';
import { ReceiptQueue } from './receipts.ts';
import { Transport } from './transport.ts';

/**
 * The device side of docs/realtime.md, put together: the transport brings events and catch-up answers,
 * the reducer decides what they mean, and this carries out its effects (the alarm sound, receipts
 * through the receipt queue, learning how an incident ended) and shows the state through the store.
 */
class RealtimeClient {
  private state: RealtimeState = initialState('', null);
  private readonly transport = new Transport();
  private readonly receipts = new ReceiptQueue(this.transport.sendReceipt);
  /** Bumped on stop: answers and timers of an earlier session (another person, perhaps) are dropped. */
  private generation = 0;
  /** Per incident, the pending retry of learning how it ended. */
  private readonly ending = new Map<string, number>();

  start(token: string, personId: string, onSignedOut: () => void): void {
    this.stop();
    const position = { cursor: localStorage.getItem(cursorKey(personId)), epoch: localStorage.getItem(epochKey(personId)) };
    this.state = initialState(personId, position, readAcknowledged(personId));
    this.transport.start(token, {
      position: () => ({ cursor: this.state.cursor, epoch: this.state.epoch }),
      onConnection: (connection) => {
        setState({ connection });
        if (connection === 'connected') this.loadOrgIncidents();
      },
      onReachable: () => this.receipts.resendFailed(),
      onCatchUp: (body) => this.dispatch({ type: 'catchUp', body }),
      onEvent: (event) => this.dispatch({ type: 'event', event }),
      onRollcall: (incidentId, summary) => {
        setState((s) => ({ rollcalls: { ...s.rollcalls, [incidentId]: summary } }));
        bumpRollcall([incidentId]);
      },
      onSiteInstruction: (notice) => this.siteInstruction(notice),
      onOrgIncident: (incident) => setState((s) => ({ orgIncidents: withIncident(s.orgIncidents, incident) })),
      onSignedOut,
    });
  }

  stop(): void {
    this.transport.stop();
    this.generation += 1;
    for (const timer of this.ending.values()) window.clearTimeout(timer);
    this.ending.clear();
    setState({ connection: 'offline' });
  }

  /** Forgets everything this device held for the signed-out person. */
  reset(): void {
    if (this.state.personId) {
      localStorage.removeItem(cursorKey(this.state.personId));
      localStorage.removeItem(epochKey(this.state.personId));
    }
    this.state = initialState('', null);
    this.receipts.clear();
    stopAlert();
    setState({ incidents: {}, instructions: {}, rollcalls: {}, rollcallVersion: {}, siteInstructions: {}, orgIncidents: {} });
  }

  get connected(): boolean {
    return this.transport.connected;
  }

  sync(): void {
    this.transport.sync();
  }

  /** Reminders and escalations read from the timeline (a roll call opened after a reload or a resync). */
  noteEscalations(incidentId: string, notes: EscalationNote[]): void {
    this.dispatch({ type: 'escalations', incidentId, notes });
  }

  /** The person has seen the alarm (touched its screen, silenced it): stop the sound and confirm it. */
  acknowledge(incidentId: string): void {
    this.dispatch({ type: 'acknowledge', incidentId });
  }

  /** Records the person's own answer at once (the server's `responded` event confirms it). */
  answered(incidentId: string, status: ResponseStatus): void {
    this.dispatch({ type: 'answered', incidentId, status });
  }

  /** The person closed an ended incident: it leaves the device. */
  dismiss(incidentId: string): void {
    this.dispatch({ type: 'dismiss', incidentId });
  }

  /** A raise answer: show the incident at once, before its event arrives. */
  raised(incident: Incident, instruction: Instruction | null): void {
    this.dispatch({ type: 'raised', incident, instruction });
    this.sync();
  }

  soundOf(incident: Incident): Sound {
    return soundOf(this.state, incident);
  }

  private dispatch(action: Action): void {
    const before = this.state;
    const { state, effects } = reduce(before, action);
    this.state = state;
    if (state.incidents !== before.incidents || state.instructions !== before.instructions) {
      setState({ incidents: state.incidents, instructions: state.instructions });
    }
    this.run(effects);
  }

  private run(effects: Effect[]): void {
    const rollcalls: string[] = [];
    for (const effect of effects) {
      switch (effect.kind) {
        case 'ring':
          startAlert(effect.incident.id, effect.sound);
          // A lead already watching this incident's roll call stays there.
          if (!location.pathname.startsWith(`/incidents/${effect.incident.id}`)) navigate(`/alarm/${effect.incident.id}`);
          break;
        case 'silence':
          stopAlert(effect.incidentId);
          break;
        case 'receipt':
          this.receipts.add(effect.incidentId, effect.receipt, effect.spread);
          break;
        case 'learnEnd':
          this.learnEnd(effect.incidentId, 0);
          break;
        case 'rollcallChanged':
          rollcalls.push(effect.incidentId);
          break;
        case 'saveCursor':
          localStorage.setItem(cursorKey(this.state.personId), effect.cursor);
          localStorage.setItem(epochKey(this.state.personId), effect.epoch);
          break;
        case 'saveAcknowledged':
          localStorage.setItem(acknowledgedKey(this.state.personId), JSON.stringify(effect.ids));
          break;
        case 'newInstruction':
          if (!effect.silent) attention();
          break;
      }
    }
    if (rollcalls.length > 0) bumpRollcall(rollcalls);
  }

  /**
   * The instruction at one of the person's sites (ADR 027). A new instruction that is loud by type draws
   * attention with a short vibration; a silent one (a lockdown) never makes a sound or vibrates.
   */
  private siteInstruction(notice: SiteInstructionNotice): void {
    const before = getState().siteInstructions[notice.siteId];
    const changed = (before?.instruction?.incidentId ?? null) !== (notice.instruction?.incidentId ?? null) || before?.message?.at !== notice.message?.at;
    setState((s) => ({ siteInstructions: { ...s.siteInstructions, [notice.siteId]: notice } }));
    if (before && changed && notice.instruction && !notice.silent) attention();
  }

  /** An organisation admin's list of active incidents, read again on every (re)connect: `org_incident` only brings changes. */
  private loadOrgIncidents(): void {
    if (!getState().me?.person.roles.some((r) => r.role === 'org_admin')) return;
    const generation = this.generation;
    void api<{ incidents: Incident[] }>('GET', '/incidents?state=active').then(({ incidents }) => {
      if (generation === this.generation) setState({ orgIncidents: Object.fromEntries(incidents.map((i) => [i.id, i])) });
    }, () => undefined);
  }

  /** How an incident the server no longer lists as active ended; asked again until it answers. */
  private learnEnd(incidentId: string, attempt: number): void {
    const generation = this.generation;
    const pending = this.ending.get(incidentId);
    if (pending !== undefined) window.clearTimeout(pending);
    this.ending.delete(incidentId);
    void api<{ incident: Incident & { endReason: string | null } }>('GET', `/incidents/${incidentId}`)
      .then(({ incident }) => {
        if (generation === this.generation) this.dispatch({ type: 'ended', incident });
      })
      .catch((err: unknown) => {
        if (generation !== this.generation) return;
        // No longer this person's to see: it leaves the device, as a dismissed one does.
        if (!isTransient(err)) {
          this.dispatch({ type: 'dismiss', incidentId });
          return;
        }
        this.ending.set(incidentId, window.setTimeout(() => this.learnEnd(incidentId, attempt + 1), Math.min(1000 * 2 ** attempt, 30_000)));
      });
  }
}

/** An organisation admin's list keeps active incidents only. */
function withIncident(list: Record<string, Incident>, incident: Incident): Record<string, Incident> {
  const rest = Object.fromEntries(Object.entries(list).filter(([id]) => id !== incident.id));
  return incident.state === 'active' ? { ...rest, [incident.id]: incident } : rest;
}

const cursorKey = (personId: string): string => `samlarm.cursor.${personId}`;
const epochKey = (personId: string): string => `samlarm.epoch.${personId}`;
const acknowledgedKey = (personId: string): string => `samlarm.acknowledged.${personId}`;

function readAcknowledged(personId: string): string[] {
  try {
    const ids: unknown = JSON.parse(localStorage.getItem(acknowledgedKey(personId)) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** Open roll calls read again (once per change, however many events a batch brought). */
function bumpRollcall(incidentIds: string[]): void {
  setState((s) => {
    const versions = { ...s.rollcallVersion };
    for (const id of new Set(incidentIds)) versions[id] = (versions[id] ?? 0) + 1;
    return { rollcallVersion: versions };
  });
}

export const realtime = new RealtimeClient();
