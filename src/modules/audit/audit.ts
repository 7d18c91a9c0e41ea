import type { Queryable } from '../../db/pool.js';

export interface AuditEntry {
  organisationId: string | null;
  /** Null when nobody of the organisation acted (an alarm that crossed a link from another organisation). */
  actorPersonId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  /** Null when the change was not a request of its own (an alarm crossing a link as part of the raise). */
  requestId: string | null;
}

const AUDIT_SQL = {
  insert: `
    INSERT INTO audit_log (organisation_id, actor_person_id, action, entity_type, entity_id, before, after, request_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  list: `
    SELECT a.id, a.action, a.entity_type, a.entity_id, a.before, a.after, a.request_id, a.at,
           a.actor_person_id, p.name AS actor_name
      FROM audit_log a LEFT JOIN people p ON p.id = a.actor_person_id
     WHERE a.organisation_id = $1 AND ($2::bigint IS NULL OR a.id < $2)
     ORDER BY a.id DESC
     LIMIT $3`,
} as const;

/** Writes one audit entry; call it inside the same transaction as the change it records. */
export async function recordAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  await tx.query(AUDIT_SQL.insert, [
    entry.organisationId,
    entry.actorPersonId,
    entry.action,
    entry.entityType,
    entry.entityId,
    entry.before === null ? null : JSON.stringify(entry.before),
    entry.after === null ? null : JSON.stringify(entry.after),
    entry.requestId,
  ]);
}

export interface AuditRow {
  id: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
  at: Date;
  actor_person_id: string | null;
  actor_name: string | null;
}

export async function listAudit(db: Queryable, organisationId: string, before: string | null, limit: number): Promise<AuditRow[]> {
  return (await db.query<AuditRow>(AUDIT_SQL.list, [organisationId, before, limit])).rows;
}
