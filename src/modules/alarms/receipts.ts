import type { Queryable } from '../../db/pool.js';
import type { ReceiptKind } from '../../contract/alarms.js';
import { Batcher } from '../../lib/batcher.js';
import { AppError } from '../../lib/errors.js';
import type { AlarmDeps } from './deps.js';
import type { NewEvent } from './events.js';

export interface Receipt {
  incidentId: string;
  personId: string;
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
  // Only receipts of people the incident targeted count (the others are reported back as not found);
  // insert-only, so nothing moves backwards. Returns the position of every receipt that counts.
  insert: `
    WITH t AS (
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::receipt_kind[], $5::text[], $6::timestamptz[])
             WITH ORDINALITY AS t(incident_id, person_id, device_id, kind, channel, at, n)
    ), counted AS (
      SELECT t.* FROM t JOIN incident_recipients r ON r.incident_id = t.incident_id AND r.person_id = t.person_id
    ), stored AS (
      INSERT INTO incident_receipts (incident_id, person_id, device_id, kind, channel, at)
      SELECT incident_id, person_id, device_id, kind, channel, at FROM counted
      ON CONFLICT DO NOTHING
    )
    SELECT n::int FROM counted`,
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

/**
 * Writes receipts in the caller's transaction; returns which of them count (the person is a
 * recipient of the incident) and the timeline events they cause: the first receipt per person and kind.
 */
export async function receiptEvents(tx: Queryable, receipts: Receipt[]): Promise<{ counted: boolean[]; events: NewEvent[] }> {
  if (receipts.length === 0) return { counted: [], events: [] };
  const stored = (await tx.query<{ n: number }>(RECEIPT_SQL.insert, [
    receipts.map((r) => r.incidentId), receipts.map((r) => r.personId), receipts.map((r) => r.deviceId),
    receipts.map((r) => r.kind), receipts.map((r) => r.channel), receipts.map((r) => r.at),
  ])).rows;
  const countedAt = new Set(stored.map((row) => row.n));
  const counted = receipts.map((_, i) => countedAt.has(i + 1));
  const valid = receipts.filter((_, i) => counted[i]);
  if (valid.length === 0) return { counted, events: [] };
  const columns = (list: Receipt[]) => [list.map((r) => r.incidentId), list.map((r) => r.personId), list.map((r) => r.at)];
  const delivered = (await tx.query<FirstRow>(RECEIPT_SQL.firstDelivered, columns(valid))).rows;
  const acks = valid.filter((r) => r.kind === 'acknowledged');
  const acknowledged = acks.length ? (await tx.query<FirstRow>(RECEIPT_SQL.firstAcknowledged, columns(acks))).rows : [];
  const toEvent = (type: 'delivered' | 'acknowledged') => (row: FirstRow): NewEvent => ({
    incidentId: row.incident_id, organisationId: row.organisation_id, siteId: row.site_id, drill: row.drill,
    type, audience: 'leads', actorPersonId: row.person_id, data: { personId: row.person_id, at: row.at }, at: row.at,
  });
  return { counted, events: [...delivered.map(toEvent('delivered')), ...acknowledged.map(toEvent('acknowledged'))] };
}

/** While the database is away receipts wait in memory; past this many a device is told to try later. */
const MAX_PENDING_RECEIPTS = 50_000;

/**
 * Receipts arrive one per device per event; writing each in its own transaction would queue them
 * behind the timeline's ordering lock. A node gathers them for a few milliseconds and writes them
 * together through the pipeline. `add` resolves once the receipt is committed: true when it counts,
 * false when the incident did not target the person (the caller answers not found).
 */
export function receiptBuffer(deps: AlarmDeps): Batcher<Receipt, boolean> {
  return new Batcher<Receipt, boolean>({
    delayMs: 20,
    maxBatch: 2000,
    retryMs: 1000,
    maxPending: MAX_PENDING_RECEIPTS,
    write: async (batch) => (await deps.pipeline.run(async (tx) => {
      const { counted, events } = await receiptEvents(tx, batch);
      return { result: counted, change: { events } };
    }, 'schedule')).result,
    // Put back and retried: a receipt must not be lost to a database blip.
    onError: (err, receipts) => deps.log.warn({ err, receipts }, 'receipts not written; retrying'),
    overloaded: () => new AppError('database_unavailable'),
  });
}
