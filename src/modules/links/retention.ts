import type { Queryable } from '../../db/pool.js';

const LINK_RETENTION_SQL = {
  // A crossing names the incidents on both sides; it goes when any of them is deleted (the audit log keeps
  // that the alarm crossed, and a kept linked incident keeps where it came from in its own linked_from).
  deleteCrossings: `
    DELETE FROM link_crossings
     WHERE source_incident_id = ANY($1::uuid[]) OR linked_incident_id = ANY($1::uuid[]) OR held_on_incident_id = ANY($1::uuid[])`,
} as const;

/** The crossings that refer to incidents about to be deleted; returns how many. */
export async function forgetCrossingsOf(tx: Queryable, incidentIds: string[]): Promise<number> {
  if (incidentIds.length === 0) return 0;
  return (await tx.query(LINK_RETENTION_SQL.deleteCrossings, [incidentIds])).rowCount ?? 0;
}
