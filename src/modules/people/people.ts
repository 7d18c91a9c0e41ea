import type { Db, Queryable, Tx } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import {
  canAssignSite, canGrantRole, canListPeople, canManagePerson, canSeeOrganisation, managedSiteIds,
  type Principal, type RoleGrant,
} from '../auth/policies.js';
import { hashPassword } from '../auth/passwords.js';
import { revokeAllSessions } from '../auth/sessions.js';
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

/** The people module's SQL, shared by its files (people.ts, import.ts); other modules call the functions below. */
export const PEOPLE_SQL = {
  byId: `${PERSON_SELECT} WHERE p.id = $1`,
  lock: 'SELECT id FROM people WHERE id = $1 FOR UPDATE',
  // $2 NULL: every person of the organisation; otherwise those working at one of the sites in $2.
  // $4: a search in name, e-mail and phone (a LIKE pattern, escaped by the caller).
  list: `${PERSON_SELECT}
    WHERE p.organisation_id = $1
      AND ($2::uuid[] IS NULL OR EXISTS (SELECT 1 FROM person_sites ps WHERE ps.person_id = p.id AND ps.site_id = ANY($2)))
      AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM person_sites ps WHERE ps.person_id = p.id AND ps.site_id = $3))
      AND ($4::text IS NULL OR p.name ILIKE $4 OR p.email ILIKE $4 OR coalesce(p.phone, '') ILIKE $4)
    ORDER BY p.name, p.id`,
  // Within the organisation only: another organisation's addresses are none of the caller's business.
  emailTaken: 'SELECT 1 FROM people WHERE email = $1 AND organisation_id = $3 AND id IS DISTINCT FROM $2',
  byEmail: `${PERSON_SELECT} WHERE p.organisation_id = $1 AND p.email = $2`,
  bySubject: `${PERSON_SELECT} WHERE p.organisation_id = $1 AND p.oidc_subject = $2`,
  subjectOf: 'SELECT oidc_subject FROM people WHERE id = $1',
  setSubject: 'UPDATE people SET oidc_subject = $2, updated_at = now() WHERE id = $1',
  inOtherOrganisation: 'SELECT 1 FROM people WHERE email = $1 AND organisation_id <> $2 LIMIT 1',
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
  revokeAccessLinks: 'UPDATE access_links SET revoked_at = now() WHERE person_id = $1 AND used_at IS NULL AND revoked_at IS NULL',
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

/** A LIKE pattern that finds the text anywhere, with the text's own % and _ taken literally. */
const containing = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listPeople(
  db: Queryable, principal: Principal, organisationId: string, filter: { siteId?: string | null; q?: string | null },
): Promise<Person[]> {
  await visibleOrganisation(db, principal, organisationId);
  if (!canListPeople(principal, organisationId)) throw new AppError('forbidden');
  const sites = managedSiteIds(principal, organisationId);
  const q = filter.q?.trim();
  return (await db.query<Person>(PEOPLE_SQL.list, [
    organisationId, sites === 'all' ? null : sites, filter.siteId ?? null, q ? containing(q) : null,
  ])).rows;
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

export async function applyAssignments(
  tx: Tx, personId: string, sites: { added: string[]; removed: string[] }, roles: { added: RoleGrant[]; removed: RoleGrant[] },
): Promise<void> {
  for (const s of sites.added) await tx.query(PEOPLE_SQL.addSite, [personId, s]);
  for (const s of sites.removed) await tx.query(PEOPLE_SQL.removeSite, [personId, s]);
  for (const g of roles.added) await tx.query(PEOPLE_SQL.addRole, [personId, g.role, g.siteId]);
  for (const g of roles.removed) await tx.query(PEOPLE_SQL.removeRole, [personId, g.role, g.siteId]);
}

async function assertEmailFree(tx: Queryable, organisationId: string, email: string, personId: string | null): Promise<void> {
  if ((await tx.query(PEOPLE_SQL.emailTaken, [email, personId, organisationId])).rowCount) throw new AppError('email_taken');
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

/** Everything createPerson checks before writing; run once before the password is hashed and again in the transaction. */
async function authoriseNewPerson(
  db: Queryable, principal: Principal, organisationId: string, siteIds: string[], roles: RoleGrant[],
): Promise<void> {
  await visibleOrganisation(db, principal, organisationId);
  if (!canListPeople(principal, organisationId)) throw new AppError('forbidden');
  // A rektor may only add people to their own sites, or they could not manage them afterwards.
  if (managedSiteIds(principal, organisationId) !== 'all' && siteIds.length === 0) {
    throw new AppError('forbidden', { sv: 'Placera personen på någon av dina platser.', en: 'Place the person at one of your sites.' });
  }
  await authoriseAssignments(db, principal, organisationId, { added: siteIds, removed: [] }, { added: roles, removed: [] });
}

/** Adds a person in an open transaction, without checks (the caller has made them) and audited as `action`. */
export async function insertPerson(
  tx: Tx, actorPersonId: string | null, organisationId: string,
  input: Omit<NewPersonInput, 'password'> & { passwordHash: string | null; oidcSubject?: string | null },
  audit: { action: string; requestId: string },
): Promise<Person> {
  const siteIds = normalisedSiteIds(input.siteIds);
  const roles = { added: normalisedGrants(input.roles), removed: [] };
  const email = input.email.trim().toLowerCase();
  await assertEmailFree(tx, organisationId, email, null);
  const inserted = (await tx.query<{ id: string }>(PEOPLE_SQL.insert, [
    organisationId, input.name, email, input.phone ?? null, input.language ?? 'sv', input.passwordHash,
  ])).rows[0] as { id: string };
  if (input.oidcSubject) await tx.query(PEOPLE_SQL.setSubject, [inserted.id, input.oidcSubject]);
  await applyAssignments(tx, inserted.id, { added: siteIds, removed: [] }, roles);
  const person = await loadPerson(tx, inserted.id);
  await recordAudit(tx, {
    organisationId, actorPersonId: actorPersonId ?? person.id, action: audit.action,
    entityType: 'person', entityId: person.id, before: null, after: person, requestId: audit.requestId,
  });
  return person;
}

export async function createPerson(
  db: Db, principal: Principal, organisationId: string, input: NewPersonInput, requestId: string,
): Promise<Person> {
  const siteIds = normalisedSiteIds(input.siteIds);
  const roles = normalisedGrants(input.roles);
  // Checked before hashing: a refused request must not cost the CPU a password hash takes.
  await authoriseNewPerson(db, principal, organisationId, siteIds, roles);
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return inTransaction(db, async (tx) => {
    await authoriseNewPerson(tx, principal, organisationId, siteIds, roles);
    return insertPerson(tx, principal.personId, organisationId, { ...input, siteIds, roles, passwordHash }, { action: 'person.created', requestId });
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

/** Everything updatePerson checks before writing; run once before the password is hashed and again under the lock. */
async function authorisePersonChange(db: Queryable, principal: Principal, id: string, input: PersonChanges) {
  const before = await visiblePerson(db, principal, id);
  if (!canManagePerson(principal, before)) throw new AppError('forbidden');
  const newSites = input.siteIds ? normalisedSiteIds(input.siteIds) : before.siteIds;
  const sites = { added: newSites.filter((s) => !before.siteIds.includes(s)), removed: before.siteIds.filter((s) => !newSites.includes(s)) };
  const newRoles = input.roles ? normalisedGrants(input.roles) : before.roles;
  const roles = { added: without(newRoles, before.roles), removed: without(before.roles, newRoles) };
  await authoriseAssignments(db, principal, before.organisationId, sites, roles);
  return { before, sites, roles };
}

export async function updatePerson(
  db: Db, principal: Principal, id: string, input: PersonChanges, requestId: string,
): Promise<Person> {
  // Checked before hashing: a refused request must not cost the CPU a password hash takes.
  await authorisePersonChange(db, principal, id, input);
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return inTransaction(db, async (tx) => {
    await tx.query(PEOPLE_SQL.lock, [id]);
    const { before, sites, roles } = await authorisePersonChange(tx, principal, id, input);
    const email = input.email?.trim().toLowerCase();
    if (email) await assertEmailFree(tx, before.organisationId, email, id);
    await tx.query(PEOPLE_SQL.update, [
      id, input.name ?? null, email ?? null, input.phone !== undefined, input.phone ?? null,
      input.language ?? null, input.active ?? null, passwordHash,
    ]);
    await applyAssignments(tx, id, sites, roles);
    // A new password or a deactivation ends every session (and with it the device's push
    // subscription, by trigger): the old phone must stop working.
    if (passwordHash || input.active === false) await revokeAllSessions(tx, id);
    if (input.active === false) await tx.query(PEOPLE_SQL.revokeAccessLinks, [id]);
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


/** Sign-in with an organisation's own accounts (modules/oidc) finds and links people through these. */
export async function personBySubject(db: Queryable, organisationId: string, subject: string): Promise<Person | undefined> {
  return (await db.query<Person>(PEOPLE_SQL.bySubject, [organisationId, subject])).rows[0];
}

export async function personByEmail(db: Queryable, organisationId: string, email: string): Promise<Person | undefined> {
  return (await db.query<Person>(PEOPLE_SQL.byEmail, [organisationId, email])).rows[0];
}

/** The provider identity a person is linked to, or null. */
export async function oidcSubjectOf(db: Queryable, personId: string): Promise<string | null> {
  return (await db.query<{ oidc_subject: string | null }>(PEOPLE_SQL.subjectOf, [personId])).rows[0]?.oidc_subject ?? null;
}

export async function linkOidcSubject(db: Queryable, personId: string, subject: string): Promise<void> {
  await db.query(PEOPLE_SQL.setSubject, [personId, subject]);
}

/** Whether an address belongs to someone of another organisation (said only to explain a refused sign-in). */
export async function emailInOtherOrganisation(db: Queryable, email: string, organisationId: string): Promise<boolean> {
  return Boolean((await db.query(PEOPLE_SQL.inOtherOrganisation, [email, organisationId])).rowCount);
}
