import type { Db, Tx } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import {
  canAssignSite, canGrantRole, canListPeople, canManagePerson, managedSiteIds, type Principal, type RoleGrant, type RoleName,
} from '../auth/policies.js';
import { visibleOrganisation } from '../organisations/organisations.js';
import { listSites, type Site } from '../sites/sites.js';
import { parseStaffCsv, type StaffColumn, type StaffRow } from './csv.js';
import { PEOPLE_SQL, applyAssignments, insertPerson, loadPerson, type Language, type Person } from './people.js';

/** Why a row was refused; the web app words each one. */
export const IMPORT_PROBLEMS = [
  'email_missing', 'email_invalid', 'email_duplicate', 'name_missing', 'name_invalid', 'phone_invalid', 'language_invalid',
  'site_unknown', 'site_missing', 'site_not_managed', 'role_invalid', 'role_not_grantable', 'person_not_manageable',
  'person_deactivated',
] as const;
export type ImportProblem = (typeof IMPORT_PROBLEMS)[number];

export type ImportOutcome = 'created' | 'updated' | 'unchanged' | 'refused';
export const IMPORT_CHANGES = ['name', 'phone', 'language', 'sites', 'roles'] as const;
export type ImportChange = (typeof IMPORT_CHANGES)[number];

export interface ImportRowResult {
  line: number;
  email: string | null;
  name: string | null;
  outcome: ImportOutcome;
  personId: string | null;
  problems: ImportProblem[];
  changes: ImportChange[];
}

export interface ImportResult {
  dryRun: boolean;
  columns: StaffColumn[];
  ignoredColumns: string[];
  summary: Record<ImportOutcome, number>;
  rows: ImportRowResult[];
}

const EMAIL = /^[^\s@"<>()[\],;:\\]+@[^\s@"<>()[\],;:\\]+\.[^\s@"<>()[\],;:\\]+$/;
const PHONE = /^\+?[0-9 ()-]{5,30}$/;
// NUL never gets this far: the CSV parser refuses a file with one.
const NAME = /\S/;

const ROLE_WORDS: Record<string, RoleName> = {
  staff: 'staff', personal: 'staff', anställd: 'staff', medarbetare: 'staff',
  crisis_lead: 'crisis_lead', krisledning: 'crisis_lead', krisledare: 'crisis_lead', 'crisis lead': 'crisis_lead',
  site_admin: 'site_admin', rektor: 'site_admin', principal: 'site_admin', förskolechef: 'site_admin',
  org_admin: 'org_admin', organisationsadmin: 'org_admin', administratör: 'org_admin', 'organisation admin': 'org_admin',
};
const LANGUAGE_WORDS: Record<string, Language> = { sv: 'sv', svenska: 'sv', swedish: 'sv', en: 'en', engelska: 'en', english: 'en' };
// Several sites or roles in one cell: "Vasaskolan | Solrosens förskola".
const list = (cell: string | undefined): string[] => (cell ? cell.split('|').map((s) => s.trim()).filter(Boolean) : []);

/** What one row asks for, or why it cannot be read. */
interface Wanted {
  email: string;
  name: string;
  phone: string | null;
  language: Language | null;
  siteIds: string[];
  roles: RoleGrant[];
}

function readRow(row: StaffRow, sitesByKey: Map<string, Site>): { wanted: Wanted | null; problems: ImportProblem[]; email: string | null; name: string | null } {
  const problems: ImportProblem[] = [];
  const c = row.cells;
  const email = c.email?.toLowerCase() ?? null;
  if (!email) problems.push('email_missing');
  else if (email.length > 254 || !EMAIL.test(email)) problems.push('email_invalid');
  const name = c.name ?? ([c.firstName, c.lastName].filter(Boolean).join(' ') || null);
  if (!name) problems.push('name_missing');
  else if (name.length > 200 || !NAME.test(name)) problems.push('name_invalid');
  const phone = c.phone ?? null;
  if (phone !== null && !PHONE.test(phone)) problems.push('phone_invalid');
  const language = c.language ? LANGUAGE_WORDS[c.language.toLowerCase()] ?? null : null;
  if (c.language && !language) problems.push('language_invalid');
  const sites = list(c.site).map((key) => sitesByKey.get(key.toLowerCase()));
  if (sites.some((s) => s === undefined)) problems.push('site_unknown');
  const siteIds = [...new Set(sites.filter((s): s is Site => s !== undefined).map((s) => s.id))];
  const roleNames = list(c.role).map((r) => ROLE_WORDS[r.toLowerCase()]);
  if (roleNames.some((r) => r === undefined)) problems.push('role_invalid');
  // A site-scoped role applies at the row's sites; a file cannot grant one across the organisation.
  const roles: RoleGrant[] = [{ role: 'staff', siteId: null }];
  for (const role of new Set(roleNames.filter((r): r is RoleName => r !== undefined))) {
    if (role === 'site_admin' || role === 'crisis_lead') {
      if (siteIds.length === 0) problems.push('site_missing');
      roles.push(...siteIds.map((siteId) => ({ role, siteId })));
    } else if (role !== 'staff') {
      roles.push({ role, siteId: null });
    }
  }
  if (problems.length > 0 || !email || !name) return { wanted: null, problems, email, name };
  return { wanted: { email, name, phone, language, siteIds, roles }, problems, email, name };
}

const sameGrant = (a: RoleGrant, b: RoleGrant): boolean => a.role === b.role && a.siteId === b.siteId;

/**
 * Imports a staff list into an organisation, in one transaction. Each row creates a person, updates
 * one (the same e-mail address in the organisation: name, and phone and language where given; sites
 * and roles are added, never taken away), leaves one unchanged, or is refused with its reasons; a
 * refused row changes nothing. A dry run does all of it and rolls back, so its answer is exactly
 * what the import would do. Applying the same file twice changes nothing the second time.
 */
export async function importStaff(
  db: Db, principal: Principal, organisationId: string, body: string, dryRun: boolean, requestId: string,
): Promise<ImportResult> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await importInTransaction(client, principal, organisationId, body, dryRun, requestId);
    await client.query(dryRun ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function importInTransaction(
  tx: Tx, principal: Principal, organisationId: string, body: string, dryRun: boolean, requestId: string,
): Promise<ImportResult> {
  await visibleOrganisation(tx, principal, organisationId);
  if (!canListPeople(principal, organisationId)) throw new AppError('forbidden');
  const csv = parseStaffCsv(body);
  const sites = await listSites(tx, principal, organisationId);
  const sitesByKey = new Map(sites.flatMap((s) => [[s.name.toLowerCase(), s], [s.id, s]] as [string, Site][]));
  const managesAll = managedSiteIds(principal, organisationId) === 'all';
  const seen = new Set<string>();
  const rows: ImportRowResult[] = [];

  for (const row of csv.rows) {
    const read = readRow(row, sitesByKey);
    const result: ImportRowResult = {
      line: row.line, email: read.email, name: read.name, outcome: 'refused', personId: null, problems: read.problems, changes: [],
    };
    rows.push(result);
    if (read.email && seen.has(read.email)) result.problems = [...result.problems, 'email_duplicate'];
    if (read.email) seen.add(read.email);
    if (!read.wanted || result.problems.length > 0) continue;
    const wanted = read.wanted;
    const unmanaged = wanted.siteIds.filter((s) => !canAssignSite(principal, organisationId, s));
    const ungrantable = wanted.roles.filter((g) => !canGrantRole(principal, organisationId, g));
    const existing = (await tx.query<Person>(PEOPLE_SQL.byEmail, [organisationId, wanted.email])).rows[0];

    if (!existing) {
      const problems: ImportProblem[] = [];
      // A rektor's new people must work at one of the rektor's sites, or they could not manage them afterwards.
      if (!managesAll && wanted.siteIds.length === 0) problems.push('site_missing');
      if (unmanaged.length) problems.push('site_not_managed');
      if (ungrantable.length) problems.push('role_not_grantable');
      if (problems.length) {
        result.problems = problems;
        continue;
      }
      const person = await insertPerson(tx, principal.personId, organisationId, {
        name: wanted.name, email: wanted.email, phone: wanted.phone, language: wanted.language ?? 'sv',
        siteIds: wanted.siteIds, roles: wanted.roles, passwordHash: null,
      }, { action: 'person.imported', requestId });
      Object.assign(result, { outcome: 'created', personId: person.id });
      continue;
    }

    result.personId = existing.id;
    if (!existing.active) {
      result.problems = ['person_deactivated'];
      continue;
    }
    if (!canManagePerson(principal, existing)) {
      result.problems = ['person_not_manageable'];
      continue;
    }
    const addedSites = wanted.siteIds.filter((s) => !existing.siteIds.includes(s));
    const addedRoles = wanted.roles.filter((g) => !existing.roles.some((r) => sameGrant(r, g)));
    const problems: ImportProblem[] = [];
    if (addedSites.some((s) => unmanaged.includes(s))) problems.push('site_not_managed');
    if (addedRoles.some((g) => ungrantable.some((u) => sameGrant(u, g)))) problems.push('role_not_grantable');
    if (problems.length) {
      result.problems = problems;
      continue;
    }
    const changes: ImportChange[] = [];
    if (wanted.name !== existing.name) changes.push('name');
    if (wanted.phone !== null && wanted.phone !== existing.phone) changes.push('phone');
    if (wanted.language !== null && wanted.language !== existing.language) changes.push('language');
    if (addedSites.length) changes.push('sites');
    if (addedRoles.length) changes.push('roles');
    result.changes = changes;
    if (changes.length === 0) {
      result.outcome = 'unchanged';
      continue;
    }
    await tx.query(PEOPLE_SQL.lock, [existing.id]);
    await tx.query(PEOPLE_SQL.update, [
      existing.id, wanted.name, null, wanted.phone !== null, wanted.phone, wanted.language, null, null,
    ]);
    await applyAssignments(tx, existing.id, { added: addedSites, removed: [] }, { added: addedRoles, removed: [] });
    const after = await loadPerson(tx, existing.id);
    await recordAudit(tx, {
      organisationId, actorPersonId: principal.personId, action: 'person.updated',
      entityType: 'person', entityId: existing.id, before: existing, after: { ...after, passwordChanged: false, imported: true }, requestId,
    });
    result.outcome = 'updated';
  }

  for (const r of rows) if (r.problems.length > 0) r.outcome = 'refused';
  const summary = { created: 0, updated: 0, unchanged: 0, refused: 0 };
  for (const r of rows) summary[r.outcome] += 1;
  if (summary.created + summary.updated > 0) {
    await recordAudit(tx, {
      organisationId, actorPersonId: principal.personId, action: 'people.imported',
      entityType: 'organisation', entityId: organisationId, before: null, after: { ...summary, rows: rows.length }, requestId,
    });
  }
  return { dryRun, columns: csv.columns, ignoredColumns: csv.ignoredColumns, summary, rows };
}
