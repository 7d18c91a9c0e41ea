import type { Db } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';

const SMS_REPORT_SQL = {
  lock: "SELECT report FROM deliveries WHERE id = $1 AND channel = 'sms' FOR UPDATE",
  record: 'UPDATE deliveries SET report = $2, reported_at = $3 WHERE id = $1',
} as const;

export type SmsReport = 'delivered' | 'failed';

/**
 * The gateway's delivery report for an SMS it was given (`reference` is the outbox row's id): delivered to
 * the phone, or not. A report of delivery is never undone by a later failure (state never moves backwards);
 * a repeated report changes nothing. An unknown reference, or one that is not an SMS, is not found.
 */
export async function recordSmsReport(db: Db, reference: string, report: SmsReport, at: Date): Promise<void> {
  await inTransaction(db, async (tx) => {
    const row = (await tx.query<{ report: SmsReport | null }>(SMS_REPORT_SQL.lock, [reference])).rows[0];
    if (!row) throw new AppError('not_found');
    if (row.report === 'delivered' || row.report === report) return;
    await tx.query(SMS_REPORT_SQL.record, [reference, report, at]);
  });
}
