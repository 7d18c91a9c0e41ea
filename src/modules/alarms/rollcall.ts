import type { Queryable } from '../../db/pool.js';

export interface RollCallEntry {
  personId: string;
  name: string;
  /** So that a lead can call someone who needs help or cannot be reached. */
  phone: string | null;
  lead: boolean;
  deliveredAt: Date | null;
  acknowledgedAt: Date | null;
  status: 'safe' | 'need_help' | 'not_on_site' | null;
  text: string | null;
  location: string | null;
  respondedAt: Date | null;
}

export interface RollCallSummary {
  targeted: number;
  delivered: number;
  acknowledged: number;
  safe: number;
  needHelp: number;
  notOnSite: number;
  noAnswer: number;
}

export const ROLLCALL_SQL = {
  // One row per targeted person with their latest response; a lateral lookup per person on the
  // (incident_id, person_id, id DESC) index.
  entries: `
    SELECT r.person_id AS "personId", p.name, p.phone, r.lead, r.delivered_at AS "deliveredAt", r.acknowledged_at AS "acknowledgedAt",
           lr.status, lr.text, lr.location, lr.at AS "respondedAt"
      FROM incident_recipients r
      JOIN people p ON p.id = r.person_id
      LEFT JOIN LATERAL (
        SELECT status, text, location, at FROM incident_responses x
         WHERE x.incident_id = r.incident_id AND x.person_id = r.person_id ORDER BY x.id DESC LIMIT 1
      ) lr ON true
     WHERE r.incident_id = $1
     ORDER BY (lr.status = 'need_help') DESC NULLS LAST, p.name, p.id`,
  // Per person, what Web Push did: to how many devices, when a push service first accepted one (not a
  // receipt: the phone may be off), and how many reminders went out. One pass over the incident's outbox rows.
  // Devices count only while their subscription exists: one a push service said is gone (410), or whose
  // session ended, is no device to wait for ("call them").
  pushes: `
    SELECT d.person_id AS "personId",
           count(DISTINCT ps.id)::int AS devices,
           min(d.finished_at) FILTER (WHERE d.state = 'sent' AND d.kind IN ('alarm', 'reminder')) AS "acceptedAt",
           count(*) FILTER (WHERE d.state = 'sent' AND d.kind = 'reminder')::int AS reminders
      FROM deliveries d
      LEFT JOIN push_subscriptions ps ON ps.id = d.subscription_id
     WHERE d.incident_id = $1 AND d.channel = 'push' AND d.person_id IS NOT NULL
     GROUP BY d.person_id`,
} as const;

export interface PushProgress {
  devices: number;
  acceptedAt: Date | null;
  reminders: number;
}

/** What Web Push did for each recipient of an incident, for the leads' roll call. */
export async function pushProgress(db: Queryable, incidentId: string): Promise<Map<string, PushProgress>> {
  const rows = (await db.query<PushProgress & { personId: string }>(ROLLCALL_SQL.pushes, [incidentId])).rows;
  return new Map(rows.map(({ personId, ...progress }) => [personId, progress]));
}

export async function rollCall(db: Queryable, incidentId: string): Promise<{ summary: RollCallSummary; people: RollCallEntry[] }> {
  const people = (await db.query<RollCallEntry>(ROLLCALL_SQL.entries, [incidentId])).rows;
  const count = (predicate: (e: RollCallEntry) => boolean) => people.filter(predicate).length;
  return {
    summary: {
      targeted: people.length,
      delivered: count((e) => e.deliveredAt !== null),
      acknowledged: count((e) => e.acknowledgedAt !== null),
      safe: count((e) => e.status === 'safe'),
      needHelp: count((e) => e.status === 'need_help'),
      notOnSite: count((e) => e.status === 'not_on_site'),
      noAnswer: count((e) => e.status === null),
    },
    people,
  };
}
