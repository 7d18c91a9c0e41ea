import type { Queryable } from '../../db/pool.js';

/**
 * Each organisation's decision on its incidents: kept forever (some must keep alarm logs as public
 * records), deleted some years after they ended, or the deployment's default (RETENTION_INCIDENTS_YEARS).
 */
export type IncidentRetention = { keep: 'default' } | { keep: 'forever' } | { keep: 'years'; years: number };

interface Row {
  id: string;
  incident_retention: 'default' | 'forever' | 'years';
  incident_retention_years: number | null;
}

const ORGANISATION_RETENTION_SQL = {
  one: 'SELECT id, incident_retention, incident_retention_years FROM organisations WHERE id = $1',
  all: 'SELECT id, incident_retention, incident_retention_years FROM organisations ORDER BY id',
  set: `
    UPDATE organisations SET incident_retention = $2, incident_retention_years = $3, updated_at = now()
     WHERE id = $1`,
} as const;

const decision = (row: Row): IncidentRetention =>
  row.incident_retention === 'years' && row.incident_retention_years !== null
    ? { keep: 'years', years: row.incident_retention_years }
    : { keep: row.incident_retention === 'forever' ? 'forever' : 'default' };

export async function incidentRetentionOf(db: Queryable, organisationId: string): Promise<IncidentRetention | null> {
  const row = (await db.query<Row>(ORGANISATION_RETENTION_SQL.one, [organisationId])).rows[0];
  return row ? decision(row) : null;
}

/** Every organisation's decision, for the retention job. */
export async function incidentRetentionOfAll(db: Queryable): Promise<{ organisationId: string; retention: IncidentRetention }[]> {
  return (await db.query<Row>(ORGANISATION_RETENTION_SQL.all)).rows.map((row) => ({ organisationId: row.id, retention: decision(row) }));
}

export async function setIncidentRetention(tx: Queryable, organisationId: string, retention: IncidentRetention): Promise<void> {
  await tx.query(ORGANISATION_RETENTION_SQL.set, [organisationId, retention.keep, retention.keep === 'years' ? retention.years : null]);
}
