import type { Config } from '../../config/config.js';
import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { canManagePerson, type Principal } from '../auth/policies.js';
import { hashPassword } from '../auth/passwords.js';
import { openSession, revokeAllSessions, type NewSession, type SessionMeta } from '../auth/sessions.js';
import { hashToken } from '../auth/tokens.js';
import { randomBytes } from 'node:crypto';
import { visiblePerson, type Language } from './people.js';

export type LinkPurpose = 'invite' | 'reset';

const PREFIX = 'al_';

export const LINK_SQL = {
  revokeOpen: 'UPDATE access_links SET revoked_at = now() WHERE person_id = $1 AND used_at IS NULL AND revoked_at IS NULL',
  insert: `
    INSERT INTO access_links (person_id, organisation_id, purpose, token_hash, created_by, expires_at)
    VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6)) RETURNING id, expires_at`,
  // A usable link: unused, not revoked, not expired, and its person still active.
  usable: `
    SELECT l.id, l.purpose, l.person_id, l.organisation_id, p.name, p.email, p.language, o.name AS organisation_name,
           coalesce(si.password_sign_in, true) OR EXISTS (
             SELECT 1 FROM role_assignments r WHERE r.person_id = p.id AND r.role IN ('org_admin', 'system_admin')
           ) AS password_allowed
      FROM access_links l
      JOIN people p ON p.id = l.person_id AND p.active
      JOIN organisations o ON o.id = l.organisation_id
      LEFT JOIN organisation_sign_in si ON si.organisation_id = l.organisation_id
     WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > now()`,
  lock: 'SELECT id FROM access_links WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now() FOR UPDATE',
  markUsed: 'UPDATE access_links SET used_at = now() WHERE id = $1',
  setPassword: 'UPDATE people SET password_hash = $2, updated_at = now() WHERE id = $1',
} as const;

const looksLikeLinkToken = (token: string): boolean => token.startsWith(PREFIX) && token.length > 40 && token.length < 100;

export interface CreatedLink {
  token: string;
  purpose: LinkPurpose;
  expiresAt: Date;
  person: { id: string; name: string; email: string; language: Language };
}

/**
 * An admin makes a one-time link for someone they manage: an invitation to choose a first password,
 * or a reset. Never the password itself. A new link replaces the person's earlier open ones.
 */
export async function createAccessLink(
  db: Db, config: Config, principal: Principal, personId: string, purpose: LinkPurpose, requestId: string,
): Promise<CreatedLink> {
  return inTransaction(db, async (tx) => {
    const person = await visiblePerson(tx, principal, personId);
    if (!canManagePerson(principal, person)) throw new AppError('forbidden');
    if (!person.active) throw new AppError('account_deactivated', { sv: 'Aktivera personen först.', en: 'Reactivate the person first.' });
    const token = PREFIX + randomBytes(32).toString('base64url');
    const minutes = purpose === 'invite' ? config.INVITE_LINK_TTL_HOURS * 60 : config.RESET_LINK_TTL_MINUTES;
    await tx.query(LINK_SQL.revokeOpen, [person.id]);
    const row = (await tx.query<{ id: string; expires_at: Date }>(LINK_SQL.insert, [
      person.id, person.organisationId, purpose, hashToken(token), principal.personId, minutes,
    ])).rows[0] as { id: string; expires_at: Date };
    await recordAudit(tx, {
      organisationId: person.organisationId, actorPersonId: principal.personId, action: `person.${purpose}_link_created`,
      entityType: 'person', entityId: person.id, before: null,
      after: { name: person.name, siteIds: person.siteIds, expiresAt: row.expires_at.toISOString() }, requestId,
    });
    return { token, purpose, expiresAt: row.expires_at, person: { id: person.id, name: person.name, email: person.email, language: person.language } };
  });
}

interface UsableLink {
  id: string;
  purpose: LinkPurpose;
  person_id: string;
  organisation_id: string;
  name: string;
  email: string;
  language: Language;
  organisation_name: string;
  password_allowed: boolean;
}

async function usableLink(db: Queryable, token: string): Promise<UsableLink> {
  if (!looksLikeLinkToken(token)) throw new AppError('link_invalid');
  const link = (await db.query<UsableLink>(LINK_SQL.usable, [hashToken(token)])).rows[0];
  if (!link) throw new AppError('link_invalid');
  return link;
}

/** What the link's page shows before the person chooses a password: who it is for. */
export async function inspectAccessLink(db: Queryable, token: string) {
  const link = await usableLink(db, token);
  return {
    purpose: link.purpose, name: link.name, email: link.email, language: link.language,
    organisationName: link.organisation_name, passwordSignIn: link.password_allowed,
  };
}

/**
 * The person follows the link and chooses a password: the link is used up, every other session of
 * theirs ends (a reset after a lost phone), and this device is signed in.
 */
export async function redeemAccessLink(
  db: Db, config: Config, token: string, password: string, meta: SessionMeta, requestId: string,
): Promise<NewSession> {
  // Checked before hashing: a wrong token must not cost the CPU a password hash takes.
  const link = await usableLink(db, token);
  if (!link.password_allowed) throw new AppError('password_sign_in_disabled');
  const hash = await hashPassword(password);
  return inTransaction(db, async (tx) => {
    if (!(await tx.query(LINK_SQL.lock, [link.id])).rowCount) throw new AppError('link_invalid');
    await tx.query(LINK_SQL.markUsed, [link.id]);
    await tx.query(LINK_SQL.setPassword, [link.person_id, hash]);
    await revokeAllSessions(tx, link.person_id);
    const session = await openSession(tx, config, link.person_id, meta);
    await recordAudit(tx, {
      organisationId: link.organisation_id, actorPersonId: link.person_id, action: `person.${link.purpose}_link_used`,
      entityType: 'person', entityId: link.person_id, before: null, after: null, requestId,
    });
    return session;
  });
}
