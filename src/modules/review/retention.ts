import type { Queryable } from '../../db/pool.js';

const REVIEW_RETENTION_SQL = {
  // Through migration 012's function: the record is append-only, and goes only with its incident.
  deleteRevisions: 'SELECT retention_delete_review_revisions($1::uuid[], $2::timestamptz)::int AS n',
} as const;

/** The review records of incidents about to be deleted (ended before `bound`); returns the revisions deleted. */
export async function deleteReviewRecords(tx: Queryable, incidentIds: string[], bound: Date): Promise<number> {
  if (incidentIds.length === 0) return 0;
  return (await tx.query<{ n: number }>(REVIEW_RETENTION_SQL.deleteRevisions, [incidentIds, bound])).rows[0]?.n ?? 0;
}
