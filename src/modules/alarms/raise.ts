import type { Queryable, Tx } from '../../db/pool.js';
import type { LinkedFrom, RaiseRequest } from '../../contract/alarms.js';
import { AppError } from '../../lib/errors.js';
import { usableAlarmType, type AlarmTypeSnapshot } from '../alarm-types/alarm-types.js';
import { mayRaiseViaGroup } from '../alarm-groups/alarm-groups.js';
import { canRaiseAlarm, canRunDrill, type Principal } from '../auth/policies.js';
import { visibleSite, type Site } from '../sites/sites.js';
import type { AlarmDeps } from './deps.js';
import { latestAlertEvents, type IncidentEvent, type NewEvent } from './events.js';
import { incidentSummary, loadIncident, type Incident } from './incidents.js';
import {
  contradicts, lockSites, onlyInstruction, otherActiveIncidents, sameInstruction, siteInstruction, siteNow, type SameActive, type SiteInstruction,
} from './instruction.js';
import type { PendingChange } from './pipeline.js';
import { addPresser, insertRecipients, type Reach, type RecipientRow } from './recipients.js';

export type RaiseOutcome = 'raised' | 'joined' | 'reraised' | 'replayed';

export interface RaiseResult {
  outcome: RaiseOutcome;
  incident: Incident;
  instruction: SiteInstruction | null;
  events: IncidentEvent[];
}

const RAISE_SQL = {
  // Taken before the site's: one press id sent at once to two sites is then a replay, as it is when sent one after the other.
  lockPress: "SELECT pg_advisory_xact_lock(hashtextextended('press:' || $1::text, 0))",
  pressById: 'SELECT press_id, incident_id, person_id FROM incident_presses WHERE press_id = $1',
  // The incident and, when a person pressed ($11: the press id), their press, in one round trip.
  insertIncident: `
    WITH incident AS (
      INSERT INTO incidents (organisation_id, site_id, alarm_type_id, drill, type_snapshot, location, message, raised_by, raised_at, last_pressed_at, linked_from)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id
    ), press AS (
      INSERT INTO incident_presses (press_id, incident_id, person_id, location, message, pressed_at)
      SELECT $11, id, $8, $6, $7, $9 FROM incident WHERE $11::uuid IS NOT NULL
    )
    SELECT id FROM incident`,
  insertPress: `
    INSERT INTO incident_presses (press_id, incident_id, person_id, location, message, pressed_at)
    VALUES ($1, $2, $3, $4, $5, $6)`,
  touchIncident: 'UPDATE incidents SET last_pressed_at = $2 WHERE id = $1',
} as const;

/** A press: raise a new incident, join an active one, or replay one already recorded. */
type Decision = { outcome: RaiseOutcome; incident: Incident; instruction: SiteInstruction | null; change: PendingChange; joined?: string };

const bilingual = (sv: string, en: string) => ({ sv, en });

const eventOf = (incident: Incident, actor: string | null, at: Date) =>
  (type: NewEvent['type'], audience: NewEvent['audience'], data: Record<string, unknown>): NewEvent => ({
    incidentId: incident.id, organisationId: incident.organisationId, siteId: incident.siteId, drill: incident.drill,
    type, audience, actorPersonId: actor, data, at,
  });

/**
 * Raise an alarm. The answer is given only after the incident, its recipients, its pushes and its
 * first timeline events are committed (invariant 1); the fan-out to devices starts right after,
 * without holding up the answer. A retried press is answered with what the first one did
 * (invariant 4), and sends the alarm out again: the first attempt may have died between its commit
 * and its fan-out.
 */
export async function raiseAlarm(deps: AlarmDeps, principal: Principal, input: RaiseRequest): Promise<RaiseResult> {
  const { result, events } = await deps.pipeline.run(async (tx) => {
    const decision = await decide(tx, deps, principal, input);
    return { result: decision, change: decision.change, ...(decision.joined ? { joinedRecipients: [decision.joined] } : {}) };
    // A press must be answered within seconds, stored or not: a person waiting on a hung database is told to call 112.
  }, 'schedule', { deadlineMs: deps.config.DATABASE_ALARM_DEADLINE_MS });
  if (result.outcome === 'replayed') {
    const again = await latestAlertEvents(deps.db, result.incident.id);
    setImmediate(() => void deps.pipeline.process({ events: again }));
  }
  return { outcome: result.outcome, incident: result.incident, instruction: result.instruction, events };
}

async function decide(tx: Tx, deps: AlarmDeps, principal: Principal, input: RaiseRequest): Promise<Decision> {
  // A retry is answered with what the first attempt did, even if rights or the type changed since.
  await tx.query(RAISE_SQL.lockPress, [input.pressId]);
  const replayed = await replay(tx, principal, input.pressId);
  if (replayed) {
    return { outcome: 'replayed', incident: replayed, instruction: await siteInstruction(tx, replayed.siteId), change: { events: [] } };
  }

  const { site, type } = await authorise(tx, principal, input);
  // The sites a raise here may also change (linked sites), locked with it in one order: two raises at
  // linked sites at once wait for each other instead of deadlocking.
  const linkedSites = await deps.sources.linkedSites(tx, site.id, null);
  await lockSites(tx, [site.id, ...linkedSites]);
  const now = deps.clock.now();
  const drill = input.drill === true;
  const { instruction: before, same: active } = await siteNow(tx, site.id, type.id, drill);
  // A drill while a real alarm is active could be mistaken for, or drown out, the real one.
  if (drill && before && !before.drill) throw new AppError('real_alarm_active', undefined, { current: before });
  const contradiction = contradicts(before, type, drill);
  if (active) return join(tx, deps, principal, input, active, now, contradiction);

  if (contradiction && !input.confirmContradiction) {
    throw new AppError('contradicts_instruction', undefined, { current: before });
  }
  const opened = await openIncident(tx, {
    site, type, drill, location: input.location ?? null, message: input.message ?? null, at: now, before, contradiction,
    raisedBy: { personId: principal.personId, pressId: input.pressId }, linkedFrom: null,
  });
  return {
    outcome: 'raised', incident: opened.incident, instruction: opened.instruction,
    change: { events: opened.events, newIncidents: [{ incident: opened.incident, recipients: opened.recipients, linkedSites }] },
  };
}

/** A new incident at a site, as a press or a link opens it. */
export interface IncidentOpening {
  site: { id: string; organisationId: string };
  type: AlarmTypeSnapshot;
  drill: boolean;
  location: string | null;
  message: string | null;
  at: Date;
  /** The site's instruction before, and whether the new incident contradicts it (confirmed by whoever decided). */
  before: SiteInstruction | null;
  contradiction: boolean;
  /** A press (the presser is a recipient and the events' actor), or null for a linked incident. */
  raisedBy: { personId: string; pressId: string } | null;
  /** A linked incident's origin, and the groups its organisation chose for the link (its recipients besides the leads). */
  linkedFrom: { from: LinkedFrom; groupIds: string[] } | null;
  /** Who decided to raise it when someone other than the presser did (a lead confirming a held linked alarm). */
  decidedBy?: string;
}

export interface OpenedIncident {
  incident: Incident;
  instruction: SiteInstruction | null;
  recipients: RecipientRow[];
  events: NewEvent[];
}

/**
 * Inserts the incident with its type snapshot (and press), freezes its recipients, and builds its
 * first events: `raised` (with the previous instruction when what people must do changed) and
 * `recipients_computed`; the site's other active incidents get `instruction_changed`. The caller holds
 * the site's lock and has checked the contradiction.
 */
export async function openIncident(tx: Queryable, opening: IncidentOpening): Promise<OpenedIncident> {
  const { site, type, drill, at, before, contradiction, raisedBy, linkedFrom } = opening;
  const { id } = (await tx.query<{ id: string }>(RAISE_SQL.insertIncident, [
    site.organisationId, site.id, type.id, drill, JSON.stringify(type), opening.location, opening.message, raisedBy?.personId ?? null, at,
    linkedFrom ? JSON.stringify(linkedFrom.from) : null, raisedBy?.pressId ?? null,
  ])).rows[0] as { id: string };
  const reach: Reach = raisedBy ? { presserId: raisedBy.personId } : { linkGroupIds: linkedFrom?.groupIds ?? [] };
  const recipients = await insertRecipients(tx, { id, organisationId: site.organisationId, siteId: site.id, alarmTypeId: type.id }, reach);
  const incident = await loadIncident(tx, id, { recipients: recipients.length });
  // Nothing was in force before (under the site's lock): the new incident is the site's instruction.
  const after = before === null ? onlyInstruction(incident) : await siteInstruction(tx, site.id);
  const event = eventOf(incident, raisedBy?.personId ?? opening.decidedBy ?? null, at);
  // A change of what people must do is never silent (invariant 5): the new incident's people see it in
  // `raised` (previous instruction and whether it was a confirmed contradiction); the people of the
  // site's other active incidents get `instruction_changed` on theirs.
  const changed = before !== null && (contradiction || !sameInstruction(before, after));
  const events = [
    event('raised', 'all', { incident: incidentSummary(incident), instruction: after, ...(changed ? { previous: before, contradiction } : {}) }),
    event('recipients_computed', 'leads', { targeted: recipients.length, leads: recipients.filter((r) => r.lead).length, instruction: after }),
  ];
  if (changed) {
    for (const other of await otherActiveIncidents(tx, site.id, incident.id)) {
      events.push({ ...event('instruction_changed', 'all', { previous: before, instruction: after, contradiction, cause: incident.id }), incidentId: other.id, drill: other.drill });
    }
  }
  return { incident, instruction: after, recipients, events };
}

async function replay(tx: Tx, principal: Principal, pressId: string): Promise<Incident | null> {
  const press = (await tx.query<{ incident_id: string; person_id: string }>(RAISE_SQL.pressById, [pressId])).rows[0];
  if (!press) return null;
  if (press.person_id !== principal.personId) throw new AppError('conflict', bilingual('Det här tryck-id:t används redan.', 'This press id is already used.'));
  return loadIncident(tx, press.incident_id);
}

async function authorise(tx: Tx, principal: Principal, input: RaiseRequest): Promise<{ site: Site; type: AlarmTypeSnapshot }> {
  const site = await visibleSite(tx, principal, input.siteId);
  const type = await usableAlarmType(tx, input.alarmTypeId, site.organisationId);
  if (!type) throw new AppError('invalid_reference', bilingual('Larmtypen finns inte för den här platsen.', 'No such alarm type for this site.'));
  if (!canRaiseAlarm(principal, site, await mayRaiseViaGroup(tx, principal.personId, site.id, type.id))) {
    throw new AppError('forbidden', bilingual('Du får inte larma detta här.', 'You may not raise this alarm here.'));
  }
  if (input.drill && !canRunDrill(principal, site)) {
    throw new AppError('forbidden', bilingual('Bara krisledare och rektorer får starta övningar.', 'Only crisis leads and rektorer may start drills.'));
  }
  return { site, type };
}

async function join(
  tx: Tx, deps: AlarmDeps, principal: Principal, input: RaiseRequest, active: SameActive, now: Date,
  contradiction: boolean,
): Promise<Decision> {
  const withinWindow = now.getTime() - active.lastPressedAt.getTime() <= deps.config.ALARM_JOIN_WINDOW_SECONDS * 1000;
  // Alerting everyone again with an alarm that contradicts what they were told needs the same confirmation as raising it.
  if (!withinWindow && contradiction && !input.confirmContradiction) {
    throw new AppError('contradicts_instruction', undefined, { current: await siteInstruction(tx, input.siteId) });
  }
  await tx.query(RAISE_SQL.insertPress, [input.pressId, active.id, principal.personId, input.location ?? null, input.message ?? null, now]);
  await tx.query(RAISE_SQL.touchIncident, [active.id, now]);
  const incident = await loadIncident(tx, active.id);
  const added = await addPresser(tx, incident, principal.personId);
  const instruction = await siteInstruction(tx, incident.siteId);
  // Within the window a press only joins; after it, a new press may mean new danger: alert everyone again.
  const outcome = withinWindow ? 'joined' : 'reraised';
  const data = { incident: incidentSummary(incident), pressedBy: principal.personId, location: input.location ?? null, instruction };
  const events = [eventOf(incident, principal.personId, now)(outcome, withinWindow ? 'leads' : 'all', data)];
  return { outcome, incident, instruction, change: { events }, ...(added ? { joined: principal.personId } : {}) };
}
