import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { canCreateSite, canManageSite, canSeeOrganisation, type Principal } from '../auth/policies.js';
import { visibleOrganisation } from '../organisations/organisations.js';

export const SITE_KINDS = ['school', 'preschool', 'library', 'sports_hall', 'office', 'other'] as const;
export type SiteKind = (typeof SITE_KINDS)[number];

export interface Site {
  id: string;
  organisationId: string;
  name: string;
  kind: SiteKind;
  address: string | null;
  /** The kommun the site is in: the workplace in a report to Arbetsmiljöverket. */
  municipality: string | null;
  buildingNotes: string | null;
  floorNotes: string | null;
  assemblyPoint: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, organisation_id AS "organisationId", name, kind, address, municipality, building_notes AS "buildingNotes",
  floor_notes AS "floorNotes", assembly_point AS "assemblyPoint", created_at AS "createdAt", updated_at AS "updatedAt"`;

const SITE_SQL = {
  byOrganisation: `SELECT ${COLUMNS} FROM sites WHERE organisation_id = $1 ORDER BY name`,
  byId: `SELECT ${COLUMNS} FROM sites WHERE id = $1`,
  byIdForUpdate: `SELECT ${COLUMNS} FROM sites WHERE id = $1 FOR UPDATE`,
  countInOrganisation: 'SELECT count(*)::int AS n FROM sites WHERE organisation_id = $1 AND id = ANY($2::uuid[])',
  insert: `INSERT INTO sites (organisation_id, name, kind, address, building_notes, floor_notes, assembly_point, municipality)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
  // Each nullable text: $n is whether it was given, $n+1 its value (null clears it).
  update: `
    UPDATE sites SET name = coalesce($2, name), kind = coalesce($3, kind),
           address = CASE WHEN $4::boolean THEN $5 ELSE address END,
           municipality = CASE WHEN $6::boolean THEN $7 ELSE municipality END,
           building_notes = CASE WHEN $8::boolean THEN $9 ELSE building_notes END,
           floor_notes = CASE WHEN $10::boolean THEN $11 ELSE floor_notes END,
           assembly_point = CASE WHEN $12::boolean THEN $13 ELSE assembly_point END,
           updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
} as const;

/** Loads a site of an organisation the caller may see, or reports it as not found. */
export async function visibleSite(db: Queryable, principal: Principal, id: string, lock = false): Promise<Site> {
  const site = (await db.query<Site>(lock ? SITE_SQL.byIdForUpdate : SITE_SQL.byId, [id])).rows[0];
  if (!site || !canSeeOrganisation(principal, site.organisationId)) throw new AppError('not_found');
  return site;
}

/** True when every id is a site of the organisation (a duplicate-free list is assumed). */
export async function allSitesInOrganisation(db: Queryable, organisationId: string, siteIds: string[]): Promise<boolean> {
  if (siteIds.length === 0) return true;
  const row = (await db.query<{ n: number }>(SITE_SQL.countInOrganisation, [organisationId, siteIds])).rows[0];
  return row?.n === new Set(siteIds).size;
}

export async function listSites(db: Queryable, principal: Principal, organisationId: string): Promise<Site[]> {
  await visibleOrganisation(db, principal, organisationId);
  return (await db.query<Site>(SITE_SQL.byOrganisation, [organisationId])).rows;
}

export interface SiteInput {
  name: string;
  kind: SiteKind;
  address?: string | null;
  municipality?: string | null;
  buildingNotes?: string | null;
  floorNotes?: string | null;
  assemblyPoint?: string | null;
}

/** A nullable text's two update parameters: whether it was given, and its value. */
const given = (value: string | null | undefined): [boolean, string | null] => [value !== undefined, value ?? null];

export async function createSite(db: Db, principal: Principal, organisationId: string, input: SiteInput, requestId: string): Promise<Site> {
  return inTransaction(db, async (tx) => {
    await visibleOrganisation(tx, principal, organisationId);
    if (!canCreateSite(principal, organisationId)) throw new AppError('forbidden');
    const site = (await tx.query<Site>(SITE_SQL.insert, [
      organisationId, input.name, input.kind, input.address ?? null, input.buildingNotes ?? null, input.floorNotes ?? null, input.assemblyPoint ?? null,
      input.municipality ?? null,
    ])).rows[0] as Site;
    await recordAudit(tx, {
      organisationId, actorPersonId: principal.personId, action: 'site.created',
      entityType: 'site', entityId: site.id, before: null, after: site, requestId,
    });
    return site;
  });
}

export async function updateSite(
  db: Db, principal: Principal, id: string, input: Partial<SiteInput>, requestId: string,
): Promise<Site> {
  return inTransaction(db, async (tx) => {
    const before = await visibleSite(tx, principal, id, true);
    if (!canManageSite(principal, before)) throw new AppError('forbidden');
    const after = (await tx.query<Site>(SITE_SQL.update, [
      id, input.name ?? null, input.kind ?? null, ...given(input.address), ...given(input.municipality), ...given(input.buildingNotes),
      ...given(input.floorNotes), ...given(input.assemblyPoint),
    ])).rows[0] as Site;
    await recordAudit(tx, {
      organisationId: before.organisationId, actorPersonId: principal.personId, action: 'site.updated',
      entityType: 'site', entityId: id, before, after, requestId,
    });
    return after;
  });
}
