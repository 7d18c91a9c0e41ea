import { AppError } from '../../lib/errors.js';
import { canCancelIncident, canEndIncident, canSendInstruction, type Principal } from '../auth/policies.js';
import { changeIncident } from './change.js';
import type { IncidentEvent } from './events.js';
import { incidentSummary } from './incidents.js';
import { otherActiveIncidents, sameInstruction } from './instruction.js';
import type { AlarmDeps } from './raise.js';
import { receiptEvents } from './receipts.js';

export const DURING_SQL = {
  insertResponse: `
    INSERT INTO incident_responses (incident_id, person_id, status, text, location, at)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
  insertMessage: `
    INSERT INTO incident_messages (incident_id, author_id, kind, body, at) VALUES ($1, $2, $3, $4, $5)
    RETURNING id, (SELECT name FROM people WHERE id = $2) AS author_name`,
  isRecipient: 'SELECT 1 FROM incident_recipients WHERE incident_id = $1 AND person_id = $2',
  end: `
    UPDATE incidents SET state = $2, ended_at = $3, ended_by = $4, end_reason = $5
     WHERE id = $1 AND state = 'active'
    RETURNING (SELECT name FROM people WHERE id = $4) AS "endedByName"`,
} as const;

export type ResponseStatus = 'safe' | 'need_help' | 'not_on_site';

const site = (i: { siteId: string; organisationId: string }) => ({ id: i.siteId, organisationId: i.organisationId });

/** "I'm safe" / "I need help" / "Not on site": every change is kept; the leads see it at once. */
export async function respond(
  deps: AlarmDeps, principal: Principal, incidentId: string,
  input: { status: ResponseStatus; text?: string | null; location?: string | null },
): Promise<IncidentEvent[]> {
  const { events } = await changeIncident(deps, principal, incidentId, { whenEnded: 'refuse' }, async ({ tx, incident, event }) => {
    if (!(await tx.query(DURING_SQL.isRecipient, [incident.id, principal.personId])).rowCount) {
      throw new AppError('forbidden', 'Only people the alarm reached can answer it.');
    }
    const now = deps.clock.now();
    const { id } = (await tx.query<{ id: string }>(DURING_SQL.insertResponse, [
      incident.id, principal.personId, input.status, input.text ?? null, input.location ?? null, now,
    ])).rows[0] as { id: string };
    // An answer proves the alarm was seen: it counts as delivered and acknowledged.
    const seen = await receiptEvents(tx, [{
      incidentId: incident.id, personId: principal.personId, deviceId: `session:${principal.sessionId}`,
      kind: 'acknowledged', channel: 'response', at: now,
    }]);
    return {
      result: null,
      events: [
        ...seen,
        event('responded', 'leads', { responseId: id, personId: principal.personId, status: input.status, text: input.text ?? null, location: input.location ?? null }),
      ],
    };
  });
  return events;
}

/** An instruction from a lead reaches everyone; a reply from anyone reaches the leads. */
export async function sendMessage(
  deps: AlarmDeps, principal: Principal, incidentId: string, input: { kind: 'instruction' | 'reply'; body: string },
): Promise<IncidentEvent[]> {
  const { events } = await changeIncident(deps, principal, incidentId, { whenEnded: 'refuse' }, async ({ tx, incident, event, instruction }) => {
    if (input.kind === 'instruction' && !canSendInstruction(principal, site(incident))) {
      throw new AppError('forbidden', 'Only crisis leads and rektorer send instructions.');
    }
    if (input.kind === 'reply' && !(await tx.query(DURING_SQL.isRecipient, [incident.id, principal.personId])).rowCount) {
      throw new AppError('forbidden', 'Only people the alarm reached can reply.');
    }
    const { id, author_name: authorName } = (await tx.query<{ id: string; author_name: string }>(
      DURING_SQL.insertMessage, [incident.id, principal.personId, input.kind, input.body, deps.clock.now()],
    )).rows[0] as { id: string; author_name: string };
    const data = { messageId: id, authorId: principal.personId, authorName, body: input.body, instruction: await instruction() };
    return { result: null, events: [event(input.kind === 'instruction' ? 'message' : 'reply', input.kind === 'instruction' ? 'all' : 'leads', data)] };
  });
  return events;
}

/**
 * All clear (faran över) or cancel (false alarm, with a reason): only the site's leads, only once.
 * The site's instruction is derived again and everyone sees it.
 */
export async function endIncident(
  deps: AlarmDeps, principal: Principal, incidentId: string, input: { outcome: 'resolved' | 'cancelled'; reason?: string | null },
): Promise<IncidentEvent[]> {
  const { events } = await changeIncident(deps, principal, incidentId, { whenEnded: 'refuse' }, async ({ tx, incident, event, instruction }) => {
    if (!canEndIncident(principal, site(incident))) throw new AppError('forbidden', 'Only crisis leads and rektorer may end an alarm.');
    const pressedIt = incident.pressers.some((p) => p.personId === principal.personId);
    if (input.outcome === 'cancelled' && !canCancelIncident(principal, site(incident), pressedIt)) {
      throw new AppError('forbidden', 'Someone other than who raised the alarm must cancel it.');
    }
    if (input.outcome === 'cancelled' && !input.reason) throw new AppError('validation_failed', 'Say why the alarm is cancelled.');
    const before = await instruction();
    const endedAt = deps.clock.now();
    const { endedByName } = (await tx.query<{ endedByName: string }>(DURING_SQL.end, [
      incident.id, input.outcome, endedAt, principal.personId, input.reason ?? null,
    ])).rows[0] as { endedByName: string };
    const after = await instruction();
    // Every all clear says who declared it and when.
    const summary = {
      ...incidentSummary(incident), state: input.outcome, endedAt: endedAt.toISOString(), endedBy: { id: principal.personId, name: endedByName },
    };
    const ended = event(input.outcome, 'all', { incident: summary, reason: input.reason ?? null, instruction: after });
    if (sameInstruction(before, after)) return { result: null, events: [ended] };
    // The people of the site's other alarms were told the instruction that no longer holds.
    const change = event('instruction_changed', 'all', { previous: before, instruction: after, contradiction: false, cause: incident.id });
    const others = await otherActiveIncidents(tx, incident.siteId, incident.id);
    return { result: null, events: [ended, ...others.map((other) => ({ ...change, incidentId: other }))] };
  });
  return events;
}
