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

export interface SessionMeta {
  kind: SessionKind;
  label?: string | undefined;
  userAgent?: string | undefined;
  ip: string;
}

export interface LoginInput extends SessionMeta {
  email: string;
  password: string;
}

export interface NewSession {
  token: string;
  sessionId: string;
  personId: string;
  kind: SessionKind;
  expiresAt: Date;
}

/** Told when a client's failures first slow it down: the address's owner gets a notice. */
export type OnThrottled = (email: string, ip: string) => void;

const ttlDays = (config: Config, kind: SessionKind): number =>
  kind === 'device' ? config.DEVICE_SESSION_TTL_DAYS : config.SESSION_TTL_DAYS;

/** The first wait after LOGIN_MAX_FAILURES failures; it doubles with each further failure. */
const FIRST_WAIT_SECONDS = 15;

/**
 * How long a client must wait before its next try at an address: nothing below LOGIN_MAX_FAILURES
 * failures, then 15 s doubling with each further failure, never more than LOGIN_LOCKOUT_MINUTES. A
 * delay for that client, never a lock of the address: its owner signing in elsewhere is not held up.
 */
export function waitSeconds(config: Config, failures: number, lastFailure: Date | null, now: number): number {
  if (failures < config.LOGIN_MAX_FAILURES || !lastFailure) return 0;
  const delay = Math.min(config.LOGIN_LOCKOUT_MINUTES * 60, FIRST_WAIT_SECONDS * 2 ** (failures - config.LOGIN_MAX_FAILURES));
  return Math.max(0, Math.ceil((lastFailure.getTime() + delay * 1000 - now) / 1000));
}

/** Refuses a client that must still wait after its failures at this address (429 account_locked with Retry-After). */
async function refuseIfThrottled(db: Queryable, config: Config, email: string, ip: string): Promise<number> {
  const recent = await db.query<{ failures: number; last_failure: Date | null }>(AUTH_SQL.recentFailures, [
    email, ip, config.LOGIN_LOCKOUT_MINUTES,
  ]);
  const { failures, last_failure } = recent.rows[0] ?? { failures: 0, last_failure: null };
  const wait = waitSeconds(config, failures, last_failure, Date.now());
  if (wait > 0) throw new AppError('account_locked', undefined, { retryAfterSeconds: wait });
  return failures;
}

/** Counts a failure of this client at this address; the one that starts its slowdown tells the owner. */
async function recordFailure(db: Queryable, config: Config, email: string, ip: string, earlier: number, onThrottled?: OnThrottled): Promise<void> {
  await db.query(AUTH_SQL.recordFailure, [email, ip]);
  if (earlier + 1 === config.LOGIN_MAX_FAILURES) onThrottled?.(email, ip);
}

/** Opens a server-side session for a person who has proven who they are (password, link or OpenID provider). */
export async function openSession(db: Queryable, config: Config, personId: string, meta: SessionMeta): Promise<NewSession> {
  const token = newSessionToken();
  const created = await db.query<{ id: string; kind: SessionKind; expires_at: Date }>(AUTH_SQL.createSession, [
    personId,
    hashToken(token),
    meta.kind,
    meta.label ?? null,
    meta.userAgent?.slice(0, 300) ?? null,
    meta.ip,
    ttlDays(config, meta.kind),
  ]);
  const row = created.rows[0];
  if (!row) throw new Error('session insert returned nothing');
  return { token, sessionId: row.id, personId, kind: row.kind, expiresAt: row.expires_at };
}

/**
 * Sign-in: refuse a client that must still wait after its failures, verify in constant time, count
 * failures per address and client (existing address or not), and open a server-side session. The
 * same address may be in use in two organisations: the account whose password matches signs in.
 */
export async function login(db: Db, config: Config, input: LoginInput, onThrottled?: OnThrottled): Promise<NewSession> {
  const email = input.email.trim().toLowerCase();
  const earlier = await refuseIfThrottled(db, config, email, input.ip);

  const candidates = (await db.query<{ id: string; password_hash: string | null; password_allowed: boolean }>(
    AUTH_SQL.peopleByEmail, [email],
  )).rows;
  let person: (typeof candidates)[number] | undefined;
  if (candidates.length === 0) await verifyPassword(null, input.password);
  for (const candidate of candidates) {
    if (await verifyPassword(candidate.password_hash, input.password)) {
      person = candidate;
      break;
    }
  }
  if (!person) {
    await recordFailure(db, config, email, input.ip, earlier, onThrottled);
    throw new AppError('invalid_credentials');
  }
  // Only someone who knows the password learns that their organisation signs in elsewhere.
  if (!person.password_allowed) throw new AppError('password_sign_in_disabled');

  const personId = person.id;
  return inTransaction(db, async (tx) => {
    await tx.query(AUTH_SQL.clearFailures, [email, input.ip]);
    return openSession(tx, config, personId, input);
  });
}

// Renewing a sliding session on every request would write on every read; once in a while is enough.
/** A session in use is renewed at most this often (a write per request would be pointless). */
const RENEW_EVERY_SECONDS = 5 * 60;

/**
 * Resolves a bearer token to the acting principal, or null when it is unknown, expired or revoked;
 * a session in use is renewed in the same round trip.
 */
export async function principalForToken(db: Db, config: Config, token: string): Promise<Principal | null> {
  if (!looksLikeSessionToken(token)) return null;
  const result = await db.query<{
    session_id: string;
    person_id: string;
    organisation_id: string;
    language: Language;
    roles: RoleGrant[];
  }>(AUTH_SQL.principalByToken, [hashToken(token), config.SESSION_TTL_DAYS, config.DEVICE_SESSION_TTL_DAYS, RENEW_EVERY_SECONDS]);
  const row = result.rows[0];
  if (!row) return null;
  return {
    personId: row.person_id, organisationId: row.organisation_id, sessionId: row.session_id, language: row.language, roles: row.roles,
  };
}

/** Those of `sessionIds` still live, of a person still active. */
export async function liveSessionsAmong(db: Queryable, sessionIds: string[]): Promise<Set<string>> {
  if (sessionIds.length === 0) return new Set();
  return new Set((await db.query<{ id: string }>(AUTH_SQL.liveAmong, [sessionIds])).rows.map((r) => r.id));
}

export interface SessionView {
  id: string;
  kind: SessionKind;
  label: string | null;
  user_agent: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  platform: string | null;
  push_permission: string | null;
  push_subscribed: boolean;
}

export async function listSessions(db: Queryable, personId: string): Promise<SessionView[]> {
  return (await db.query<SessionView>(AUTH_SQL.listSessions, [personId])).rows;
}

export interface FailedSignIns {
  ip: string | null;
  failures: number;
  last_failure: Date;
}

/** Failed sign-ins with the caller's address over the last 30 days, per client address: the owner's notice in the app. */
export async function failedSignInsOf(db: Queryable, personId: string): Promise<FailedSignIns[]> {
  return (await db.query<FailedSignIns>(AUTH_SQL.failuresOfPerson, [personId])).rows;
}

export async function revokeSession(db: Queryable, personId: string, sessionId: string): Promise<void> {
  const result = await db.query(AUTH_SQL.revokeSession, [sessionId, personId]);
  if (result.rowCount === 0) throw new AppError('not_found');
}

export async function revokeAllSessions(db: Queryable, personId: string): Promise<void> {
  await db.query(AUTH_SQL.revokeAllSessions, [personId]);
}

/**
 * Changing one's password signs out every other session: a lost phone stops working at once. (The
 * route limits how often a person may try, so a stolen session cannot guess the current password.)
 */
export async function changePassword(
  db: Db,
  principal: Principal,
  input: { currentPassword: string; newPassword: string },
  requestId: string,
): Promise<void> {
  const current = (await db.query<{ password_hash: string | null }>(AUTH_SQL.passwordOf, [principal.personId])).rows[0];
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
