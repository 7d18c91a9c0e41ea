import type { Queryable } from '../../db/pool.js';
import type { PushProgress } from '../alarms/deps.js';
import { smsProgress, type SmsRowFacts } from './decisions.js';

const PROGRESS_SQL = {
  // Per person, what Web Push did: to how many devices, when a push service first accepted one (not a
  // receipt: the phone may be off), and how many reminders went out; and what became of the alarm's SMS to
  // someone without push (ADR 025). One pass over the incident's outbox rows.
  // Devices count only while their subscription exists: one a push service said is gone (410), or whose
  // session ended, is no device to wait for ("call them").
  pushes: `
    SELECT d.person_id AS "personId",
           count(DISTINCT ps.id)::int AS devices,
           min(d.finished_at) FILTER (WHERE d.channel = 'push' AND d.state = 'sent' AND d.kind IN ('alarm', 'reminder')) AS "acceptedAt",
           count(*) FILTER (WHERE d.channel = 'push' AND d.state = 'sent' AND d.kind = 'reminder')::int AS reminders,
           min(d.reported_at) FILTER (WHERE d.channel = 'sms' AND d.kind = 'alarm' AND d.report = 'delivered') AS "smsDeliveredAt",
           min(d.finished_at) FILTER (WHERE d.channel = 'sms' AND d.kind = 'alarm' AND d.state = 'sent'
                                        AND d.report IS DISTINCT FROM 'failed') AS "smsSentAt",
           bool_or(d.state IN ('queued', 'sending')) FILTER (WHERE d.channel = 'sms' AND d.kind = 'alarm') AS "smsPending",
           max(coalesce(d.reported_at, d.finished_at)) FILTER (WHERE d.channel = 'sms' AND d.kind = 'alarm'
                                        AND (d.state IN ('failed', 'gone') OR d.report = 'failed')) AS "smsFailedAt"
      FROM deliveries d
      LEFT JOIN push_subscriptions ps ON ps.id = d.subscription_id AND d.channel = 'push'
     WHERE d.incident_id = $1 AND d.person_id IS NOT NULL
     GROUP BY d.person_id`,
} as const;

/** What Web Push and the alarm's SMS did for each recipient of an incident: what the roll call shows for those not reached. */
export async function pushProgress(db: Queryable, incidentId: string): Promise<Map<string, PushProgress>> {
  const rows = (await db.query<Omit<PushProgress, 'sms'> & SmsRowFacts & { personId: string }>(PROGRESS_SQL.pushes, [incidentId])).rows;
  return new Map(rows.map(({ personId, devices, acceptedAt, reminders, ...sms }) => [personId, { devices, acceptedAt, reminders, sms: smsProgress(sms) }]));
}
