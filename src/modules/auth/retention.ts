import type { Queryable } from '../../db/pool.js';

/**
 * Sessions and failed sign-ins as personal data: how long they are kept, what a person's export
 * shows of them, and what erasing a person removes. The privacy module orchestrates; the SQL on
 * this module's tables stays here.
 */
const AUTH_RETENTION_SQL = {
  // A session ended when it was revoked or expired; live ones are never purged. Scans sessions
  // (a few rows per person), once per retention run. Their push subscriptions go with them (cascade).
  deleteEnded: 'DELETE FROM sessions WHERE revoked_at < $1 OR expires_at < $1',
  deleteFailures: 'DELETE FROM login_failures WHERE failed_at < $1',
  deleteSessionsOf: 'DELETE FROM sessions WHERE person_id = $1',
  deleteFailuresFor: 'DELETE FROM login_failures WHERE email = $1',
  // Every session the server still holds, ended ones included: the export shows what is stored.
  sessionsOf: `
    SELECT id, kind, label, user_agent AS "userAgent", ip, platform, push_permission AS "pushPermission", standalone,
           created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt", revoked_at AS "revokedAt"
      FROM sessions WHERE person_id = $1 ORDER BY created_at, id`,
  failuresFor: 'SELECT ip, failed_at AS "at" FROM login_failures WHERE email = $1 ORDER BY failed_at, id',
} as const;

export interface StoredSession {
  id: string;
  kind: 'browser' | 'device';
  label: string | null;
  userAgent: string | null;
  ip: string | null;
  platform: string | null;
  pushPermission: string | null;
  standalone: boolean | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

export interface StoredLoginFailure {
  ip: string | null;
  at: Date;
}

const count = (result: { rowCount: number | null }): number => result.rowCount ?? 0;

/** Deletes sessions that ended before `bound`. */
export async function deleteEndedSessions(tx: Queryable, bound: Date): Promise<number> {
  return count(await tx.query(AUTH_RETENTION_SQL.deleteEnded, [bound]));
}

/** Deletes failed sign-ins older than `bound`. */
export async function deleteLoginFailures(tx: Queryable, bound: Date): Promise<number> {
  return count(await tx.query(AUTH_RETENTION_SQL.deleteFailures, [bound]));
}

export async function sessionsOf(db: Queryable, personId: string): Promise<StoredSession[]> {
  return (await db.query<StoredSession>(AUTH_RETENTION_SQL.sessionsOf, [personId])).rows;
}

export async function loginFailuresFor(db: Queryable, email: string): Promise<StoredLoginFailure[]> {
  return (await db.query<StoredLoginFailure>(AUTH_RETENTION_SQL.failuresFor, [email])).rows;
}

/** Erasure: every session of the person (their devices are signed out) and the failed sign-ins under their address. */
export async function forgetSignIns(tx: Queryable, personId: string, email: string): Promise<{ sessions: number; loginFailures: number }> {
  return {
    sessions: count(await tx.query(AUTH_RETENTION_SQL.deleteSessionsOf, [personId])),
    loginFailures: count(await tx.query(AUTH_RETENTION_SQL.deleteFailuresFor, [email])),
  };
}
