import type { Queryable } from '../../db/pool.js';
import type { Lookups } from './describe.js';

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

/** SQL: the entry concerns one of the sites in the text[] expression. */
function concerns(sites: string): string {
  return `((a.entity_type = 'site' AND a.entity_id = ANY(${sites}))
        OR coalesce(a.after->>'siteId', a.before->>'siteId') = ANY(${sites})
        OR coalesce(a.after->'siteIds', '[]') ?| ${sites} OR coalesce(a.before->'siteIds', '[]') ?| ${sites})`;
}

const AUDIT_SQL = {
  insert: `
    INSERT INTO audit_log (organisation_id, actor_person_id, action, entity_type, entity_id, before, after, request_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  // Newest first within the organisation (its index), then filters. Which sites an entry concerns is
  // read from the entity itself: a site, or what before/after say (a group's siteId, a person's siteIds).
  // $4: the sites the caller may see (null: all); $5: one site asked for; $6: a person (actor or
  // subject); $7: an entity type; $8, $9: from and until. With a rare filter it may walk much of the
  // organisation's log: acceptable for an admin page, which pages by id.
  list: `
    SELECT a.id, a.action, a.entity_type, a.entity_id, a.before, a.after, a.request_id, a.at,
           a.actor_person_id, p.name AS actor_name
      FROM audit_log a LEFT JOIN people p ON p.id = a.actor_person_id
     WHERE a.organisation_id = $1 AND ($2::bigint IS NULL OR a.id < $2)
       AND ($4::text[] IS NULL OR ${concerns('$4')})
       AND ($5::text IS NULL OR ${concerns('ARRAY[$5::text]')})
       AND ($6::uuid IS NULL OR a.actor_person_id = $6 OR (a.entity_type = 'person' AND a.entity_id = $6::text))
       AND ($7::text IS NULL OR a.entity_type = $7)
       AND ($8::timestamptz IS NULL OR a.at >= $8) AND ($9::timestamptz IS NULL OR a.at < $9)
     ORDER BY a.id DESC
     LIMIT $3`,
  siteNames: 'SELECT id, name FROM sites WHERE organisation_id = $1',
  typeLabels: 'SELECT id, key, label_sv, label_en FROM alarm_types WHERE organisation_id IS NULL OR organisation_id = $1',
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

export interface AuditFilter {
  before: string | null;
  limit: number;
  /** The sites the caller may see: 'all', or entries about these only. */
  scope: 'all' | string[];
  siteId?: string | undefined;
  personId?: string | undefined;
  entityType?: string | undefined;
  from?: string | undefined;
  until?: string | undefined;
}

export async function listAudit(db: Queryable, organisationId: string, f: AuditFilter): Promise<AuditRow[]> {
  return (await db.query<AuditRow>(AUDIT_SQL.list, [
    organisationId, f.before, f.limit, f.scope === 'all' ? null : f.scope, f.siteId?.toLowerCase() ?? null,
    f.personId ?? null, f.entityType ?? null, f.from ?? null, f.until ?? null,
  ])).rows;
}

/** Names of the organisation's sites and alarm types, for the entries' words. */
export async function auditLookups(db: Queryable, organisationId: string): Promise<Lookups> {
  const sites = new Map((await db.query<{ id: string; name: string }>(AUDIT_SQL.siteNames, [organisationId])).rows.map((r) => [r.id, r.name]));
  const types = (await db.query<{ id: string; key: string; label_sv: string; label_en: string }>(AUDIT_SQL.typeLabels, [organisationId])).rows;
  const byId = new Map(types.map((t) => [t.id, { sv: t.label_sv, en: t.label_en }]));
  const byKey = new Map(types.map((t) => [t.key, { sv: t.label_sv, en: t.label_en }]));
  return {
    siteName: (id) => sites.get(id) ?? null,
    typeLabel: (id, key) => byId.get(id) ?? byKey.get(key) ?? { sv: key || id, en: key || id },
  };
}
