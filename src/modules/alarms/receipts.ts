import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/log.js';
import { appendEvents, type IncidentEvent, type NewEvent } from './events.js';

export interface Receipt {
  incidentId: string;
  personId: string;
  deviceId: string;
  kind: 'delivered' | 'acknowledged';
  /** socket and push: a device confirmed; response: the person answered, which proves they saw it. */
  channel: 'socket' | 'push' | 'response';
  at: Date;
}

export const RECEIPT_SQL = {
  // Only receipts of people the incident targeted count; insert-only, so nothing moves backwards.
  insert: `
    INSERT INTO incident_receipts (incident_id, person_id, device_id, kind, channel, at)
    SELECT t.incident_id, t.person_id, t.device_id, t.kind, t.channel, t.at
      FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::receipt_kind[], $5::text[], $6::timestamptz[])
           AS t(incident_id, person_id, device_id, kind, channel, at)
      JOIN incident_recipients r ON r.incident_id = t.incident_id AND r.person_id = t.person_id
    ON CONFLICT DO NOTHING`,
  // First receipt per person: an acknowledgement implies delivery.
  firstDelivered: `
    UPDATE incident_recipients r SET delivered_at = t.at
      FROM (SELECT incident_id, person_id, min(at) AS at
              FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(incident_id, person_id, at) GROUP BY 1, 2) t,
           incidents i
     WHERE r.incident_id = t.incident_id AND r.person_id = t.person_id AND r.delivered_at IS NULL AND i.id = r.incident_id
    RETURNING r.incident_id, r.person_id, i.organisation_id, i.site_id, r.delivered_at AS at`,
  firstAcknowledged: `
    UPDATE incident_recipients r SET acknowledged_at = t.at
      FROM (SELECT incident_id, person_id, min(at) AS at
              FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(incident_id, person_id, at) GROUP BY 1, 2) t,
           incidents i
     WHERE r.incident_id = t.incident_id AND r.person_id = t.person_id AND r.acknowledged_at IS NULL AND i.id = r.incident_id
    RETURNING r.incident_id, r.person_id, i.organisation_id, i.site_id, r.acknowledged_at AS at`,
} as const;

interface FirstRow {
  incident_id: string;
  person_id: string;
  organisation_id: string;
  site_id: string;
  at: Date;
}

/**
 * Writes receipts and returns the timeline events they cause: the first receipt per person and
 * kind. Call it inside the caller's transaction, before appending the events.
 */
export async function receiptEvents(tx: Queryable, receipts: Receipt[]): Promise<NewEvent[]> {
  if (receipts.length === 0) return [];
  await tx.query(RECEIPT_SQL.insert, [
    receipts.map((r) => r.incidentId), receipts.map((r) => r.personId), receipts.map((r) => r.deviceId),
    receipts.map((r) => r.kind), receipts.map((r) => r.channel), receipts.map((r) => r.at),
  ]);
  const columns = (list: Receipt[]) => [list.map((r) => r.incidentId), list.map((r) => r.personId), list.map((r) => r.at)];
  const delivered = (await tx.query<FirstRow>(RECEIPT_SQL.firstDelivered, columns(receipts))).rows;
  const acks = receipts.filter((r) => r.kind === 'acknowledged');
  const acknowledged = acks.length ? (await tx.query<FirstRow>(RECEIPT_SQL.firstAcknowledged, columns(acks))).rows : [];
  const toEvent = (type: 'delivered' | 'acknowledged') => (row: FirstRow): NewEvent => ({
    incidentId: row.incident_id, organisationId: row.organisation_id, siteId: row.site_id,
    type, audience: 'leads', actorPersonId: row.person_id, data: { personId: row.person_id, at: row.at },
  });
  return [...delivered.map(toEvent('delivered')), ...acknowledged.map(toEvent('acknowledged'))];
}

/** Records a batch of device receipts in one transaction. */
export async function recordReceipts(db: Db, receipts: Receipt[]): Promise<IncidentEvent[]> {
  if (receipts.length === 0) return [];
  return inTransaction(db, async (tx) => appendEvents(tx, await receiptEvents(tx, receipts)));
}

/**
 * Receipts arrive one per device per event; writing each in its own transaction would queue them
 * behind the timeline's ordering lock. A node gathers them for a few milliseconds and writes them
 * together. `add` resolves once the receipt is committed.
 */
const MAX_PENDING_RECEIPTS = 50_000;

export class ReceiptBuffer {
  private pending: { receipt: Receipt; done: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Log,
    private readonly onEvents: (events: IncidentEvent[]) => Promise<void>,
    private readonly delayMs = 20,
  ) {}

  add(receipt: Receipt): Promise<void> {
    // While the database is away receipts wait here; past a bound the device is told to try later.
    if (this.pending.length >= MAX_PENDING_RECEIPTS) return Promise.reject(new AppError('database_unavailable'));
    return new Promise((done) => {
      this.pending.push({ receipt, done });
      this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Writes what is pending; resolves when everything added before the call is written or re-queued. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        const events = await recordReceipts(this.db, batch.map((b) => b.receipt));
        for (const b of batch) b.done();
        await this.onEvents(events);
      } catch (err) {
        // Put them back: a receipt must not be lost to a database blip; the next flush retries.
        this.log.warn({ err, receipts: batch.length }, 'receipts not written; retrying');
        this.pending.unshift(...batch);
        this.timer ??= setTimeout(() => void this.flush(), 1000);
      }
    });
    return this.flushing;
  }
}
