import type { EventEnvelope, EventType } from '../../contract/alarms.js';
import type { Queryable, Tx } from '../../db/pool.js';
import type { Principal } from '../auth/policies.js';
import { visibleIncident } from './incidents.js';
import type { SiteInstruction } from './instruction.js';

/**
 * Who sees an event live and on catch-up: every recipient, or only the incident's leads (and its
 * actor). Review events are never sent to devices; they are in the timeline for the review.
 */
export type Audience = 'all' | 'leads' | 'review';

export interface NewEvent {
  incidentId: string;
  organisationId: string;
  siteId: string;
  /** The incident is a drill: every event says so (invariant 8). */
  drill: boolean;
  type: EventType;
  audience: Audience;
  actorPersonId: string | null;
  data: Record<string, unknown>;
  /** When it happened, by the app's clock (tests inject theirs): the review's figures are built from these times. */
  at: Date;
}

/** An event as stored and as sent to devices; `id` is the catch-up cursor. */
export interface IncidentEvent extends NewEvent {
  id: string;
  data: Record<string, unknown> & { instruction?: SiteInstruction | null };
  at: Date;
}

// Any constant, the same on every node: serialises event inserts so ids commit in order.
const EVENT_ORDER_LOCK = 4_711_113;

const EVENT_COLUMNS = `id, incident_id AS "incidentId", organisation_id AS "organisationId", site_id AS "siteId", drill, type,
  audience, actor_person_id AS "actorPersonId", data, at`;

const EVENT_SQL = {
  // The events for devices, under the ordering lock ($10), taken in the same round trip: the lock is a row the
  // events are joined with, so it is held before the first event's id is drawn (test/timeline-order.test.ts).
  insertOrdered: `
    INSERT INTO incident_events (incident_id, organisation_id, site_id, drill, type, audience, actor_person_id, data, at)
    SELECT e.* FROM (SELECT pg_advisory_xact_lock($10)) AS ordered,
           unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::boolean[], $5::text[], $6::event_audience[], $7::uuid[], $8::jsonb[],
                  $9::timestamptz[]) AS e
    RETURNING ${EVENT_COLUMNS}`,
  insert: `
    INSERT INTO incident_events (incident_id, organisation_id, site_id, drill, type, audience, actor_person_id, data, at)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::boolean[], $5::text[], $6::event_audience[], $7::uuid[], $8::jsonb[],
                         $9::timestamptz[])
    RETURNING ${EVENT_COLUMNS}`,
  // Catch-up for one person, in one round trip and one snapshot: where the timeline is (its epoch and
  // latest cursor, as `position` below) and the events after the device's cursor ($2) in incidents
  // they were targeted by, unless the cursor is from another epoch ($4) or beyond the latest. Leads
  // see every event devices may see, others the ones for everyone and their own. Each of the three is
  // read apart, by an index that holds only it (migration 018): the leads' events of an alarm are its
  // receipts, thousands, and a colleague who is not a lead needs their own one or two of them. The
  // recipients (person_id, incident_id) index finds the incidents; a device already at the latest
  // position (every device's 20 s sync while nothing happens) probes none of them. With no events, one
  // row of nulls.
  since: `
    WITH position AS (
      SELECT (SELECT epoch::text FROM timeline_epoch) AS epoch,
             (SELECT coalesce(max(id), 0) FROM incident_events WHERE audience IN ('all', 'leads')) AS id
    )
    SELECT position.epoch AS "positionEpoch", position.id::text AS "positionId", missed.*
      FROM position
      LEFT JOIN LATERAL (
        SELECT e.*
          FROM incident_recipients r
          CROSS JOIN LATERAL (
            SELECT ${EVENT_COLUMNS} FROM incident_events e
             WHERE e.incident_id = r.incident_id AND e.id > $2::bigint AND e.audience = 'all'
            UNION ALL
            SELECT ${EVENT_COLUMNS} FROM incident_events e
             WHERE e.incident_id = r.incident_id AND e.id > $2::bigint AND e.audience = 'leads' AND r.lead
            UNION ALL
            SELECT ${EVENT_COLUMNS} FROM incident_events e
             WHERE e.incident_id = r.incident_id AND e.actor_person_id = $1 AND e.id > $2::bigint AND e.audience = 'leads' AND NOT r.lead
          ) e
         WHERE r.person_id = $1 AND position.epoch = $4 AND $2::bigint < position.id
         ORDER BY e.id
         LIMIT $3
      ) missed ON true
     ORDER BY missed.id`,
  // Review events are inserted without the ordering lock: a cursor must never be one of them, or an
  // alarm event with a lower id still committing would fall behind it.
  // The latest cursor, with the epoch it belongs to (ADR 029).
  position: `
    SELECT (SELECT epoch::text FROM timeline_epoch) AS epoch,
           (SELECT coalesce(max(id), 0)::text FROM incident_events WHERE audience IN ('all', 'leads')) AS id`,
  newEpoch: 'UPDATE timeline_epoch SET epoch = gen_random_uuid() RETURNING epoch::text AS epoch',
  // $2: only these types, or NULL for all (a roll call reads its escalation steps without every delivery attempt).
  forIncident: `SELECT ${EVENT_COLUMNS} FROM incident_events WHERE incident_id = $1 AND ($2::text[] IS NULL OR type = ANY($2)) ORDER BY id`,
  latestAlert: `SELECT ${EVENT_COLUMNS} FROM incident_events WHERE incident_id = $1 AND type IN ('raised', 'reraised') ORDER BY id DESC LIMIT 1`,
} as const;

/**
 * Appends events to the timeline. Call it last in the transaction: the lock it takes is held
 * until commit, which is what keeps cursor order equal to commit order.
 */
export async function appendEvents(tx: Tx, events: NewEvent[]): Promise<IncidentEvent[]> {
  if (events.length === 0) return [];
  return (await tx.query<IncidentEvent>(EVENT_SQL.insertOrdered, [...columns(events, (e) => e.audience), EVENT_ORDER_LOCK])).rows;
}

const columns = (events: NewEvent[], audience: (e: NewEvent) => Audience) => [
  events.map((e) => e.incidentId), events.map((e) => e.organisationId), events.map((e) => e.siteId), events.map((e) => e.drill),
  events.map((e) => e.type), events.map(audience), events.map((e) => e.actorPersonId), events.map((e) => JSON.stringify(e.data)),
  events.map((e) => e.at),
];

/**
 * Appends review-only events (delivery attempts). They are never cursors for devices, so they need
 * not wait for the ordering lock that alarms hold.
 */
export async function appendReviewEvents(db: Queryable, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(EVENT_SQL.insert, columns(events, () => 'review'));
}

/** What a device receives for an event. */
export function envelope(e: IncidentEvent): EventEnvelope {
  return {
    id: e.id, incidentId: e.incidentId, siteId: e.siteId, type: e.type, drill: e.drill,
    actorPersonId: e.actorPersonId, at: new Date(e.at).toISOString(), data: e.data,
  };
}

/** Where the timeline is: its epoch and the latest cursor in it. */
export interface TimelinePosition { epoch: string; id: string }

type MissedRow = { positionEpoch: string; positionId: string } & ({ [K in keyof IncidentEvent]: IncidentEvent[K] } | { [K in keyof IncidentEvent]: null });

/**
 * Where the timeline is, and up to `limit` events a person missed after a device's cursor, read
 * together: none when the cursor is from another epoch or beyond the latest (the caller resyncs).
 */
export async function eventsSince(
  db: Queryable, personId: string, device: { cursor: string; epoch: string | null }, limit: number,
): Promise<{ position: TimelinePosition; events: IncidentEvent[] }> {
  const rows = (await db.query<MissedRow>(EVENT_SQL.since, [personId, device.cursor, limit, device.epoch])).rows;
  const first = rows[0] as MissedRow;
  const events: IncidentEvent[] = [];
  // The position's columns are left out of each event (rest siblings).
  for (const { positionEpoch, positionId, ...event } of rows) if (event.id !== null) events.push(event);
  return { position: { epoch: first.positionEpoch, id: first.positionId }, events };
}

export async function timelinePosition(db: Queryable): Promise<TimelinePosition> {
  return (await db.query<TimelinePosition>(EVENT_SQL.position)).rows[0] as TimelinePosition;
}

/**
 * Starts a new epoch: every cursor devices hold becomes unknown, and each device resyncs on its next
 * catch-up. The restore procedure's step (npm run db:new-epoch): a restored database reuses event ids.
 */
export async function startNewEpoch(db: Queryable): Promise<string> {
  return ((await db.query<{ epoch: string }>(EVENT_SQL.newEpoch)).rows[0] as { epoch: string }).epoch;
}

export async function incidentTimeline(db: Queryable, incidentId: string, types: readonly string[] | null = null): Promise<IncidentEvent[]> {
  return (await db.query<IncidentEvent>(EVENT_SQL.forIncident, [incidentId, types])).rows;
}

/** The event that last alerted everyone of an incident: what a replayed press sends again. */
export async function latestAlertEvents(db: Queryable, incidentId: string): Promise<IncidentEvent[]> {
  return (await db.query<IncidentEvent>(EVENT_SQL.latestAlert, [incidentId])).rows;
}

/** An incident's timeline as the caller may read it: leads everything devices may see; others what went to everyone and their own. */
export async function timelineFor(db: Queryable, principal: Principal, incidentId: string, types: readonly EventType[] | null): Promise<IncidentEvent[]> {
  const { incident, lead } = await visibleIncident(db, principal, incidentId);
  const events = await incidentTimeline(db, incident.id, types);
  return lead ? events : events.filter((e) => e.audience === 'all' || e.actorPersonId === principal.personId);
}
