import type { Config } from '../../config/config.js';
import type { Db, Queryable } from '../../db/pool.js';
import { AppError, type Language } from '../../lib/errors.js';
import { inTransaction } from '../../db/pool.js';
import { recordAudit } from '../audit/audit.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { AUTH_SQL } from './queries.js';
import type { Principal, RoleGrant } from './policies.js';
import { hashToken, looksLikeSessionToken, newSessionToken } from './tokens.js';

export type SessionKind = 'browser' | 'device';

export interface LoginInput {
  email: string;
  password: string;
  kind: SessionKind;
  label?: string | undefined;
  userAgent?: string | undefined;
  ip: string;
}

export interface NewSession {
  token: string;
  sessionId: string;
  personId: string;
  kind: SessionKind;
  expiresAt: Date;
}

const ttlDays = (config: Config, kind: SessionKind): number =>
  kind === 'device' ? config.DEVICE_SESSION_TTL_DAYS : config.SESSION_TTL_DAYS;

/**
 * Sign-in: refuse a locked address before looking at the password, verify in constant time,
 * count failures per address (existing or not), and open a server-side session.
 */
export async function login(db: Db, config: Config, input: LoginInput): Promise<NewSession> {
  const email = input.email.trim().toLowerCase();
  const recent = await db.query<{ failures: number; last_failure: Date | null }>(AUTH_SQL.recentFailures, [
    email,
    config.LOGIN_LOCKOUT_MINUTES,
  ]);
  const { failures, last_failure } = recent.rows[0] ?? { failures: 0, last_failure: null };
  if (failures >= config.LOGIN_MAX_FAILURES && last_failure) {
    const unlockAt = last_failure.getTime() + config.LOGIN_LOCKOUT_MINUTES * 60_000;
    throw new AppError('account_locked', undefined, { retryAfterSeconds: Math.max(1, Math.ceil((unlockAt - Date.now()) / 1000)) });
  }

  const person = (await db.query<{ id: string; password_hash: string | null }>(AUTH_SQL.personByEmail, [email])).rows[0];
  const valid = await verifyPassword(person?.password_hash ?? null, input.password);
  if (!person || !valid) {
    await db.query(AUTH_SQL.recordFailure, [email, input.ip]);
    throw new AppError('invalid_credentials');
  }

  const token = newSessionToken();
  return inTransaction(db, async (tx) => {
    await tx.query(AUTH_SQL.clearFailures, [email]);
    const created = await tx.query<{ id: string; kind: SessionKind; expires_at: Date }>(AUTH_SQL.createSession, [
      person.id,
      hashToken(token),
      input.kind,
      input.label ?? null,
      input.userAgent?.slice(0, 300) ?? null,
      input.ip,
      ttlDays(config, input.kind),
    ]);
    const row = created.rows[0];
    if (!row) throw new Error('session insert returned nothing');
    return { token, sessionId: row.id, personId: person.id, kind: row.kind, expiresAt: row.expires_at };
  });
}

// Renewing a sliding session on every request would write on every read; once in a while is enough.
const TOUCH_INTERVAL_MS = 5 * 60_000;

/** Resolves a bearer token to the acting principal, or null when it is unknown, expired or revoked. */
export async function principalForToken(db: Db, config: Config, token: string): Promise<Principal | null> {
  if (!looksLikeSessionToken(token)) return null;
  const result = await db.query<{
    session_id: string;
    person_id: string;
    kind: SessionKind;
    last_seen_at: Date;
    organisation_id: string;
    language: Language;
    roles: RoleGrant[];
  }>(AUTH_SQL.principalByToken, [hashToken(token)]);
  const row = result.rows[0];
  if (!row) return null;
  if (Date.now() - row.last_seen_at.getTime() > TOUCH_INTERVAL_MS) {
    await db.query(AUTH_SQL.touchSession, [row.session_id, ttlDays(config, row.kind)]);
  }
  return {
    personId: row.person_id, organisationId: row.organisation_id, sessionId: row.session_id, language: row.language, roles: row.roles,
  };
}

export interface SessionView {
  id: string;
  kind: SessionKind;
  label: string | null;
  user_agent: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

export async function listSessions(db: Queryable, personId: string): Promise<SessionView[]> {
  return (await db.query<SessionView>(AUTH_SQL.listSessions, [personId])).rows;
}

export async function revokeSession(db: Queryable, personId: string, sessionId: string): Promise<void> {
  const result = await db.query(AUTH_SQL.revokeSession, [sessionId, personId]);
  if (result.rowCount === 0) throw new AppError('not_found');
}

export async function revokeAllSessions(db: Queryable, personId: string): Promise<void> {
  await db.query(AUTH_SQL.revokeAllSessions, [personId]);
}

/** Changing one's password signs out every other session: a lost phone stops working at once. */
export async function changePassword(
  db: Db,
  principal: Principal,
  input: { currentPassword: string; newPassword: string },
  requestId: string,
): Promise<void> {
  const current = (await db.query<{ password_hash: string | null }>(AUTH_SQL.passwordHash, [principal.personId])).rows[0];
  if (!(await verifyPassword(current?.password_hash ?? null, input.currentPassword))) {
    throw new AppError('invalid_credentials');
  }
  const newHash = await hashPassword(input.newPassword);
  await inTransaction(db, async (tx) => {
    await tx.query(AUTH_SQL.setPassword, [principal.personId, newHash]);
    await tx.query(AUTH_SQL.revokeOtherSessions, [principal.personId, principal.sessionId]);
    await recordAudit(tx, {
      organisationId: principal.organisationId,
      actorPersonId: principal.personId,
      action: 'person.password_changed',
      entityType: 'person',
      entityId: principal.personId,
      before: null,
      after: null,
      requestId,
    });
  });
}
