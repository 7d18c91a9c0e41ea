import type { Queryable } from '../../db/pool.js';
import type { PushProgress } from '../alarms/deps.js';

const PROGRESS_SQL = {
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

/** What Web Push did for each recipient of an incident: what the roll call shows for those not reached. */
export async function pushProgress(db: Queryable, incidentId: string): Promise<Map<string, PushProgress>> {
  const rows = (await db.query<PushProgress & { personId: string }>(PROGRESS_SQL.pushes, [incidentId])).rows;
  return new Map(rows.map(({ personId, ...progress }) => [personId, progress]));
}
