import type { Queryable } from '../../db/pool.js';

/**
 * The audit log's own retention, entries written by the system rather than a person, and the
 * entries a person's export shows. The log is append-only: old entries go only through
 * retention_delete_audit_log (migration 009), which deletes nothing younger than its bound.
 */
const AUDIT_RETENTION_SQL = {
  deleteOlder: 'SELECT retention_delete_audit_log($1)::int AS n',
  // An entry with no actor (the system). The same columns as recordAudit writes.
  insertSystem: `
    INSERT INTO audit_log (organisation_id, actor_person_id, action, entity_type, entity_id, before, after, request_id)
    VALUES ($1, NULL, $2, $3, $4, NULL, $5, NULL)`,
  // Entries about the person: who did it is only said as self, someone else or the system.
  // Both scan the organisation's log (its index leads with the organisation); exports are rare.
  about: `
    SELECT id, action, at, before, after,
           CASE WHEN actor_person_id IS NULL THEN 'system' WHEN actor_person_id = $2::uuid THEN 'self' ELSE 'other' END AS actor
      FROM audit_log
     WHERE organisation_id = $1 AND entity_type = 'person' AND entity_id = $2::uuid::text
     ORDER BY id`,
  // What the person changed: the action and its object, but not what the object held (it may be
  // someone else), and not which other person.
  by: `
    SELECT id, action, entity_type AS "entityType",
           CASE WHEN entity_type = 'person' AND entity_id <> $2::uuid::text THEN NULL ELSE entity_id END AS "entityId", at
      FROM audit_log
     WHERE organisation_id = $1 AND actor_person_id = $2::uuid
     ORDER BY id`,
} as const;

export interface AuditAbout {
  id: string;
  action: string;
  at: Date;
  before: unknown;
  after: unknown;
  actor: 'self' | 'other' | 'system';
}

export interface AuditBy {
  id: string;
  action: string;
  entityType: string;
  entityId: string | null;
  at: Date;
}

/** Deletes audit entries older than `bound`. */
export async function deleteAuditEntriesBefore(tx: Queryable, bound: Date): Promise<number> {
  return (await tx.query<{ n: number }>(AUDIT_RETENTION_SQL.deleteOlder, [bound])).rows[0]?.n ?? 0;
}

/** An entry the system itself wrote (the retention job): no person acted. */
export async function recordSystemAudit(
  tx: Queryable,
  entry: { organisationId: string | null; action: string; entityType: string; entityId: string; after: unknown },
): Promise<void> {
  await tx.query(AUDIT_RETENTION_SQL.insertSystem, [
    entry.organisationId, entry.action, entry.entityType, entry.entityId, JSON.stringify(entry.after),
  ]);
}

export async function auditOfPerson(
  db: Queryable, organisationId: string, personId: string,
): Promise<{ aboutThem: AuditAbout[]; byThem: AuditBy[] }> {
  return {
    aboutThem: (await db.query<AuditAbout>(AUDIT_RETENTION_SQL.about, [organisationId, personId])).rows,
    byThem: (await db.query<AuditBy>(AUDIT_RETENTION_SQL.by, [organisationId, personId])).rows,
  };
}
