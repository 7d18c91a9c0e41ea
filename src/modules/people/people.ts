import type { Db, Queryable, Tx } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import {
  canAssignSite, canGrantRole, canListPeople, canManagePerson, canSeeOrganisation, managedSiteIds,
  type Principal, type RoleGrant,
} from '../auth/policies.js';
import { hashPassword } from '../auth/passwords.js';
import { visibleOrganisation } from '../organisations/organisations.js';
import { allSitesInOrganisation } from '../sites/sites.js';

export type Language = 'sv' | 'en';

export interface Person {
  id: string;
  organisationId: string;
  name: string;
  email: string;
  phone: string | null;
  language: Language;
  active: boolean;
  siteIds: string[];
  roles: RoleGrant[];
  createdAt: Date;
  updatedAt: Date;
}

const PERSON_SELECT = `
  SELECT p.id, p.organisation_id AS "organisationId", p.name, p.email, p.phone, p.language, p.active,
         p.created_at AS "createdAt", p.updated_at AS "updatedAt",
         coalesce((SELECT array_agg(ps.site_id::text ORDER BY ps.site_id) FROM person_sites ps WHERE ps.person_id = p.id), '{}') AS "siteIds",
         coalesce((SELECT json_agg(json_build_object('role', r.role, 'siteId', r.site_id) ORDER BY r.role, r.site_id)
                     FROM role_assignments r WHERE r.person_id = p.id), '[]') AS roles
    FROM people p`;

const PEOPLE_SQL = {
  byId: `${PERSON_SELECT} WHERE p.id = $1`,
  lock: 'SELECT id FROM people WHERE id = $1 FOR UPDATE',
  // $2 NULL: every person of the organisation; otherwise those working at one of the sites in $2.
  list: `${PERSON_SELECT}
    WHERE p.organisation_id = $1
      AND ($2::uuid[] IS NULL OR EXISTS (SELECT 1 FROM person_sites ps WHERE ps.person_id = p.id AND ps.site_id = ANY($2)))
      AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM person_sites ps WHERE ps.person_id = p.id AND ps.site_id = $3))
    ORDER BY p.name, p.id`,
  emailTaken: 'SELECT 1 FROM people WHERE email = $1 AND id IS DISTINCT FROM $2',
  insert: `
    INSERT INTO people (organisation_id, name, email, phone, language, password_hash)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
  update: `
    UPDATE people SET name = coalesce($2, name), email = coalesce($3, email),
           phone = CASE WHEN $4::boolean THEN $5 ELSE phone END, language = coalesce($6, language),
           active = coalesce($7, active), password_hash = coalesce($8, password_hash), updated_at = now()
     WHERE id = $1`,
  addSite: 'INSERT INTO person_sites (person_id, site_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
  removeSite: 'DELETE FROM person_sites WHERE person_id = $1 AND site_id = $2',
  addRole: 'INSERT INTO role_assignments (person_id, role, site_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
  removeRole: 'DELETE FROM role_assignments WHERE person_id = $1 AND role = $2 AND site_id IS NOT DISTINCT FROM $3',
  revokeSessions: 'UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL',
  sitesOf: `
    SELECT s.id, s.organisation_id AS "organisationId", s.name, s.kind
      FROM person_sites ps JOIN sites s ON s.id = ps.site_id WHERE ps.person_id = $1 ORDER BY s.name`,
} as const;

/** Loads a person in an organisation the caller may see, or reports not found. */
export async function visiblePerson(db: Queryable, principal: Principal, id: string): Promise<Person> {
  const person = (await db.query<Person>(PEOPLE_SQL.byId, [id])).rows[0];
  if (!person || !canSeeOrganisation(principal, person.organisationId)) throw new AppError('not_found');
  return person;
}

export async function loadPerson(db: Queryable, id: string): Promise<Person> {
  const person = (await db.query<Person>(PEOPLE_SQL.byId, [id])).rows[0];
  if (!person) throw new AppError('not_found');
  return person;
}

/** A person is readable by themselves and by whoever manages them; colleagues see no directory. */
export async function readablePerson(db: Queryable, principal: Principal, id: string): Promise<Person> {
  const person = await visiblePerson(db, principal, id);
  if (person.id !== principal.personId && !canManagePerson(principal, person)) throw new AppError('forbidden');
  return person;
}

export async function listPeople(
  db: Queryable, principal: Principal, organisationId: string, siteId: string | null,
): Promise<Person[]> {
  await visibleOrganisation(db, principal, organisationId);
  if (!canListPeople(principal, organisationId)) throw new AppError('forbidden');
  const sites = managedSiteIds(principal, organisationId);
  return (await db.query<Person>(PEOPLE_SQL.list, [organisationId, sites === 'all' ? null : sites, siteId])).rows;
}

const sameGrant = (a: RoleGrant, b: RoleGrant): boolean => a.role === b.role && a.siteId === b.siteId;
const without = (list: RoleGrant[], other: RoleGrant[]): RoleGrant[] => list.filter((g) => !other.some((o) => sameGrant(g, o)));
const uniqueGrants = (grants: RoleGrant[]): RoleGrant[] => grants.filter((g, i) => grants.findIndex((o) => sameGrant(g, o)) === i);

// Ids are accepted in either case (Swift and .NET print UUIDs in upper case) but compared as
// strings below, so they are brought to the database's lower case first.
const normalisedSiteIds = (ids: string[]): string[] => [...new Set(ids.map((s) => s.toLowerCase()))];
const normalisedGrants = (grants: RoleGrant[]): RoleGrant[] =>
  uniqueGrants(grants.map((g) => ({ role: g.role, siteId: g.siteId === null ? null : g.siteId.toLowerCase() })));

/** Checks that the caller may make these site and role changes to someone in `organisationId`. */
async function authoriseAssignments(
  tx: Queryable, principal: Principal, organisationId: string,
  sites: { added: string[]; removed: string[] }, roles: { added: RoleGrant[]; removed: RoleGrant[] },
): Promise<void> {
  const roleSites = [...roles.added, ...roles.removed].flatMap((g) => (g.siteId ? [g.siteId] : []));
  if (!(await allSitesInOrganisation(tx, organisationId, [...new Set([...sites.added, ...roleSites])]))) {
    throw new AppError('invalid_reference', { sv: 'En plats hör inte till den här organisationen.', en: 'A site is not part of this organisation.' });
  }
  for (const g of [...roles.added, ...roles.removed]) {
    if (g.role !== 'site_admin' && g.role !== 'crisis_lead' && g.role !== 'reviewer' && g.siteId !== null) {
      throw new AppError('validation_failed', {
        sv: `Rollen ${g.role} gäller hela organisationen; ange ingen plats (siteId).`,
        en: `The role ${g.role} applies to the whole organisation; give no siteId.`,
      });
    }
  }
  if ([...sites.added, ...sites.removed].some((s) => !canAssignSite(principal, organisationId, s))) {
    throw new AppError('forbidden', { sv: 'Du ansvarar inte för den platsen.', en: 'You do not manage that site.' });
  }
  if ([...roles.added, ...roles.removed].some((g) => !canGrantRole(principal, organisationId, g))) {
    throw new AppError('role_not_grantable');
  }
}

async function applyAssignments(
  tx: Tx, personId: string, sites: { added: string[]; removed: string[] }, roles: { added: RoleGrant[]; removed: RoleGrant[] },
): Promise<void> {
  for (const s of sites.added) await tx.query(PEOPLE_SQL.addSite, [personId, s]);
  for (const s of sites.removed) await tx.query(PEOPLE_SQL.removeSite, [personId, s]);
  for (const g of roles.added) await tx.query(PEOPLE_SQL.addRole, [personId, g.role, g.siteId]);
  for (const g of roles.removed) await tx.query(PEOPLE_SQL.removeRole, [personId, g.role, g.siteId]);
}

async function assertEmailFree(tx: Queryable, email: string, personId: string | null): Promise<void> {
  if ((await tx.query(PEOPLE_SQL.emailTaken, [email, personId])).rowCount) throw new AppError('email_taken');
}

export interface NewPersonInput {
  name: string;
  email: string;
  phone?: string | null;
  language?: Language;
  password?: string;
  siteIds: string[];
  roles: RoleGrant[];
}

export async function createPerson(
  db: Db, principal: Principal, organisationId: string, input: NewPersonInput, requestId: string,
): Promise<Person> {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return inTransaction(db, async (tx) => {
    await visibleOrganisation(tx, principal, organisationId);
    if (!canListPeople(principal, organisationId)) throw new AppError('forbidden');
    const siteIds = normalisedSiteIds(input.siteIds);
    // A rektor may only add people to their own sites, or they could not manage them afterwards.
    if (managedSiteIds(principal, organisationId) !== 'all' && siteIds.length === 0) {
      throw new AppError('forbidden', { sv: 'Placera personen på någon av dina platser.', en: 'Place the person at one of your sites.' });
    }
    const roles = { added: normalisedGrants(input.roles), removed: [] };
    await authoriseAssignments(tx, principal, organisationId, { added: siteIds, removed: [] }, roles);
    const email = input.email.trim().toLowerCase();
    await assertEmailFree(tx, email, null);
    const inserted = (await tx.query<{ id: string }>(PEOPLE_SQL.insert, [
      organisationId, input.name, email, input.phone ?? null, input.language ?? 'sv', passwordHash,
    ])).rows[0] as { id: string };
    await applyAssignments(tx, inserted.id, { added: siteIds, removed: [] }, roles);
    const person = await loadPerson(tx, inserted.id);
    await recordAudit(tx, {
      organisationId, actorPersonId: principal.personId, action: 'person.created',
      entityType: 'person', entityId: person.id, before: null, after: person, requestId,
    });
    return person;
  });
}

export interface PersonChanges {
  name?: string;
  email?: string;
  phone?: string | null;
  language?: Language;
  active?: boolean;
  password?: string;
  siteIds?: string[];
  roles?: RoleGrant[];
}

export async function updatePerson(
  db: Db, principal: Principal, id: string, input: PersonChanges, requestId: string,
): Promise<Person> {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return inTransaction(db, async (tx) => {
    await tx.query(PEOPLE_SQL.lock, [id]);
    const before = await visiblePerson(tx, principal, id);
    if (!canManagePerson(principal, before)) throw new AppError('forbidden');
    const newSites = input.siteIds ? normalisedSiteIds(input.siteIds) : before.siteIds;
    const sites = { added: newSites.filter((s) => !before.siteIds.includes(s)), removed: before.siteIds.filter((s) => !newSites.includes(s)) };
    const newRoles = input.roles ? normalisedGrants(input.roles) : before.roles;
    const roles = { added: without(newRoles, before.roles), removed: without(before.roles, newRoles) };
    await authoriseAssignments(tx, principal, before.organisationId, sites, roles);
    const email = input.email?.trim().toLowerCase();
    if (email) await assertEmailFree(tx, email, id);
    await tx.query(PEOPLE_SQL.update, [
      id, input.name ?? null, email ?? null, input.phone !== undefined, input.phone ?? null,
      input.language ?? null, input.active ?? null, passwordHash,
    ]);
    await applyAssignments(tx, id, sites, roles);
    // A new password or a deactivation ends every session: the old phone must stop working.
    if (passwordHash || input.active === false) await tx.query(PEOPLE_SQL.revokeSessions, [id]);
    const after = await loadPerson(tx, id);
    await recordAudit(tx, {
      organisationId: before.organisationId, actorPersonId: principal.personId, action: 'person.updated',
      entityType: 'person', entityId: before.id, before, after: { ...after, passwordChanged: passwordHash !== null }, requestId,
    });
    return after;
  });
}

export interface MyProfileChanges {
  name?: string;
  phone?: string | null;
  language?: Language;
}

/** Everyone may change their own name, phone and language, and nothing else about themselves. */
export async function updateMyProfile(db: Db, principal: Principal, input: MyProfileChanges, requestId: string): Promise<Person> {
  return inTransaction(db, async (tx) => {
    await tx.query(PEOPLE_SQL.lock, [principal.personId]);
    const before = await loadPerson(tx, principal.personId);
    await tx.query(PEOPLE_SQL.update, [
      principal.personId, input.name ?? null, null, input.phone !== undefined, input.phone ?? null,
      input.language ?? null, null, null,
    ]);
    const after = await loadPerson(tx, principal.personId);
    await recordAudit(tx, {
      organisationId: before.organisationId, actorPersonId: principal.personId, action: 'person.profile_updated',
      entityType: 'person', entityId: principal.personId, before, after, requestId,
    });
    return after;
  });
}

export interface SiteSummary {
  id: string;
  organisationId: string;
  name: string;
  kind: string;
}

export async function sitesOf(db: Queryable, personId: string): Promise<SiteSummary[]> {
  return (await db.query<SiteSummary>(PEOPLE_SQL.sitesOf, [personId])).rows;
}

