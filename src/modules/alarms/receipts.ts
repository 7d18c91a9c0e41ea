import type { Queryable } from '../../db/pool.js';
import type { ReceiptKind } from '../../contract/alarms.js';
import { Batcher } from '../../lib/batcher.js';
import { AppError } from '../../lib/errors.js';
import type { AlarmDeps } from './deps.js';
import type { NewEvent } from './events.js';

export interface Receipt {
  incidentId: string;
  personId: string;
  /** The session it came through: a receipt counts only while that session is live (checked with its batch). */
  sessionId: string;
  deviceId: string;
  kind: ReceiptKind;
  /** socket and push: a device confirmed; response: the person answered, which proves they saw it. */
  channel: 'socket' | 'push' | 'response';
  at: Date;
}

/** Sets the person's first time of a kind where it is still empty; returns those it set. */
function firstOf(column: 'delivered_at' | 'acknowledged_at'): string {
  return `
    UPDATE incident_recipients r SET ${column} = t.at
      FROM (SELECT incident_id, person_id, min(at) AS at
              FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(incident_id, person_id, at) GROUP BY 1, 2) t,
           incidents i
     WHERE r.incident_id = t.incident_id AND r.person_id = t.person_id AND r.${column} IS NULL AND i.id = r.incident_id
    RETURNING r.incident_id, r.person_id, i.organisation_id, i.site_id, i.drill, r.${column} AS at`;
}

const RECEIPT_SQL = {
  // Only receipts of people the incident targeted count (the others are reported back as not found), and
  // only through a session still live of a person still active (the others: unauthenticated), checked here
  // for the whole batch rather than once per receipt before it; insert-only, so nothing moves backwards.
  // Returns, for every receipt in order, whether its session is live and whether it counts.
  insert: `
    WITH t AS (
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::receipt_kind[], $6::text[], $7::timestamptz[])
             WITH ORDINALITY AS t(incident_id, person_id, session_id, device_id, kind, channel, at, n)
    ), checked AS (
      SELECT t.*,
             EXISTS (SELECT 1 FROM live_sessions s JOIN people p ON p.id = s.person_id
                      WHERE s.id = t.session_id AND s.person_id = t.person_id AND p.active) AS live,
             EXISTS (SELECT 1 FROM incident_recipients r WHERE r.incident_id = t.incident_id AND r.person_id = t.person_id) AS recipient
        FROM t
    ), stored AS (
      INSERT INTO incident_receipts (incident_id, person_id, device_id, kind, channel, at)
      SELECT incident_id, person_id, device_id, kind, channel, at FROM checked WHERE live AND recipient
      ON CONFLICT DO NOTHING
    )
    SELECT live, live AND recipient AS counted FROM checked ORDER BY n`,
  // First receipt per person (an acknowledgement implies delivery): the time goes into delivered_at or acknowledged_at.
  firstDelivered: firstOf('delivered_at'),
  firstAcknowledged: firstOf('acknowledged_at'),
} as const;

interface FirstRow {
  incident_id: string;
  person_id: string;
  organisation_id: string;
  site_id: string;
  drill: boolean;
  at: Date;
}

/** What became of a receipt: written, refused because the incident did not target the person, or because its session has ended. */
export type ReceiptOutcome = 'counted' | 'not_recipient' | 'session_ended';

/**
 * Writes receipts in the caller's transaction; returns what became of each (it counts when its session is
 * live and the person a recipient of the incident) and the timeline events they cause: the first receipt
 * per person and kind.
 */
export async function receiptEvents(tx: Queryable, receipts: Receipt[]): Promise<{ outcomes: ReceiptOutcome[]; events: NewEvent[] }> {
  if (receipts.length === 0) return { outcomes: [], events: [] };
  const checked = (await tx.query<{ live: boolean; counted: boolean }>(RECEIPT_SQL.insert, [
    receipts.map((r) => r.incidentId), receipts.map((r) => r.personId), receipts.map((r) => r.sessionId), receipts.map((r) => r.deviceId),
    receipts.map((r) => r.kind), receipts.map((r) => r.channel), receipts.map((r) => r.at),
  ])).rows;
  const outcomes = checked.map((row): ReceiptOutcome => (!row.live ? 'session_ended' : row.counted ? 'counted' : 'not_recipient'));
  const valid = receipts.filter((_, i) => outcomes[i] === 'counted');
  if (valid.length === 0) return { outcomes, events: [] };
  const columns = (list: Receipt[]) => [list.map((r) => r.incidentId), list.map((r) => r.personId), list.map((r) => r.at)];
  const delivered = (await tx.query<FirstRow>(RECEIPT_SQL.firstDelivered, columns(valid))).rows;
  const acks = valid.filter((r) => r.kind === 'acknowledged');
  const acknowledged = acks.length ? (await tx.query<FirstRow>(RECEIPT_SQL.firstAcknowledged, columns(acks))).rows : [];
  const toEvent = (type: 'delivered' | 'acknowledged') => (row: FirstRow): NewEvent => ({
    incidentId: row.incident_id, organisationId: row.organisation_id, siteId: row.site_id, drill: row.drill,
    type, audience: 'leads', actorPersonId: row.person_id, data: { personId: row.person_id, at: row.at }, at: row.at,
  });
  return { outcomes, events: [...delivered.map(toEvent('delivered')), ...acknowledged.map(toEvent('acknowledged'))] };
}

/**
 * How long a node gathers receipts before it writes them. A batch's transaction costs PostgreSQL about as much
 * as its rows: gathered for 20 ms, the 5,000 receipts of an alarm came in about two hundred transactions and cost
 * PostgreSQL 1.9-2.7 s of processor time, more than the alarm itself; gathered for 200 ms, 0.7-0.8 s
 * (docs/PERFORMANCE.md, 2026-12-03 late evening). Nobody is kept waiting by it: the leads' counts go out at most
 * four times a second anyway, a device's receipt is answered well within its 10 s, and the first repush to
 * someone not reached is five seconds away at the least.
 */
const RECEIPT_GATHER_MS = 200;

/** While the database is away receipts wait in memory; past this many a device is told to try later. */
const MAX_PENDING_RECEIPTS = 50_000;

/**
 * Receipts arrive one per device per event, thousands within a second of an alarm; writing each in its own
 * transaction would queue them behind the timeline's ordering lock, and checking each one's session first
 * would be as many round trips competing with the alarm's own writes. A node gathers them for
 * RECEIPT_GATHER_MS and writes them together through the pipeline, their sessions checked in the same statement.
 * `add` resolves once the receipt is committed, with what became of it.
 */
export function receiptBuffer(deps: AlarmDeps): Batcher<Receipt, ReceiptOutcome> {
  return new Batcher<Receipt, ReceiptOutcome>({
    delayMs: RECEIPT_GATHER_MS,
    maxBatch: 2000,
    retryMs: 1000,
    maxPending: MAX_PENDING_RECEIPTS,
    write: async (batch) => (await deps.pipeline.run(async (tx) => {
      const { outcomes, events } = await receiptEvents(tx, batch);
      return { result: outcomes, change: { events } };
    }, 'schedule')).result,
    // Put back and retried: a receipt must not be lost to a database blip.
    onError: (err, receipts) => deps.log.warn({ err, receipts }, 'receipts not written; retrying'),
    overloaded: () => new AppError('database_unavailable'),
  });
}
