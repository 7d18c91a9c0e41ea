import type { Queryable } from '../../db/pool.js';
import type { IncidentHeading } from './incidents.js';

/**
 * Incidents as personal data: blanking their free text and deleting them when their organisation's
 * period ends, a person's part in them for their export, and erasing what a person wrote. The
 * timeline and the answers are append-only: they change only through the retention functions of
 * migration 009, which re-check that each incident has ended before the bound.
 */

// Incidents that ended before $1 (and, below, are among $2); used by every statement of a batch.
const DUE = 'SELECT id FROM incidents WHERE id = ANY($1::uuid[]) AND state <> \'active\' AND ended_at < $2';

const ALARM_RETENTION_SQL = {
  deleteDeliveryAttempts: 'SELECT retention_delete_delivery_attempts($1)::int AS n',
  // Served by the partial index incidents_texts_due_idx.
  dueForBlanking: `
    SELECT id, organisation_id AS "organisationId" FROM incidents
     WHERE texts_blanked_at IS NULL AND ended_at < $1 ORDER BY ended_at, id LIMIT $2`,
  blankTimeline: 'SELECT retention_blank_timeline_texts($1::uuid[], $2)::int AS n',
  blankPresses: `
    UPDATE incident_presses SET location = NULL, message = NULL
     WHERE incident_id IN (${DUE}) AND (location IS NOT NULL OR message IS NOT NULL)`,
  // A reply is nothing but its text; the timeline keeps that one was sent, and when.
  deleteReplies: `DELETE FROM incident_messages WHERE incident_id IN (${DUE}) AND kind = 'reply'`,
  markBlanked: `
    UPDATE incidents SET location = NULL, message = NULL, texts_blanked_at = $3
     WHERE id IN (${DUE}) AND texts_blanked_at IS NULL
    RETURNING id, organisation_id AS "organisationId"`,
  // raised_at <= ended_at: the (organisation_id, raised_at) index narrows the search.
  dueForDeletion: `
    SELECT id FROM incidents
     WHERE organisation_id = $1 AND raised_at < $2 AND state <> 'active' AND ended_at < $2
     ORDER BY raised_at, id LIMIT $3`,
  deleteTimelines: 'SELECT retention_delete_timelines($1::uuid[], $2)::int AS n',
  deleteReceipts: `DELETE FROM incident_receipts WHERE incident_id IN (${DUE})`,
  deleteRecipients: `DELETE FROM incident_recipients WHERE incident_id IN (${DUE})`,
  deleteMessages: `DELETE FROM incident_messages WHERE incident_id IN (${DUE})`,
  deletePresses: `DELETE FROM incident_presses WHERE incident_id IN (${DUE})`,
  deleteIncidents: `DELETE FROM incidents WHERE id IN (${DUE}) RETURNING id`,
  // Who a kept incident refers to by person: its recipients (pressers are recipients), who ended it,
  // who wrote in it. Scans incidents and messages for the given people; run per retention batch.
  named: `
    SELECT DISTINCT x.id FROM (
      SELECT person_id AS id FROM incident_recipients WHERE person_id = ANY($1::uuid[])
      UNION ALL SELECT ended_by FROM incidents WHERE ended_by = ANY($1::uuid[])
      UNION ALL SELECT author_id FROM incident_messages WHERE author_id = ANY($1::uuid[])
    ) x`,
  inActiveIncident: `
    SELECT 1 FROM incident_recipients r JOIN incidents i ON i.id = r.incident_id AND i.state = 'active'
     WHERE r.person_id = $1 LIMIT 1`,
  blankPersonTimeline: 'SELECT retention_blank_person_texts($1)::int AS n',
  blankPersonPresses: `
    UPDATE incident_presses p SET location = NULL, message = NULL
      FROM incidents i
     WHERE i.id = p.incident_id AND i.state <> 'active' AND p.person_id = $1 AND (p.location IS NOT NULL OR p.message IS NOT NULL)`,
  deletePersonReplies: `
    DELETE FROM incident_messages m USING incidents i
     WHERE i.id = m.incident_id AND i.state <> 'active' AND m.author_id = $1 AND m.kind = 'reply'`,
  // A person's part in incidents, for their export. The incidents they were targeted by (index on
  // recipients), ended, or wrote in (scans incidents and messages: exports are rare).
  incidentsOf: `
    SELECT i.id, i.site_id AS "siteId", s.name AS "siteName", i.type_snapshot->>'key' AS "typeKey",
           i.type_snapshot->'label' AS "typeLabel", i.drill, i.state, i.raised_at AS "raisedAt", i.ended_at AS "endedAt",
           r.person_id IS NOT NULL AS targeted, coalesce(r.lead, false) AS lead,
           r.delivered_at AS "deliveredAt", r.acknowledged_at AS "acknowledgedAt",
           i.raised_by = $1 AS "raisedByThem", coalesce(i.ended_by = $1, false) AS "endedByThem"
      FROM incidents i
      JOIN sites s ON s.id = i.site_id
      LEFT JOIN incident_recipients r ON r.incident_id = i.id AND r.person_id = $1
     WHERE r.person_id IS NOT NULL OR i.ended_by = $1
        OR EXISTS (SELECT 1 FROM incident_messages m WHERE m.incident_id = i.id AND m.author_id = $1)
     ORDER BY i.raised_at, i.id`,
  pressesOf: `
    SELECT press_id AS "pressId", incident_id AS "incidentId", location, message, pressed_at AS "at"
      FROM incident_presses WHERE incident_id = ANY($2::uuid[]) AND person_id = $1 ORDER BY pressed_at, press_id`,
  responsesOf: `
    SELECT incident_id AS "incidentId", status, text, location, at
      FROM incident_responses WHERE incident_id = ANY($2::uuid[]) AND person_id = $1 ORDER BY at, id`,
  receiptsOf: `
    SELECT incident_id AS "incidentId", device_id AS "deviceId", kind, channel, at
      FROM incident_receipts WHERE incident_id = ANY($2::uuid[]) AND person_id = $1 ORDER BY at, device_id, kind`,
  messagesOf: `
    SELECT id, incident_id AS "incidentId", kind, body, at
      FROM incident_messages WHERE incident_id = ANY($2::uuid[]) AND author_id = $1 ORDER BY at, id`,
  // What they did, as the timeline recorded it (type and time: the data may name others).
  eventsOf: `
    SELECT incident_id AS "incidentId", type, at
      FROM incident_events
     WHERE incident_id = ANY($2::uuid[]) AND actor_person_id = $1 AND audience IN ('all', 'leads') ORDER BY id`,
} as const;

const n = (result: { rows: { n: number }[] }): number => result.rows[0]?.n ?? 0;

/** Deletes the record of every push and SMS attempt older than `bound`. */
export async function deleteDeliveryAttempts(tx: Queryable, bound: Date): Promise<number> {
  return n(await tx.query<{ n: number }>(ALARM_RETENTION_SQL.deleteDeliveryAttempts, [bound]));
}

export interface IncidentRef {
  id: string;
  organisationId: string;
}

/** Incidents that ended before `bound` and still hold their free text, oldest first. */
export async function incidentsDueForBlanking(db: Queryable, bound: Date, limit: number): Promise<IncidentRef[]> {
  return (await db.query<IncidentRef>(ALARM_RETENTION_SQL.dueForBlanking, [bound, limit])).rows;
}

/**
 * Blanks the location texts and free-text answers of incidents that ended before `bound`: the
 * incident's own, every press's, every answer's, the replies, and their copies in the timeline.
 * Returns the incidents blanked and how many rows changed in all.
 */
export async function blankIncidentTexts(
  tx: Queryable, incidentIds: string[], bound: Date, at: Date,
): Promise<{ incidents: IncidentRef[]; rows: number }> {
  if (incidentIds.length === 0) return { incidents: [], rows: 0 };
  const timeline = n(await tx.query<{ n: number }>(ALARM_RETENTION_SQL.blankTimeline, [incidentIds, bound]));
  const presses = (await tx.query(ALARM_RETENTION_SQL.blankPresses, [incidentIds, bound])).rowCount ?? 0;
  const replies = (await tx.query(ALARM_RETENTION_SQL.deleteReplies, [incidentIds, bound])).rowCount ?? 0;
  const incidents = (await tx.query<IncidentRef>(ALARM_RETENTION_SQL.markBlanked, [incidentIds, bound, at])).rows;
  return { incidents, rows: timeline + presses + replies + incidents.length };
}

/** An organisation's incidents that ended before `bound`, oldest first. */
export async function incidentsDueForDeletion(db: Queryable, organisationId: string, bound: Date, limit: number): Promise<string[]> {
  return (await db.query<{ id: string }>(ALARM_RETENTION_SQL.dueForDeletion, [organisationId, bound, limit])).rows.map((r) => r.id);
}

/**
 * Deletes incidents that ended before `bound` with everything of theirs in this module: timeline,
 * answers, receipts, recipients, messages, presses. Their deliveries must be gone first.
 */
export async function deleteIncidents(tx: Queryable, incidentIds: string[], bound: Date): Promise<{ incidents: number; events: number }> {
  if (incidentIds.length === 0) return { incidents: 0, events: 0 };
  const params = [incidentIds, bound];
  const events = n(await tx.query<{ n: number }>(ALARM_RETENTION_SQL.deleteTimelines, params));
  await tx.query(ALARM_RETENTION_SQL.deleteReceipts, params);
  await tx.query(ALARM_RETENTION_SQL.deleteRecipients, params);
  await tx.query(ALARM_RETENTION_SQL.deleteMessages, params);
  await tx.query(ALARM_RETENTION_SQL.deletePresses, params);
  const incidents = (await tx.query(ALARM_RETENTION_SQL.deleteIncidents, params)).rowCount ?? 0;
  return { incidents, events };
}

/** Which of these people an incident still refers to: their name must stay while it is kept. */
export async function peopleNamedInIncidents(db: Queryable, personIds: string[]): Promise<Set<string>> {
  if (personIds.length === 0) return new Set();
  return new Set((await db.query<{ id: string }>(ALARM_RETENTION_SQL.named, [personIds])).rows.map((r) => r.id));
}

/** An active incident still needs the person's answers and devices. */
export async function inActiveIncident(db: Queryable, personId: string): Promise<boolean> {
  return ((await db.query(ALARM_RETENTION_SQL.inActiveIncident, [personId])).rowCount ?? 0) > 0;
}

/**
 * Erasure: what the person wrote in ended incidents (their answers' text and location, their
 * replies, their presses' location and message) is blanked, here and in the timeline.
 */
export async function blankPersonTexts(tx: Queryable, personId: string): Promise<number> {
  const timeline = n(await tx.query<{ n: number }>(ALARM_RETENTION_SQL.blankPersonTimeline, [personId]));
  const presses = (await tx.query(ALARM_RETENTION_SQL.blankPersonPresses, [personId])).rowCount ?? 0;
  const replies = (await tx.query(ALARM_RETENTION_SQL.deletePersonReplies, [personId])).rowCount ?? 0;
  return timeline + presses + replies;
}

export interface IncidentPart extends IncidentHeading {
  endedAt: Date | null;
  targeted: boolean;
  lead: boolean;
  deliveredAt: Date | null;
  acknowledgedAt: Date | null;
  raisedByThem: boolean;
  endedByThem: boolean;
}

export interface IncidentsOfPerson {
  incidents: IncidentPart[];
  presses: { pressId: string; incidentId: string; location: string | null; message: string | null; at: Date }[];
  responses: { incidentId: string; status: string; text: string | null; location: string | null; at: Date }[];
  receipts: { incidentId: string; deviceId: string; kind: string; channel: string; at: Date }[];
  messages: { id: string; incidentId: string; kind: string; body: string; at: Date }[];
  timeline: { incidentId: string; type: string; at: Date }[];
}

/** Everything the alarm path holds about one person, and nothing others wrote. */
export async function incidentsOfPerson(db: Queryable, personId: string): Promise<IncidentsOfPerson> {
  const incidents = (await db.query<IncidentPart>(ALARM_RETENTION_SQL.incidentsOf, [personId])).rows;
  const params = [personId, incidents.map((i) => i.id)];
  return {
    incidents,
    presses: (await db.query<IncidentsOfPerson['presses'][number]>(ALARM_RETENTION_SQL.pressesOf, params)).rows,
    responses: (await db.query<IncidentsOfPerson['responses'][number]>(ALARM_RETENTION_SQL.responsesOf, params)).rows,
    receipts: (await db.query<IncidentsOfPerson['receipts'][number]>(ALARM_RETENTION_SQL.receiptsOf, params)).rows,
    messages: (await db.query<IncidentsOfPerson['messages'][number]>(ALARM_RETENTION_SQL.messagesOf, params)).rows,
    timeline: (await db.query<IncidentsOfPerson['timeline'][number]>(ALARM_RETENTION_SQL.eventsOf, params)).rows,
  };
}
