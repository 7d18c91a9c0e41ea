/** SQL for sign-in and sessions. */
export const AUTH_SQL = {
  // Failures of one address from one client address: one client's guesses slow only that client.
  recentFailures: `
    SELECT count(*)::int AS failures, max(failed_at) AS last_failure
      FROM login_failures
     WHERE email = $1 AND ip IS NOT DISTINCT FROM $2 AND failed_at > now() - make_interval(mins => $3)`,
  recordFailure: 'INSERT INTO login_failures (email, ip) VALUES ($1, $2)',
  // Only the pair that signed in: the owner signing in must not lift a lock on someone else's client.
  clearFailures: 'DELETE FROM login_failures WHERE email = $1 AND ip IS NOT DISTINCT FROM $2',
  // The same address may be in use in several organisations; the password decides whose account it is.
  peopleByEmail: `
    SELECT p.id, p.password_hash, p.language, p.name,
           coalesce(si.password_sign_in, true) OR EXISTS (
             SELECT 1 FROM role_assignments r WHERE r.person_id = p.id AND r.role IN ('org_admin', 'system_admin')
           ) AS password_allowed
      FROM people p LEFT JOIN organisation_sign_in si ON si.organisation_id = p.organisation_id
     WHERE p.email = $1 AND p.active
     ORDER BY p.created_at, p.id
     LIMIT 5`,
  failuresOfPerson: `
    SELECT f.ip, count(*)::int AS failures, max(f.failed_at) AS last_failure
      FROM login_failures f JOIN people p ON p.email = f.email
     WHERE p.id = $1 AND f.failed_at > now() - interval '30 days'
     GROUP BY f.ip
     ORDER BY max(f.failed_at) DESC
     LIMIT 20`,
  createSession: `
    INSERT INTO sessions (person_id, token_hash, kind, label, user_agent, ip, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7))
    RETURNING id, kind, expires_at`,
  // Runs on every authenticated request: one indexed lookup by token hash.
  // The session behind a token and, in the same statement, its renewal when it was last renewed more
  // than $4 seconds ago: its expiry moves to its kind's lifetime from now ($2 days for a browser
  // session, $3 for a device). One round trip per request, socket event and handshake.
  principalByToken: `
    WITH found AS (
      SELECT s.id AS session_id, s.person_id, s.kind, p.organisation_id, p.language,
             coalesce((SELECT json_agg(json_build_object('role', r.role, 'siteId', r.site_id))
                         FROM role_assignments r WHERE r.person_id = p.id), '[]') AS roles,
             s.last_seen_at < now() - make_interval(secs => $4) AS due
        FROM live_sessions s JOIN people p ON p.id = s.person_id
       WHERE s.token_hash = $1 AND p.active
    ), renewed AS (
      UPDATE sessions s
         SET last_seen_at = now(), expires_at = now() + make_interval(days => CASE f.kind WHEN 'device' THEN $3::int ELSE $2::int END)
        FROM found f
       WHERE s.id = f.session_id AND f.due AND s.revoked_at IS NULL
    )
    SELECT session_id, person_id, organisation_id, language, roles FROM found`,
  // Which of these sessions are still live, of a person still active: the rest have ended.
  liveAmong: `
    SELECT s.id FROM live_sessions s JOIN people p ON p.id = s.person_id
     WHERE s.id = ANY($1::uuid[]) AND p.active`,
  listSessions: `
    SELECT s.id, s.kind, s.label, s.user_agent, s.created_at, s.last_seen_at, s.expires_at, s.platform,
           s.push_permission, ps.id IS NOT NULL AS push_subscribed
      FROM live_sessions s LEFT JOIN push_subscriptions ps ON ps.session_id = s.id
     WHERE s.person_id = $1
     ORDER BY s.last_seen_at DESC`,
  revokeSession: `
    UPDATE sessions SET revoked_at = now()
     WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL
    RETURNING id`,
  revokeAllSessions: 'UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL',
  revokeOtherSessions: 'UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND id <> $2 AND revoked_at IS NULL',
  passwordOf: 'SELECT password_hash FROM people WHERE id = $1',
  setPassword: 'UPDATE people SET password_hash = $2, updated_at = now() WHERE id = $1',
} as const;
