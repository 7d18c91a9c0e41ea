/** SQL for sign-in and sessions. */
export const AUTH_SQL = {
  recentFailures: `
    SELECT count(*)::int AS failures, max(failed_at) AS last_failure
      FROM login_failures
     WHERE email = $1 AND failed_at > now() - make_interval(mins => $2)`,
  recordFailure: 'INSERT INTO login_failures (email, ip) VALUES ($1, $2)',
  clearFailures: 'DELETE FROM login_failures WHERE email = $1',
  personByEmail: 'SELECT id, password_hash FROM people WHERE email = $1 AND active',
  createSession: `
    INSERT INTO sessions (person_id, token_hash, kind, label, user_agent, ip, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7))
    RETURNING id, kind, expires_at`,
  // Runs on every authenticated request: one indexed lookup by token hash.
  principalByToken: `
    SELECT s.id AS session_id, s.person_id, s.kind, s.last_seen_at, p.organisation_id, p.language,
           coalesce((SELECT json_agg(json_build_object('role', r.role, 'siteId', r.site_id))
                       FROM role_assignments r WHERE r.person_id = p.id), '[]') AS roles
      FROM live_sessions s JOIN people p ON p.id = s.person_id
     WHERE s.token_hash = $1 AND p.active`,
  touchSession: `
    UPDATE sessions SET last_seen_at = now(), expires_at = now() + make_interval(days => $2)
     WHERE id = $1 AND revoked_at IS NULL`,
  listSessions: `
    SELECT id, kind, label, user_agent, created_at, last_seen_at, expires_at
      FROM live_sessions
     WHERE person_id = $1
     ORDER BY last_seen_at DESC`,
  revokeSession: `
    UPDATE sessions SET revoked_at = now()
     WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL
    RETURNING id`,
  revokeAllSessions: 'UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL',
  revokeOtherSessions: 'UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND id <> $2 AND revoked_at IS NULL',
  passwordHash: 'SELECT password_hash FROM people WHERE id = $1',
  setPassword: 'UPDATE people SET password_hash = $2, updated_at = now() WHERE id = $1',
} as const;
