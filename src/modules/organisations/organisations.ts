import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { canCreateOrganisation, canSeeOrganisation, canUpdateOrganisation, isSystemAdmin, type Principal } from '../auth/policies.js';

export const ORGANISATION_KINDS = ['forvaltning', 'bolag', 'other'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

export interface Organisation {
  id: string;
  name: string;
  kind: OrganisationKind;
  /** Organisationsnummer (NNNNNN-NNNN): the employer in a report to Arbetsmiljöverket. */
  organisationNumber: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'id, name, kind, organisation_number AS "organisationNumber", created_at AS "createdAt", updated_at AS "updatedAt"';

const ORGANISATION_SQL = {
  all: `SELECT ${COLUMNS} FROM organisations ORDER BY name`,
  byId: `SELECT ${COLUMNS} FROM organisations WHERE id = $1`,
  byIdForUpdate: `SELECT ${COLUMNS} FROM organisations WHERE id = $1 FOR UPDATE`,
  insert: `INSERT INTO organisations (name, kind) VALUES ($1, $2) RETURNING ${COLUMNS}`,
  update: `
    UPDATE organisations SET name = coalesce($2, name), kind = coalesce($3, kind),
           organisation_number = CASE WHEN $4::boolean THEN $5 ELSE organisation_number END, updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
} as const;

/** Loads an organisation the caller may see, or reports it as not found. */
export async function visibleOrganisation(db: Queryable, principal: Principal, id: string, lock = false): Promise<Organisation> {
  if (!canSeeOrganisation(principal, id)) throw new AppError('not_found');
  const row = (await db.query<Organisation>(lock ? ORGANISATION_SQL.byIdForUpdate : ORGANISATION_SQL.byId, [id])).rows[0];
  if (!row) throw new AppError('not_found');
  return row;
}

export async function listOrganisations(db: Queryable, principal: Principal): Promise<Organisation[]> {
  if (isSystemAdmin(principal)) return (await db.query<Organisation>(ORGANISATION_SQL.all)).rows;
  return [await visibleOrganisation(db, principal, principal.organisationId)];
}

export async function createOrganisation(
  db: Db, principal: Principal, input: { name: string; kind: OrganisationKind }, requestId: string,
): Promise<Organisation> {
  if (!canCreateOrganisation(principal)) throw new AppError('forbidden');
  return inTransaction(db, async (tx) => {
    const created = (await tx.query<Organisation>(ORGANISATION_SQL.insert, [input.name, input.kind])).rows[0] as Organisation;
    await recordAudit(tx, {
      organisationId: created.id, actorPersonId: principal.personId, action: 'organisation.created',
      entityType: 'organisation', entityId: created.id, before: null, after: created, requestId,
    });
    return created;
  });
}

export async function updateOrganisation(
  db: Db, principal: Principal, id: string, input: { name?: string; kind?: OrganisationKind; organisationNumber?: string | null }, requestId: string,
): Promise<Organisation> {
  return inTransaction(db, async (tx) => {
    const before = await visibleOrganisation(tx, principal, id, true);
    if (!canUpdateOrganisation(principal, id)) throw new AppError('forbidden');
    const after = (await tx.query<Organisation>(ORGANISATION_SQL.update, [
      id, input.name ?? null, input.kind ?? null, input.organisationNumber !== undefined, input.organisationNumber ?? null,
    ])).rows[0] as Organisation;
    await recordAudit(tx, {
      organisationId: id, actorPersonId: principal.personId, action: 'organisation.updated',
      entityType: 'organisation', entityId: id, before, after, requestId,
    });
    return after;
  });
}
