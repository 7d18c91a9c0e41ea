import type { Queryable } from '../../db/pool.js';
import type { IncidentHeading, IncidentState } from './incidents.js';
import type { AlarmTypeSnapshot } from '../alarm-types/alarm-types.js';

/**
 * Read access for the post-incident review (src/modules/review) to the tables the alarm path owns:
 * an incident as plain rows, every time as the app's clock recorded it. Nothing here writes.
 */

export interface ReviewIncident {
  id: string;
  organisationId: string;
  organisationName: string;
  organisationNumber: string | null;
  siteId: string;
  siteName: string;
  siteAddress: string | null;
  siteMunicipality: string | null;
  type: AlarmTypeSnapshot;
  drill: boolean;
  state: IncidentState;
  location: string | null;
  message: string | null;
  /** Null for a linked incident: nobody at this site pressed it (linkedFrom says where it came from). */
  raisedBy: { id: string; name: string } | null;
  raisedAt: Date;
  endedAt: Date | null;
  endedBy: { id: string; name: string } | null;
  endReason: string | null;
}

export interface ReviewPress { personId: string; name: string; pressedAt: Date; location: string | null; message: string | null }
export interface ReviewRecipient { personId: string; name: string; lead: boolean; viaGroups: string[]; deliveredAt: Date | null; acknowledgedAt: Date | null }
export interface ReviewReceipt { personId: string; deviceId: string; kind: 'delivered' | 'acknowledged'; channel: string; at: Date }
export interface ReviewResponse { id: string; personId: string; status: 'safe' | 'need_help' | 'not_on_site'; text: string | null; location: string | null; at: Date }
export interface ReviewMessage { id: string; authorId: string; authorName: string; kind: 'instruction' | 'reply'; body: string; at: Date }
export interface ReviewEvent { id: string; type: string; audience: string; actorPersonId: string | null; data: Record<string, unknown>; at: Date }
export interface ReviewDelivery {
  id: string; personId: string | null; channel: 'push' | 'sms'; kind: string; state: string; attempts: number;
  createdAt: Date; finishedAt: Date | null; lastStatus: number | null; lastError: string | null;
}
export interface ReviewEscalationStep { step: 'repush' | 'contacts'; round: number; dueAt: Date; state: string; finishedAt: Date | null }
/** Another incident that changed this one's instruction (raised over it, or ended under it). */
export interface ReviewCause { id: string; typeLabel: { sv: string; en: string }; drill: boolean; raisedAt: Date; endedAt: Date | null }
/** What a recipient's devices last reported: whether they block notifications. */
export interface ReviewDeviceReport { personId: string; pushDenied: boolean }

export interface IncidentReviewData {
  incident: ReviewIncident;
  presses: ReviewPress[];
  recipients: ReviewRecipient[];
  receipts: ReviewReceipt[];
  responses: ReviewResponse[];
  messages: ReviewMessage[];
  events: ReviewEvent[];
  deliveries: ReviewDelivery[];
  escalationSteps: ReviewEscalationStep[];
  causes: ReviewCause[];
  deviceReports: ReviewDeviceReport[];
  /** Names of the people the timeline mentions (actors, escalation contacts) who were not recipients. */
  people: { id: string; name: string }[];
}

export const REVIEW_DATA_SQL = {
  incident: `
    SELECT i.id, i.organisation_id AS "organisationId", o.name AS "organisationName", o.organisation_number AS "organisationNumber",
           i.site_id AS "siteId", s.name AS "siteName", s.address AS "siteAddress", s.municipality AS "siteMunicipality",
           i.type_snapshot AS type, i.drill, i.state, i.location, i.message,
           CASE WHEN rb.id IS NULL THEN NULL ELSE json_build_object('id', rb.id, 'name', rb.name) END AS "raisedBy", i.raised_at AS "raisedAt", i.ended_at AS "endedAt",
           CASE WHEN eb.id IS NULL THEN NULL ELSE json_build_object('id', eb.id, 'name', eb.name) END AS "endedBy",
           i.end_reason AS "endReason"
      FROM incidents i
      JOIN organisations o ON o.id = i.organisation_id
      JOIN sites s ON s.id = i.site_id
      LEFT JOIN people rb ON rb.id = i.raised_by
      LEFT JOIN people eb ON eb.id = i.ended_by
     WHERE i.id = $1`,
  presses: `
    SELECT ip.person_id AS "personId", p.name, ip.pressed_at AS "pressedAt", ip.location, ip.message
      FROM incident_presses ip JOIN people p ON p.id = ip.person_id
     WHERE ip.incident_id = $1 ORDER BY ip.pressed_at, ip.press_id`,
  recipients: `
    SELECT r.person_id AS "personId", p.name, r.lead, r.via_groups::text[] AS "viaGroups",
           r.delivered_at AS "deliveredAt", r.acknowledged_at AS "acknowledgedAt"
      FROM incident_recipients r JOIN people p ON p.id = r.person_id
     WHERE r.incident_id = $1 ORDER BY p.name, p.id`,
  receipts: `
    SELECT person_id AS "personId", device_id AS "deviceId", kind, channel, at
      FROM incident_receipts WHERE incident_id = $1 ORDER BY at, person_id, device_id, kind`,
  responses: `
    SELECT id, person_id AS "personId", status, text, location, at
      FROM incident_responses WHERE incident_id = $1 ORDER BY id`,
  messages: `
    SELECT m.id, m.author_id AS "authorId", p.name AS "authorName", m.kind, m.body, m.at
      FROM incident_messages m JOIN people p ON p.id = m.author_id
     WHERE m.incident_id = $1 ORDER BY m.at, m.id`,
  // Every event, delivery attempts included: one row per push attempt, so a large alarm's review
  // reads thousands of rows (served by the (incident_id, id) index).
  events: `
    SELECT id, type, audience::text AS audience, actor_person_id AS "actorPersonId", data, at
      FROM incident_events WHERE incident_id = $1 ORDER BY id`,
  deliveries: `
    SELECT id, person_id AS "personId", channel, kind, state::text AS state, attempts, created_at AS "createdAt",
           finished_at AS "finishedAt", last_status AS "lastStatus", last_error AS "lastError"
      FROM deliveries WHERE incident_id = $1 ORDER BY id`,
  escalationSteps: `
    SELECT step, round, due_at AS "dueAt", state, finished_at AS "finishedAt"
      FROM escalation_steps WHERE incident_id = $1 ORDER BY due_at, step, round`,
  causes: `
    SELECT id, json_build_object('sv', type_snapshot->'label'->>'sv', 'en', type_snapshot->'label'->>'en') AS "typeLabel",
           drill, raised_at AS "raisedAt", ended_at AS "endedAt"
      FROM incidents WHERE id = ANY($1::uuid[])`,
  // Device status lives on sessions (what each device last reported); only live sessions count.
  deviceReports: `
    SELECT person_id AS "personId", bool_or(push_permission = 'denied') AS "pushDenied"
      FROM sessions
     WHERE person_id = ANY($1::uuid[]) AND revoked_at IS NULL AND push_permission IS NOT NULL
     GROUP BY person_id`,
  people: 'SELECT id, name FROM people WHERE id = ANY($1::uuid[]) AND organisation_id = $2',
} as const;

/** The incident and everything recorded about it, or null when there is no such incident. */
export async function incidentReviewData(db: Queryable, incidentId: string): Promise<IncidentReviewData | null> {
  const incident = (await db.query<ReviewIncident>(REVIEW_DATA_SQL.incident, [incidentId])).rows[0];
  if (!incident) return null;
  const rows = async <T extends object>(sql: string) => (await db.query<T>(sql, [incidentId])).rows;
  const [presses, recipients, receipts, responses, messages, events, deliveries, escalationSteps] = await Promise.all([
    rows<ReviewPress>(REVIEW_DATA_SQL.presses),
    rows<ReviewRecipient>(REVIEW_DATA_SQL.recipients),
    rows<ReviewReceipt>(REVIEW_DATA_SQL.receipts),
    rows<ReviewResponse>(REVIEW_DATA_SQL.responses),
    rows<ReviewMessage>(REVIEW_DATA_SQL.messages),
    rows<ReviewEvent>(REVIEW_DATA_SQL.events),
    rows<ReviewDelivery>(REVIEW_DATA_SQL.deliveries),
    rows<ReviewEscalationStep>(REVIEW_DATA_SQL.escalationSteps),
  ]);
  const causeIds = [...new Set(events.flatMap((e) => (typeof e.data.cause === 'string' && e.data.cause !== incidentId ? [e.data.cause] : [])))];
  const mentioned = [...new Set(events.flatMap((e) => [
    e.actorPersonId,
    ...(Array.isArray(e.data.contacts) ? (e.data.contacts as { personId?: string | null }[]).map((c) => c.personId ?? null) : []),
  ]).filter((id): id is string => id !== null && !recipients.some((r) => r.personId === id)))];
  const [causes, deviceReports, people] = await Promise.all([
    causeIds.length ? db.query<ReviewCause>(REVIEW_DATA_SQL.causes, [causeIds]).then((r) => r.rows) : [],
    db.query<ReviewDeviceReport>(REVIEW_DATA_SQL.deviceReports, [recipients.map((r) => r.personId)]).then((r) => r.rows),
    mentioned.length ? db.query<{ id: string; name: string }>(REVIEW_DATA_SQL.people, [mentioned, incident.organisationId]).then((r) => r.rows) : [],
  ]);
  return { incident, presses, recipients, receipts, responses, messages, events, deliveries, escalationSteps, causes, deviceReports, people };
}

/** One incident's facts for statistics: who was to be reached and when they were. */
export interface StatisticsIncident extends IncidentHeading {
  /** Recipients who did not press the alarm themselves, with when their first device confirmed and when they acknowledged. */
  people: { deliveredAt: string | null; acknowledgedAt: string | null; pushed: boolean }[];
}

export const STATISTICS_DATA_SQL = {
  // Expensive: one row per incident with its recipients aggregated (a year of a large organisation's
  // incidents, each with hundreds of recipients). Bounded by the time range and $5 incidents.
  incidents: `
    SELECT i.id, i.site_id AS "siteId", s.name AS "siteName", i.type_snapshot->>'key' AS "typeKey",
           json_build_object('sv', i.type_snapshot->'label'->>'sv', 'en', i.type_snapshot->'label'->>'en') AS "typeLabel",
           i.drill, i.state, i.raised_at AS "raisedAt",
           coalesce((
             SELECT json_agg(json_build_object(
                      'deliveredAt', r.delivered_at, 'acknowledgedAt', r.acknowledged_at,
                      'pushed', EXISTS (SELECT 1 FROM deliveries d WHERE d.incident_id = r.incident_id AND d.person_id = r.person_id
                                          AND d.channel = 'push' AND d.kind = 'alarm')))
               FROM incident_recipients r
              WHERE r.incident_id = i.id
                AND NOT EXISTS (SELECT 1 FROM incident_presses ip WHERE ip.incident_id = i.id AND ip.person_id = r.person_id)
           ), '[]') AS people
      FROM incidents i JOIN sites s ON s.id = i.site_id
     WHERE i.organisation_id = $1
       AND ($2::uuid[] IS NULL OR i.site_id = ANY($2))
       AND i.raised_at >= $3 AND i.raised_at < $4
     ORDER BY i.raised_at
     LIMIT $5`,
} as const;

/** Incidents of an organisation raised in [from, to), at the given sites (null: all), oldest first. */
export async function statisticsData(
  db: Queryable, organisationId: string, siteIds: string[] | null, from: Date, to: Date, limit: number,
): Promise<StatisticsIncident[]> {
  return (await db.query<StatisticsIncident>(STATISTICS_DATA_SQL.incidents, [organisationId, siteIds, from, to, limit])).rows;
}

/** Enough of an incident to decide who may review it. */
export interface IncidentScope { id: string; organisationId: string; siteId: string; recipient: boolean }

export const SCOPE_SQL = {
  byId: `
    SELECT i.id, i.organisation_id AS "organisationId", i.site_id AS "siteId",
           EXISTS (SELECT 1 FROM incident_recipients r WHERE r.incident_id = i.id AND r.person_id = $2) AS recipient
      FROM incidents i WHERE i.id = $1`,
} as const;

/** The incident's organisation and site, and whether the person was one of its recipients; null when there is none. */
export async function incidentScope(db: Queryable, incidentId: string, personId: string): Promise<IncidentScope | null> {
  return (await db.query<IncidentScope>(SCOPE_SQL.byId, [incidentId, personId])).rows[0] ?? null;
}
