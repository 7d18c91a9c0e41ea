import type { MessageRequest, ResponseRequest } from '../../contract/alarms.js';
import type { Queryable } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { canCancelIncident, canEndIncident, canSendInstruction, type Principal } from '../auth/policies.js';
import { changeIncident } from './change.js';
import type { AlarmDeps } from './deps.js';
import type { IncidentEvent, NewEvent } from './events.js';
import { incidentSummary, loadIncident, type Incident } from './incidents.js';
import { otherActiveIncidents, sameInstruction, siteInstruction } from './instruction.js';
import { receiptEvents } from './receipts.js';
import { recipientOf } from './recipients.js';

const DURING_SQL = {
  insertResponse: `
    INSERT INTO incident_responses (incident_id, person_id, status, text, location, at)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
  insertMessage: `
    INSERT INTO incident_messages (incident_id, author_id, kind, body, at) VALUES ($1, $2, $3, $4, $5)
    RETURNING id, (SELECT name FROM people WHERE id = $2) AS author_name`,
  end: `
    UPDATE incidents SET state = $2, ended_at = $3, ended_by = $4, end_reason = $5
     WHERE id = $1 AND state = 'active'`,
} as const;

const site = (i: { siteId: string; organisationId: string }) => ({ id: i.siteId, organisationId: i.organisationId });

/** "I'm safe" / "I need help" / "Not on site": every change is kept; the leads see it at once. */
export async function respond(deps: AlarmDeps, principal: Principal, incidentId: string, input: ResponseRequest): Promise<IncidentEvent[]> {
  const { events } = await changeIncident(deps, principal, incidentId, { whenEnded: 'refuse' }, async ({ tx, incident, event, now }) => {
    if (!(await recipientOf(tx, incident.id, principal.personId))) {
      throw new AppError('forbidden', { sv: 'Bara de som larmet nådde kan svara på det.', en: 'Only people the alarm reached can answer it.' });
    }
    const { id } = (await tx.query<{ id: string }>(DURING_SQL.insertResponse, [
      incident.id, principal.personId, input.status, input.text ?? null, input.location ?? null, now,
    ])).rows[0] as { id: string };
    // An answer proves the alarm was seen: it counts as delivered and acknowledged.
    const seen = await receiptEvents(tx, [{
      incidentId: incident.id, personId: principal.personId, sessionId: principal.sessionId, deviceId: `session:${principal.sessionId}`,
      kind: 'acknowledged', channel: 'response', at: now,
    }]);
    return {
      result: null,
      events: [
        ...seen.events,
        event('responded', 'leads', { responseId: id, personId: principal.personId, status: input.status, text: input.text ?? null, location: input.location ?? null }),
      ],
    };
  });
  return events;
}

/** An instruction from a lead reaches everyone; a reply from anyone reaches the leads. */
export async function sendMessage(deps: AlarmDeps, principal: Principal, incidentId: string, input: MessageRequest): Promise<IncidentEvent[]> {
  const { events } = await changeIncident(deps, principal, incidentId, { whenEnded: 'refuse' }, async ({ tx, incident, now }) => {
    if (input.kind === 'instruction' && !canSendInstruction(principal, site(incident))) {
      throw new AppError('forbidden', { sv: 'Bara krisledare och rektorer skickar instruktioner.', en: 'Only crisis leads and rektorer send instructions.' });
    }
    if (input.kind === 'reply' && !(await recipientOf(tx, incident.id, principal.personId))) {
      throw new AppError('forbidden', { sv: 'Bara de som larmet nådde kan svara.', en: 'Only people the alarm reached can reply.' });
    }
    return { result: null, events: [await postMessage(tx, incident, { ...input, authorId: principal.personId, actorPersonId: principal.personId, at: now })] };
  });
  return events;
}

/**
 * Stores a message and builds its event: an instruction goes to everyone, a reply to the leads. The
 * actor is its author, or nobody when a link carries a source's instruction to a linked incident.
 */
export async function postMessage(
  tx: Queryable, incident: Incident, message: MessageRequest & { authorId: string; actorPersonId: string | null; at: Date },
): Promise<NewEvent> {
  const { id, author_name: authorName } = (await tx.query<{ id: string; author_name: string }>(
    DURING_SQL.insertMessage, [incident.id, message.authorId, message.kind, message.body, message.at],
  )).rows[0] as { id: string; author_name: string };
  return {
    incidentId: incident.id, organisationId: incident.organisationId, siteId: incident.siteId, drill: incident.drill,
    type: message.kind === 'instruction' ? 'message' : 'reply', audience: message.kind === 'instruction' ? 'all' : 'leads', actorPersonId: message.actorPersonId, at: message.at,
    data: { messageId: id, authorId: message.authorId, authorName, body: message.body, instruction: await siteInstruction(tx, incident.siteId) },
  };
}

/**
 * All clear (faran över) or cancel (false alarm, with a reason): only the site's leads, only once.
 * The site's instruction is derived again and everyone sees it.
 */
export async function endIncident(
  deps: AlarmDeps, principal: Principal, incidentId: string, input: { outcome: 'resolved' | 'cancelled'; reason?: string | null },
): Promise<IncidentEvent[]> {
  const { events } = await changeIncident(deps, principal, incidentId, { whenEnded: 'refuse' }, async ({ tx, incident, now }) => {
    if (!canEndIncident(principal, site(incident))) {
      throw new AppError('forbidden', { sv: 'Bara krisledare och rektorer får avsluta ett larm.', en: 'Only crisis leads and rektorer may end an alarm.' });
    }
    const pressedIt = incident.pressers.some((p) => p.personId === principal.personId);
    if (input.outcome === 'cancelled' && !canCancelIncident(principal, site(incident), pressedIt)) {
      throw new AppError('forbidden', { sv: 'Någon annan än den som larmade måste återkalla larmet.', en: 'Someone other than who raised the alarm must cancel it.' });
    }
    if (input.outcome === 'cancelled' && !input.reason) {
      throw new AppError('validation_failed', { sv: 'Skriv varför larmet återkallas.', en: 'Say why the alarm is cancelled.' });
    }
    return { result: null, events: await closeIncident(tx, incident, { outcome: input.outcome, reason: input.reason ?? null, endedBy: principal.personId, at: now }) };
  });
  return events;
}

/**
 * Ends an active incident (resolved or cancelled) and builds the events: the end for everyone, and
 * `instruction_changed` for the site's other incidents when what people must do changed. `endedBy` is
 * null when a link ended it (the source's all clear). Nothing when it had already ended.
 */
export async function closeIncident(
  tx: Queryable, incident: Incident, end: { outcome: 'resolved' | 'cancelled'; reason: string | null; endedBy: string | null; at: Date },
): Promise<NewEvent[]> {
  const before = await siteInstruction(tx, incident.siteId);
  const closed = await tx.query(DURING_SQL.end, [incident.id, end.outcome, end.at, end.endedBy, end.reason]);
  if (!closed.rowCount) return [];
  const after = await siteInstruction(tx, incident.siteId);
  const event = (type: NewEvent['type'], data: Record<string, unknown>, on: { id: string; drill: boolean } = incident): NewEvent => ({
    incidentId: on.id, organisationId: incident.organisationId, siteId: incident.siteId, drill: on.drill,
    type, audience: 'all', actorPersonId: end.endedBy, data, at: end.at,
  });
  // Who declared it and when travel with it: every all clear says so.
  const ended = event(end.outcome, { incident: incidentSummary(await loadIncident(tx, incident.id)), reason: end.reason, instruction: after });
  if (sameInstruction(before, after)) return [ended];
  // The people of the site's other alarms were told the instruction that no longer holds.
  const others = await otherActiveIncidents(tx, incident.siteId, incident.id);
  return [ended, ...others.map((other) => event('instruction_changed', { previous: before, instruction: after, contradiction: false, cause: incident.id }, other))];
}
