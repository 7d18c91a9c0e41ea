import type { Queryable } from '../../db/pool.js';
import type { RoleGrant } from '../auth/policies.js';

/**
 * A person's profile as personal data: what their export shows, and pseudonymisation (on request,
 * or some time after deactivation). A pseudonymised person keeps their row, so incidents and the
 * audit log still refer to someone; their name stays only while a kept incident needs it.
 */

// One place for what a pseudonym looks like: the row's own id, which identifies no one outside Samlarm.
const PSEUDONYM = "'Pseudonym ' || substr(p.id::text, 1, 8)";

const PERSONAL_DATA_SQL = {
  profile: `
    SELECT p.id, p.organisation_id AS "organisationId", p.name, p.email, p.phone, p.language, p.active,
           p.created_at AS "createdAt", p.updated_at AS "updatedAt", p.deactivated_at AS "deactivatedAt",
           p.pseudonymised_at AS "pseudonymisedAt",
           coalesce((SELECT json_agg(json_build_object('role', r.role, 'siteId', r.site_id) ORDER BY r.role, r.site_id)
                       FROM role_assignments r WHERE r.person_id = p.id), '[]') AS roles
      FROM people p WHERE p.id = $1`,
  lock: 'SELECT id FROM people WHERE id = $1 FOR UPDATE',
  // Deactivated long enough and not yet pseudonymised; served by the partial index on deactivated_at.
  due: `
    SELECT id FROM people
     WHERE NOT active AND pseudonymised_at IS NULL AND deactivated_at < $1
     ORDER BY deactivated_at, id LIMIT $2`,
  stillDue: 'SELECT 1 FROM people WHERE id = $1 AND NOT active AND pseudonymised_at IS NULL AND deactivated_at < $2',
  // Pseudonymised people whose name was kept for an incident: asked again each run whether it still is.
  keptNames: `SELECT p.id FROM people p WHERE p.pseudonymised_at IS NOT NULL AND p.name <> ${PSEUDONYM}`,
  pseudonymise: `
    UPDATE people p SET name = CASE WHEN $2::boolean THEN p.name ELSE ${PSEUDONYM} END,
           email = 'pseudonym-' || p.id::text || '@samlarm.invalid', phone = NULL, password_hash = NULL,
           active = false, pseudonymised_at = $3, updated_at = now()
     WHERE p.id = $1`,
  replaceNames: `UPDATE people p SET name = ${PSEUDONYM}, updated_at = now() WHERE p.id = ANY($1::uuid[]) AND p.pseudonymised_at IS NOT NULL`,
  removeSites: 'DELETE FROM person_sites WHERE person_id = $1',
  removeRoles: 'DELETE FROM role_assignments WHERE person_id = $1',
} as const;

export interface Profile {
  id: string;
  organisationId: string;
  name: string;
  email: string;
  phone: string | null;
  language: 'sv' | 'en';
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
  deactivatedAt: Date | null;
  pseudonymisedAt: Date | null;
  roles: RoleGrant[];
}

export async function profileOf(db: Queryable, personId: string): Promise<Profile | null> {
  return (await db.query<Profile>(PERSONAL_DATA_SQL.profile, [personId])).rows[0] ?? null;
}

/** Locks the person's row for the rest of the transaction: no change to them meanwhile. */
export async function lockPersonRow(tx: Queryable, personId: string): Promise<void> {
  await tx.query(PERSONAL_DATA_SQL.lock, [personId]);
}

/** People deactivated before `bound` and not yet pseudonymised, oldest first. */
export async function dueForPseudonymisation(db: Queryable, bound: Date, limit: number): Promise<string[]> {
  return (await db.query<{ id: string }>(PERSONAL_DATA_SQL.due, [bound, limit])).rows.map((r) => r.id);
}

/** Checked again under the row lock: reactivated meanwhile, or done by another path, is no longer due. */
export async function stillDueForPseudonymisation(tx: Queryable, personId: string, bound: Date): Promise<boolean> {
  return ((await tx.query(PERSONAL_DATA_SQL.stillDue, [personId, bound])).rowCount ?? 0) > 0;
}

export async function pseudonymisedWithName(db: Queryable): Promise<string[]> {
  return (await db.query<{ id: string }>(PERSONAL_DATA_SQL.keptNames)).rows.map((r) => r.id);
}

/**
 * Replaces e-mail and phone, removes the password, sites and roles, deactivates; the name too unless
 * `keepName`. Returns how many site and role rows went.
 */
export async function pseudonymiseProfile(
  tx: Queryable, personId: string, keepName: boolean, at: Date,
): Promise<{ sites: number; roles: number }> {
  await tx.query(PERSONAL_DATA_SQL.pseudonymise, [personId, keepName, at]);
  const sites = (await tx.query(PERSONAL_DATA_SQL.removeSites, [personId])).rowCount ?? 0;
  const roles = (await tx.query(PERSONAL_DATA_SQL.removeRoles, [personId])).rowCount ?? 0;
  return { sites, roles };
}

/** The names of pseudonymised people no kept incident needs any more become their pseudonyms. */
export async function replaceKeptNames(tx: Queryable, personIds: string[]): Promise<number> {
  if (personIds.length === 0) return 0;
  return (await tx.query(PERSONAL_DATA_SQL.replaceNames, [personIds])).rowCount ?? 0;
}
