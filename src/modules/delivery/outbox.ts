import type { Queryable } from '../../db/pool.js';
import type { DeliveryKind, PushPayload } from './payload.js';
import { incidentTopic } from './payload.js';

/**
 * A push to many devices at once. `targets` selects every device to reach (person_id, subscription_id, origin,
 * language); each payload ($3 Swedish, $4 English) is written once, and only in a language someone needs, and
 * every row refers to the one in its person's language (migration 017, ADR 032). $1 incident, $2 kind, $5 topic,
 * $6 TTL in seconds, $7 now.
 */
const queueToDevices = (targets: string) => `
    WITH target AS (${targets}
    ), payload AS (
      INSERT INTO push_payloads (incident_id, language, payload)
      SELECT $1, v.language, v.payload FROM (VALUES ('sv', $3::jsonb), ('en', $4::jsonb)) AS v (language, payload)
       WHERE v.language IN (SELECT language FROM target)
      RETURNING id, language
    )
    INSERT INTO deliveries (incident_id, person_id, subscription_id, channel, kind, origin, payload_id, topic, ttl_seconds, due_at, expires_at)
    SELECT $1, t.person_id, t.subscription_id, 'push', $2, t.origin, pl.id, $5, $6::int, $7, $7::timestamptz + make_interval(secs => $6::int)
      FROM target t JOIN payload pl ON pl.language = t.language`;

/**
 * The outbox: one row per recipient x device x channel and message. Rows are written in the same
 * transaction as the change that causes them, so a committed alarm always has its pushes queued,
 * and workers on every node send them.
 */
export const OUTBOX_SQL = {
  // Every live push subscription of the incident's recipients (but the one who caused it). One row per
  // subscription even if the person is a recipient twice over.
  enqueueForRecipients: queueToDevices(`
      SELECT r.person_id, ps.id AS subscription_id, ps.origin, CASE WHEN p.language = 'en' THEN 'en' ELSE 'sv' END AS language
        FROM alarm_recipients r
        JOIN people p ON p.id = r.person_id AND p.active
        JOIN push_subscriptions ps ON ps.person_id = r.person_id
        JOIN live_sessions s ON s.id = ps.session_id
       WHERE r.incident_id = $1 AND r.person_id IS DISTINCT FROM $8
         AND ($9::uuid[] IS NULL OR r.person_id = ANY($9))`),
  enqueueForPeople: queueToDevices(`
      SELECT p.id AS person_id, ps.id AS subscription_id, ps.origin, CASE WHEN p.language = 'en' THEN 'en' ELSE 'sv' END AS language
        FROM people p
        JOIN push_subscriptions ps ON ps.person_id = p.id
        JOIN live_sessions s ON s.id = ps.session_id
       WHERE p.id = ANY($8::uuid[]) AND p.active`),
  enqueueForSubscription: `
    INSERT INTO deliveries (person_id, subscription_id, channel, kind, origin, payload, topic, ttl_seconds, due_at, expires_at)
    SELECT ps.person_id, ps.id, 'push', 'test', ps.origin, CASE WHEN p.language = 'en' THEN $3::jsonb ELSE $2::jsonb END,
           NULL, $4::int, $5, $5::timestamptz + make_interval(secs => $4::int)
      FROM push_subscriptions ps JOIN people p ON p.id = ps.person_id WHERE ps.id = $1
    RETURNING id`,
  enqueueSms: `
    INSERT INTO deliveries (incident_id, person_id, channel, kind, origin, address, payload, ttl_seconds, due_at, expires_at)
    VALUES ($1, $2, 'sms', 'escalation', $3, $4, $5, $6::int, $7, $7::timestamptz + make_interval(secs => $6::int))`,
  // At all clear or cancel, nothing queued about the incident before it is sent any more: a late
  // alarm, reminder or instruction would replace the all clear on the phone (they share a tag).
  cancelAlerts: `
    UPDATE deliveries SET state = 'cancelled', last_error = 'incident ended', finished_at = $2, claim = NULL
     WHERE incident_id = $1 AND state = 'queued' AND kind <> 'all_clear'`,
  // A newer instruction about the incident makes a queued older one (say, one waiting out a retry) stale.
  supersedeInstructions: `
    UPDATE deliveries SET state = 'cancelled', last_error = 'superseded by a newer instruction', finished_at = $2, claim = NULL
     WHERE incident_id = $1 AND state = 'queued' AND kind = 'instruction'`,
  // Claims due rows: queued ones, and ones whose sender's lease ran out (a node died mid-send).
  // SKIP LOCKED: nodes claiming at once take different rows. While sending, due_at is the lease's end.
  claim: `
    WITH due AS (
      SELECT id FROM deliveries
       WHERE state IN ('queued', 'sending') AND due_at <= $1 AND origin <> ALL($2::text[])
       ORDER BY due_at, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE deliveries d SET state = 'sending', attempts = d.attempts + 1, claim = $4, claimed_by = $5,
             due_at = $1::timestamptz + make_interval(secs => $6::double precision / 1000)
        FROM due WHERE d.id = due.id
      RETURNING d.id, d.incident_id, d.person_id, d.subscription_id, d.channel, d.kind, d.origin, d.address, d.payload,
                d.payload_id, d.topic, d.ttl_seconds, d.attempts, d.expires_at, d.created_at
    )
    SELECT c.id, c.incident_id, c.person_id, c.channel, c.kind, c.origin, c.address, coalesce(c.payload, pl.payload) AS payload,
           c.topic, c.ttl_seconds,
           c.attempts, c.expires_at, c.subscription_id, ps.endpoint, ps.p256dh, ps.auth,
           i.state AS incident_state, i.organisation_id, i.site_id, i.drill,
           -- Confirmed since this push was queued: a re-raised alarm reaches even those who confirmed the first.
           coalesce(r.delivered_at >= c.created_at, false) AS confirmed,
           -- A newer alarm, reminder, instruction or all clear of the incident was accepted for this device
           -- under the same Topic: sending this one (an alarm waiting out a retry, or left by a node that
           -- died) would replace it at the push service. A newer one still being sent may yet fail: not yet.
           EXISTS (SELECT 1 FROM deliveries n
                    WHERE n.incident_id = c.incident_id AND n.person_id = c.person_id AND n.subscription_id = c.subscription_id
                      AND n.topic = c.topic AND n.id > c.id AND n.state = 'sent'
                      AND n.kind IN ('alarm', 'reminder', 'instruction', 'all_clear')) AS superseded
      FROM claimed c
      -- The address only while the subscription is still this person's: a push queued before the endpoint
      -- moved to someone else is not sent. (A session that ends deletes its subscription: migration 005.)
      LEFT JOIN push_subscriptions ps ON ps.id = c.subscription_id AND ps.person_id = c.person_id
      LEFT JOIN push_payloads pl ON pl.id = c.payload_id
      LEFT JOIN alarm_incidents i ON i.id = c.incident_id
      LEFT JOIN alarm_recipients r ON r.incident_id = c.incident_id AND r.person_id = c.person_id`,
  // Keeps claims alive while their node sends them and writes their outcomes (only where the claim is still its own).
  renew: `
    UPDATE deliveries d SET due_at = $3::timestamptz + make_interval(secs => $4::double precision / 1000)
      FROM unnest($1::bigint[], $2::uuid[]) AS h(id, claim)
     WHERE d.id = h.id AND d.claim = h.claim AND d.state = 'sending'`,
  // Gives back claimed rows this node will not start now (their push service is busy here).
  release: `
    UPDATE deliveries SET state = 'queued', attempts = attempts - 1, due_at = $2, claim = NULL, claimed_by = NULL
     WHERE id = ANY($1::bigint[]) AND claim = $3`,
  // Records outcomes; the claim token fences off a node whose lease ran out meanwhile.
  finish: `
    UPDATE deliveries d SET state = f.state::delivery_state, due_at = coalesce(f.due_at, d.due_at), last_status = f.status,
           last_error = f.error, finished_at = CASE WHEN f.state = 'queued' THEN NULL ELSE f.at END, claim = NULL
      FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::uuid[], $7::timestamptz[])
           AS f(id, state, due_at, status, error, claim, at)
     WHERE d.id = f.id AND d.claim = f.claim
    RETURNING d.id`,
  supersedeQueued: `
    UPDATE deliveries SET state = 'cancelled', last_error = 'superseded by a newer push under its topic', finished_at = $3, claim = NULL
     WHERE topic = $1 AND kind = $2 AND state = 'queued'`,
  // Only the subscription that the push service said is gone (404/410).
  removeSubscriptions: 'DELETE FROM push_subscriptions WHERE id = ANY($1::uuid[])',
  markSuccess: 'UPDATE push_subscriptions SET last_success_at = $2 WHERE id = ANY($1::uuid[])',
} as const;

/** A claimed row with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  incident_id: string | null;
  person_id: string | null;
  channel: 'push' | 'sms';
  kind: DeliveryKind;
  origin: string;
  address: string | null;
  payload: PushPayload;
  topic: string | null;
  ttl_seconds: number;
  attempts: number;
  expires_at: Date;
  subscription_id: string | null;
  endpoint: string | null;
  p256dh: string | null;
  auth: string | null;
  incident_state: 'active' | 'resolved' | 'cancelled' | null;
  organisation_id: string | null;
  site_id: string | null;
  drill: boolean | null;
  confirmed: boolean | null;
  superseded: boolean;
}

export interface IncidentPush {
  incidentId: string;
  kind: DeliveryKind;
  payloads: { sv: PushPayload; en: PushPayload };
  ttlSeconds: number;
  now: Date;
  /** Who caused it (they know already); null: nobody to leave out. */
  exceptPersonId: string | null;
  /** Only these recipients (reminders to the unreached); null: every recipient. */
  onlyPersonIds?: string[] | null;
}

/** Queues one push per live subscription of the incident's recipients; returns how many. */
export async function enqueueIncidentPush(tx: Queryable, push: IncidentPush): Promise<number> {
  const result = await tx.query(OUTBOX_SQL.enqueueForRecipients, [
    push.incidentId, push.kind, JSON.stringify(push.payloads.sv), JSON.stringify(push.payloads.en),
    incidentTopic(push.incidentId), push.ttlSeconds, push.now, push.exceptPersonId, push.onlyPersonIds ?? null,
  ]);
  return result.rowCount ?? 0;
}

/**
 * Queues a push about an incident to people who need not be its recipients (escalation contacts, the
 * people at a site whose instruction changed). `topic`: the push service keeps only the newest push under
 * it for a phone that is off (default: the incident's and kind's).
 */
export async function enqueuePeoplePush(
  tx: Queryable, push: Omit<IncidentPush, 'exceptPersonId' | 'onlyPersonIds'> & { personIds: string[]; topic?: string },
): Promise<number> {
  if (push.personIds.length === 0) return 0;
  const result = await tx.query(OUTBOX_SQL.enqueueForPeople, [
    push.incidentId, push.kind, JSON.stringify(push.payloads.sv), JSON.stringify(push.payloads.en),
    push.topic ?? incidentTopic(push.incidentId, push.kind), push.ttlSeconds, push.now, push.personIds,
  ]);
  return result.rowCount ?? 0;
}

/** A newer push under `topic` makes any older one of its kind still queued (waiting out a retry) stale. */
export async function supersedeQueued(tx: Queryable, topic: string, kind: DeliveryKind, now: Date): Promise<number> {
  return (await tx.query(OUTBOX_SQL.supersedeQueued, [topic, kind, now])).rowCount ?? 0;
}
