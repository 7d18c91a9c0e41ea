import type { Config } from '../../config/config.js';
import type { Db, Tx } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { canRaiseAlarm, canRunDrill, type Principal } from '../auth/policies.js';
import { visibleSite, type Site } from '../sites/sites.js';
import { appendEvents, latestAlertEvents, type IncidentEvent, type NewEvent } from './events.js';
import { incidentSummary, loadIncident, type Incident } from './incidents.js';
import {
  contradicts, otherActiveIncidents, sameInstruction, siteInstruction, type SiteInstruction, type TypeSnapshot,
} from './instruction.js';
import { ALARM_SQL } from './queries.js';

export interface RaiseInput {
  /** The device's own id for this press: retries send the same id and never make a second alarm. */
  pressId: string;
  siteId: string;
  alarmTypeId: string;
  location?: string | null;
  message?: string | null;
  drill?: boolean;
  /** Required to raise an alarm that contradicts the site's current instruction (e.g. fire during a lockdown). */
  confirmContradiction?: boolean;
}

/** raised: a new incident; joined: a press added to an active one; reraised: the same, after the join window (everyone alerted again); replayed: a retry of a press already recorded. */
/** The recipient rows of one incident, as the publisher needs them. */
export interface IncidentAudienceRows {
  incidentId: string;
  rows: { person_id: string; lead: boolean; presser: boolean }[];
}

export type RaiseOutcome = 'raised' | 'joined' | 'reraised' | 'replayed';

export interface RaiseResult {
  outcome: RaiseOutcome;
  incident: Incident;
  instruction: SiteInstruction | null;
  events: IncidentEvent[];
}

export interface AlarmDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /**
   * Sends committed events to devices; never throws (catch-up covers what it could not send).
   * `audience`: the recipients of a new incident as just written, so they need not be read back.
   */
  publish: (events: IncidentEvent[], audience?: IncidentAudienceRows) => Promise<void>;
  /** Queues pushes (and escalation) for a change's events, in the change's transaction: committed together or not at all. */
  queueDeliveries: (tx: Tx, events: NewEvent[]) => Promise<void>;
  /** Sends a person's devices the current state: they just became part of an incident already under way. */
  resync: (personId: string) => Promise<void>;
}

const eventOf = (incident: { id: string; organisationId: string; siteId: string }, actor: string) =>
  (type: NewEvent['type'], audience: NewEvent['audience'], data: Record<string, unknown>): NewEvent => ({
    incidentId: incident.id, organisationId: incident.organisationId, siteId: incident.siteId,
    type, audience, actorPersonId: actor, data,
  });

async function replay(tx: Tx, principal: Principal, pressId: string): Promise<Incident | null> {
  const press = (await tx.query<{ incident_id: string; person_id: string }>(ALARM_SQL.pressById, [pressId])).rows[0];
  if (!press) return null;
  if (press.person_id !== principal.personId) throw new AppError('conflict', 'This press id is already used.');
  return loadIncident(tx, press.incident_id);
}

async function authorise(tx: Tx, principal: Principal, input: RaiseInput): Promise<{ site: Site; type: TypeSnapshot }> {
  const site = await visibleSite(tx, principal, input.siteId);
  const type = (await tx.query<TypeSnapshot>(ALARM_SQL.usableType, [input.alarmTypeId, site.organisationId])).rows[0];
  if (!type) throw new AppError('invalid_reference', 'No such alarm type for this site.');
  const viaGroup = (await tx.query<{ allowed: boolean }>(ALARM_SQL.mayRaiseViaGroup, [principal.personId, site.id, type.id])).rows[0];
  if (!canRaiseAlarm(principal, site, viaGroup?.allowed === true)) throw new AppError('forbidden', 'You may not raise this alarm here.');
  if (input.drill && !canRunDrill(principal, site)) throw new AppError('forbidden', 'Only crisis leads and rektorer may start drills.');
  return { site, type };
}

/**
 * Raise an alarm. The answer is given only after the incident, its recipients and its first
 * timeline events are committed (invariant 1); then the events go to devices.
 */
export async function raiseAlarm(deps: AlarmDeps, principal: Principal, input: RaiseInput): Promise<RaiseResult> {
  const result = await inTransaction(deps.db, async (tx) => {
    const decided = await decide(tx, deps, principal, input);
    await deps.queueDeliveries(tx, decided.events);
    // Last in the transaction: the events' ordering lock is held only until the commit just after.
    return { ...decided, events: await appendEvents(tx, decided.events) };
  });
  // The presser's answer does not wait for the fan-out: the alarm is committed, and the publisher
  // never fails (devices catch up on whatever it could not send). A replay sends the alarm again:
  // the first attempt may have died between its commit and its fan-out.
  const toPublish = result.outcome === 'replayed' ? await latestAlertEvents(deps.db, result.incident.id) : result.events;
  // setImmediate: the fan-out starts after the answer is on its way, not in the microtasks before it.
  setImmediate(() => {
    void deps.publish(toPublish, result.audience);
    // Joining by pressing makes someone part of an incident whose earlier events lie before their cursor.
    if (result.newRecipient) void deps.resync(result.newRecipient);
  });
  return { outcome: result.outcome, incident: result.incident, instruction: result.instruction, events: result.events };
}

type Decision = Omit<RaiseResult, 'events'> & { events: NewEvent[]; audience?: IncidentAudienceRows; newRecipient?: string };

async function decide(tx: Tx, deps: AlarmDeps, principal: Principal, input: RaiseInput): Promise<Decision> {
  // A retry is answered with what the first attempt did, even if rights or the type changed since.
  await tx.query(ALARM_SQL.lockPress, [input.pressId]);
  const replayed = await replay(tx, principal, input.pressId);
  if (replayed) return { outcome: 'replayed', incident: replayed, instruction: await siteInstruction(tx, replayed.siteId), events: [] };

  const { site, type } = await authorise(tx, principal, input);
  await tx.query(ALARM_SQL.lockSite, [site.id]);
  const now = deps.clock.now();
  const drill = input.drill === true;
  const before = await siteInstruction(tx, site.id);
  // A drill while a real alarm is active could be mistaken for, or drown out, the real one.
  if (drill && before && !before.drill) throw new AppError('real_alarm_active', undefined, { current: before });
  const contradiction = contradicts(before, type, drill);
  const active = (await tx.query<{ id: string; last_pressed_at: Date }>(ALARM_SQL.activeIncident, [site.id, type.id, drill])).rows[0];
  if (active) return join(tx, deps, principal, input, active, now, contradiction);

  if (contradiction && !input.confirmContradiction) {
    throw new AppError('contradicts_instruction', undefined, { current: before });
  }
  const { id } = (await tx.query<{ id: string }>(ALARM_SQL.insertIncident, [
    site.organisationId, site.id, type.id, drill, JSON.stringify(type), input.location ?? null, input.message ?? null, principal.personId, now,
  ])).rows[0] as { id: string };
  await tx.query(ALARM_SQL.insertPress, [input.pressId, id, principal.personId, input.location ?? null, input.message ?? null, now]);
  const recipients = (await tx.query<{ person_id: string; lead: boolean; presser: boolean }>(ALARM_SQL.insertRecipients, [
    id, site.organisationId, site.id, type.id, principal.personId,
  ])).rows;
  const incident = await loadIncident(tx, id);
  const after = await siteInstruction(tx, site.id);
  const event = eventOf(incident, principal.personId);
  const events = [
    event('raised', 'all', { incident: incidentSummary(incident), instruction: after }),
    event('recipients_computed', 'leads', { targeted: recipients.length, leads: recipients.filter((r) => r.lead).length, instruction: after }),
  ];
  // A change of what people must do is never silent: everyone sees it as a change (invariant 5).
  if (before && (contradiction || !sameInstruction(before, after))) {
    const change = event('instruction_changed', 'all', { previous: before, instruction: after, contradiction, cause: incident.id });
    events.push(change);
    for (const other of await otherActiveIncidents(tx, site.id, incident.id)) events.push({ ...change, incidentId: other });
  }
  return { outcome: 'raised', incident, instruction: after, events, audience: { incidentId: id, rows: recipients } };
}

async function join(
  tx: Tx, deps: AlarmDeps, principal: Principal, input: RaiseInput, active: { id: string; last_pressed_at: Date }, now: Date,
  contradiction: boolean,
): Promise<Decision> {
  const withinWindow = now.getTime() - active.last_pressed_at.getTime() <= deps.config.ALARM_JOIN_WINDOW_SECONDS * 1000;
  // Alerting everyone again with an alarm that contradicts what they were told needs the same confirmation as raising it.
  if (!withinWindow && contradiction && !input.confirmContradiction) {
    throw new AppError('contradicts_instruction', undefined, { current: await siteInstruction(tx, input.siteId) });
  }
  await tx.query(ALARM_SQL.insertPress, [input.pressId, active.id, principal.personId, input.location ?? null, input.message ?? null, now]);
  await tx.query(ALARM_SQL.touchIncident, [active.id, now]);
  const incident = await loadIncident(tx, active.id);
  const added = await tx.query(ALARM_SQL.addPresserAsRecipient, [active.id, principal.personId, incident.organisationId]);
  const instruction = await siteInstruction(tx, incident.siteId);
  // Within the window a press only joins; after it, a new press may mean new danger: alert everyone again.
  const outcome = withinWindow ? 'joined' : 'reraised';
  const data = { incident: incidentSummary(incident), pressedBy: principal.personId, location: input.location ?? null, instruction };
  const events = [eventOf(incident, principal.personId)(outcome, withinWindow ? 'leads' : 'all', data)];
  return { outcome, incident, instruction, events, ...(added.rowCount ? { newRecipient: principal.personId } : {}) };
}
