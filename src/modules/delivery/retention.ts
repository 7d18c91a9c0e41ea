import type { Queryable } from '../../db/pool.js';

/**
 * The outbox, escalation steps and push subscriptions as personal data: how long they are kept,
 * what a person's export shows of them, and what erasing a person removes.
 */
const DELIVERY_RETENTION_SQL = {
  // Finished rows, and rows that can no longer be sent (past their TTL), created before the bound.
  // Scans deliveries (no index on its creation time); once per retention run.
  deleteOld: `
    DELETE FROM deliveries
     WHERE created_at < $1 AND (state NOT IN ('queued', 'sending') OR expires_at < $1)`,
  // An alarm's payloads (migration 017) once no row refers to them: only the statement that wrote one ever refers
  // to it, so nothing can start referring to it later. Scans deliveries once (no index on payload_id).
  deleteOldPayloads: `
    DELETE FROM push_payloads p
     WHERE p.created_at < $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.payload_id = p.id)`,
  deleteOldSteps: "DELETE FROM escalation_steps WHERE state IN ('done', 'cancelled') AND finished_at < $1",
  // Before an incident is blanked or deleted: its pushes carry its location text, escalation SMS the names of the unreached.
  forgetIncidentDeliveries: 'DELETE FROM deliveries WHERE incident_id = ANY($1::uuid[])',
  forgetIncidentPayloads: 'DELETE FROM push_payloads WHERE incident_id = ANY($1::uuid[])',
  forgetIncidentSteps: 'DELETE FROM escalation_steps WHERE incident_id = ANY($1::uuid[])',
  forgetPersonSubscriptions: 'DELETE FROM push_subscriptions WHERE person_id = $1',
  forgetPersonDeliveries: 'DELETE FROM deliveries WHERE person_id = $1',
  // The address of a push (the endpoint) and its keys are left out: whoever has them can send to the device.
  subscriptionsOf: `
    SELECT id, session_id AS "sessionId", origin, created_at AS "createdAt", updated_at AS "updatedAt",
           last_success_at AS "lastSuccessAt", expires_at AS "expiresAt"
      FROM push_subscriptions WHERE person_id = $1 ORDER BY created_at, id`,
  // Not the payloads: they carry what others wrote (locations, messages, the names of the unreached).
  // Scans deliveries for the person (the index leads with the incident); exports are rare.
  deliveriesTo: `
    SELECT id, incident_id AS "incidentId", channel, kind, CASE WHEN channel = 'sms' THEN address END AS "smsTo",
           state, attempts, created_at AS "createdAt", finished_at AS "finishedAt", report AS "smsReport", reported_at AS "smsReportedAt"
      FROM deliveries WHERE person_id = $1 ORDER BY id`,
} as const;

export interface StoredSubscription {
  id: string;
  sessionId: string;
  origin: string;
  createdAt: Date;
  updatedAt: Date;
  lastSuccessAt: Date | null;
  expiresAt: Date | null;
}

export interface StoredDelivery {
  id: string;
  incidentId: string | null;
  channel: 'push' | 'sms';
  kind: string;
  smsTo: string | null;
  state: string;
  attempts: number;
  createdAt: Date;
  finishedAt: Date | null;
  /** What the SMS gateway reported of an SMS (ADR 025). */
  smsReport: 'delivered' | 'failed' | null;
  smsReportedAt: Date | null;
}

const count = (result: { rowCount: number | null }): number => result.rowCount ?? 0;

/** Deletes outbox rows (and the payloads they leave unused) and finished escalation steps older than `bound`. */
export async function deleteOldDeliveries(tx: Queryable, bound: Date): Promise<{ deliveries: number; escalationSteps: number }> {
  const deliveries = count(await tx.query(DELIVERY_RETENTION_SQL.deleteOld, [bound]));
  await tx.query(DELIVERY_RETENTION_SQL.deleteOldPayloads, [bound]);
  return { deliveries, escalationSteps: count(await tx.query(DELIVERY_RETENTION_SQL.deleteOldSteps, [bound])) };
}

/** Deletes every outbox row, push payload and escalation step of these incidents (ended ones, about to be blanked or deleted). */
export async function forgetIncidentDeliveries(tx: Queryable, incidentIds: string[]): Promise<{ deliveries: number; escalationSteps: number }> {
  if (incidentIds.length === 0) return { deliveries: 0, escalationSteps: 0 };
  const deliveries = count(await tx.query(DELIVERY_RETENTION_SQL.forgetIncidentDeliveries, [incidentIds]));
  await tx.query(DELIVERY_RETENTION_SQL.forgetIncidentPayloads, [incidentIds]);
  return { deliveries, escalationSteps: count(await tx.query(DELIVERY_RETENTION_SQL.forgetIncidentSteps, [incidentIds])) };
}

/** Erasure: the person's push subscriptions and every push or SMS queued or sent to them. */
export async function forgetPersonDeliveries(tx: Queryable, personId: string): Promise<{ pushSubscriptions: number; deliveries: number }> {
  return {
    pushSubscriptions: count(await tx.query(DELIVERY_RETENTION_SQL.forgetPersonSubscriptions, [personId])),
    deliveries: count(await tx.query(DELIVERY_RETENTION_SQL.forgetPersonDeliveries, [personId])),
  };
}

export async function deliveryDataOf(db: Queryable, personId: string): Promise<{ pushSubscriptions: StoredSubscription[]; deliveries: StoredDelivery[] }> {
  return {
    pushSubscriptions: (await db.query<StoredSubscription>(DELIVERY_RETENTION_SQL.subscriptionsOf, [personId])).rows,
    deliveries: (await db.query<StoredDelivery>(DELIVERY_RETENTION_SQL.deliveriesTo, [personId])).rows,
  };
}
