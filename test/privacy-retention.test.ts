import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import type { RetentionCounts } from '../src/modules/privacy/retention-job.js';
import { before } from '../src/modules/privacy/periods.js';
import { databaseUrl, startApp, type TestApp } from './helpers/app.js';
import { seedDemoLinks } from '../src/seed/demo.js';

/**
 * Retention on an injected clock (docs/PRIVACY.md): every class of data past its period is deleted
 * or blanked, data within it is untouched, a kept incident keeps its timeline, an organisation's
 * decision on its incidents is honoured, deactivated people are pseudonymised (their name kept
 * while a kept incident refers to them), the append-only tables change only through the retention
 * functions, and two apps on one database never run the purge at once.
 */

const EMAIL = {
  admin: 'admin@utbildning.example',
  kris: 'kris@utbildning.example',
  anna: 'anna@vasaskolan.example',
  bertil: 'bertil@vasaskolan.example',
  cecilia: 'cecilia@vasaskolan.example',
  frida: 'frida@solrosen.example',
  lisa: 'lisa@biblioteket.example',
  bo: 'chef@biblioteket.example',
  klara: 'admin@kultur.example',
} as const;
type Who = keyof typeof EMAIL;

const DAY = 86_400_000;

describe('retention, driven by an injected clock', () => {
  let t: TestApp;
  let now = Date.now();
  const clock = { now: () => new Date(now) };
  const token = {} as Record<Who, string>;
  const person = {} as Record<Who, string>;
  const api = async (who: Who, method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, body?: unknown) => {
    const res = await t.request({ method, url: `/api/v1${url}`, token: token[who], body });
    if (res.status >= 300) throw new Error(`${method} ${url} as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const ago = (ms: number) => new Date(now - ms);
  const monthsAgo = (months: number) => before(clock.now(), { months });
  const one = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await t.db.query<T>(sql, params)).rows[0] as T;
  const rows = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await t.db.query<T>(sql, params)).rows;
  const incidentRows = async (id: string) => ({
    incident: await rows('SELECT * FROM incidents WHERE id = $1', [id]),
    presses: await rows('SELECT * FROM incident_presses WHERE incident_id = $1 ORDER BY press_id', [id]),
    recipients: await rows('SELECT * FROM incident_recipients WHERE incident_id = $1 ORDER BY person_id', [id]),
    responses: await rows('SELECT * FROM incident_responses WHERE incident_id = $1 ORDER BY id', [id]),
    messages: await rows('SELECT * FROM incident_messages WHERE incident_id = $1 ORDER BY id', [id]),
    events: await rows("SELECT * FROM incident_events WHERE incident_id = $1 AND type <> 'delivery_attempt' ORDER BY id", [id]),
  });

  // Vasaskolan (Utbildningsförvaltningen keeps its incidents, the default): one that ended 13 months
  // ago (its free text is past the 12 months) and one that ended today. The library (Kulturförvaltningen
  // decides on two years): one that ended three years ago.
  let oldVasa: string;
  let newVasa: string;
  let oldLibrary: string;

  async function incident(raiser: Who, lead: Who, siteId: string, typeId: string, free: { location: string; message: string; answer: Who; text: string }) {
    const raised = await api(raiser, 'POST', '/alarms', { pressId: randomUUID(), siteId, alarmTypeId: typeId, location: free.location, message: free.message });
    const id = raised.incident.id as string;
    await api(free.answer, 'POST', `/incidents/${id}/responses`, { status: 'need_help', text: free.text, location: `${free.location}, bakom disken` });
    await api(free.answer, 'POST', `/incidents/${id}/messages`, { kind: 'reply', body: `Svar: ${free.text}` });
    await api(lead, 'POST', `/incidents/${id}/messages`, { kind: 'instruction', body: 'Stanna där ni är.' });
    await api(lead, 'POST', `/incidents/${id}/resolve`, {});
    return id;
  }

  /** Moves an incident into the past: it was raised and ended `ms` before the clock's now. */
  const age = (id: string, ms: number) =>
    t.db.query('UPDATE incidents SET raised_at = $2, last_pressed_at = $2, ended_at = $2 WHERE id = $1', [id, ago(ms)]);

  beforeAll(async () => {
    t = await startApp({}, { clock });
    for (const who of Object.keys(EMAIL) as Who[]) {
      token[who] = await t.login(EMAIL[who]);
      person[who] = t.ids.person[EMAIL[who]] as string;
    }
    // Vasagatan 12's link: the library's threat also reaches Vasaskolan's crisis team (a crossing, a linked incident).
    await seedDemoLinks(t.db);
    oldVasa = await incident('anna', 'kris', t.ids.site.vasaskolan, t.ids.alarmType.hot,
      { location: 'Sal 204', message: 'En man med kniv i korridoren', answer: 'cecilia', text: 'Jag har 20 elever med mig' });
    newVasa = await incident('anna', 'kris', t.ids.site.vasaskolan, t.ids.alarmType.brand,
      { location: 'Slöjdsalen', message: 'Rök från ventilationen', answer: 'kris', text: 'Vi är ute' });
    oldLibrary = await incident('lisa', 'bo', t.ids.site.biblioteket, t.ids.alarmType.hot,
      { location: 'Läsesalen', message: 'Hotfull besökare', answer: 'lisa', text: 'Jag har låst in mig' });
    // The library's incident has a review record of its own.
    const draft = await api('bo', 'GET', `/incidents/${oldLibrary}/review/record`);
    await api('bo', 'PUT', `/incidents/${oldLibrary}/review/record`, { baseRevision: 0, status: 'open', record: draft.draft });
    await age(oldVasa, 396 * DAY);
    await age(oldLibrary, 3 * 365 * DAY);
    await api('klara', 'PUT', `/organisations/${t.ids.org.kultur}/retention`, { incidents: { keep: 'years', years: 2 } });
  });
  afterAll(() => t?.close());

  it('deletes and blanks exactly what is past its period, keeps the rest, and honours each organisation\'s decision on its incidents', async () => {
    // People (90 days after deactivation): Bertil answered a kept incident (his name stays), Frida was in
    // none (her name goes), Lisa raised the library's incident that goes now but was also alerted by today's
    // fire at Vasaskolan through the link (the library's linked incident is kept: her name stays); Cecilia
    // was deactivated 10 days ago.
    for (const who of ['bertil', 'frida', 'cecilia'] as const) await api('admin', 'PATCH', `/people/${person[who]}`, { active: false });
    await api('klara', 'PATCH', `/people/${person.lisa}`, { active: false });
    const deactivated = await one<{ at: Date | null }>('SELECT deactivated_at AS at FROM people WHERE id = $1', [person.bertil]);
    expect(deactivated.at).not.toBeNull();
    await t.db.query('UPDATE people SET deactivated_at = $2 WHERE id = ANY($1)', [[person.bertil, person.frida, person.lisa], ago(91 * DAY)]);
    await t.db.query('UPDATE people SET deactivated_at = $2 WHERE id = $1', [person.cecilia, ago(10 * DAY)]);

    // Sessions: one revoked 31 days ago and one that expired 40 days ago go; one revoked 2 days ago and the live ones stay.
    const sessionOf = async () => (await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: EMAIL.anna, password: 'samlarm-demo' } })).body.session.id as string;
    const [revokedLongAgo, expiredLongAgo, revokedRecently] = [await sessionOf(), await sessionOf(), await sessionOf()];
    await t.db.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1', [revokedLongAgo, ago(31 * DAY)]);
    await t.db.query('UPDATE sessions SET expires_at = $2, last_seen_at = $2 WHERE id = $1', [expiredLongAgo, ago(40 * DAY)]);
    await t.db.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1', [revokedRecently, ago(2 * DAY)]);
    const liveSessions = (await rows<{ id: string }>('SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > now()')).map((r) => r.id);
    expect(liveSessions.length).toBeGreaterThanOrEqual(5);

    // Failed sign-ins: one 31 days old goes, today's stays.
    await t.db.query('INSERT INTO login_failures (email, ip, failed_at) VALUES ($1, $2, $3), ($1, $2, $4)',
      ['okand@example.org', '192.0.2.7', ago(31 * DAY), ago(DAY)]);

    // Deliveries (3 months): a test push from 4 months ago goes, one from last month stays; likewise the
    // record of a push attempt of today's incident.
    const delivery = (createdAt: Date) => t.db.query<{ id: string }>(
      `INSERT INTO deliveries (person_id, channel, kind, origin, payload, ttl_seconds, state, due_at, expires_at, created_at, finished_at)
       VALUES ($1, 'push', 'test', 'https://fcm.googleapis.com', '{}', 300, 'sent', $2, $2, $2, $2) RETURNING id`, [person.anna, createdAt]);
    const oldDelivery = (await delivery(monthsAgo(4))).rows[0]?.id;
    const recentDelivery = (await delivery(monthsAgo(1))).rows[0]?.id;
    // An alarm's payload no delivery refers to any more (migration 017): one from 4 months ago goes, one from last month stays.
    const payload = (incident: string, createdAt: Date, body = '') => t.db.query<{ id: string }>(
      "INSERT INTO push_payloads (incident_id, language, payload, created_at) VALUES ($1, 'sv', jsonb_build_object('body', $3::text), $2) RETURNING id",
      [incident, createdAt, body]);
    const oldPayload = (await payload(newVasa, monthsAgo(4))).rows[0]?.id;
    const recentPayload = (await payload(newVasa, monthsAgo(1))).rows[0]?.id;
    // Pushes of incidents that are blanked or deleted now, sent yesterday: their payloads carry the location.
    for (const incident of [oldVasa, oldLibrary]) {
      await t.db.query(
        `INSERT INTO deliveries (incident_id, person_id, payload_id, channel, kind, origin, ttl_seconds, state, due_at, expires_at, created_at, finished_at)
         VALUES ($1, $2, $3, 'push', 'alarm', 'https://fcm.googleapis.com', 300, 'sent', $4, $4, $4, $4)`,
        [incident, person.anna, (await payload(incident, ago(DAY), 'Plats: Sal 204')).rows[0]?.id, ago(DAY)]);
    }
    // A copy of the incident's first event, as an attempt at `at`: copying the row keeps the insert valid
    // whatever columns the timeline has.
    const attempt = (at: Date) => t.db.query<{ id: string }>(
      `INSERT INTO incident_events
       SELECT (jsonb_populate_record(NULL::incident_events, to_jsonb(e) || jsonb_build_object(
         'id', nextval('incident_events_id_seq'), 'type', 'delivery_attempt', 'audience', 'review', 'actor_person_id', NULL,
         'data', '{"outcome":"sent"}'::jsonb, 'at', $2::timestamptz))).*
         FROM incident_events e WHERE e.incident_id = $1 ORDER BY e.id LIMIT 1
       RETURNING id`, [newVasa, at]);
    const oldAttempt = (await attempt(monthsAgo(4))).rows[0]?.id;
    const recentAttempt = (await attempt(monthsAgo(1))).rows[0]?.id;

    // Audit log (5 years): an entry from 6 years ago goes, one from 4 years ago stays.
    const audit = (at: Date) => t.db.query<{ id: string }>(
      `INSERT INTO audit_log (organisation_id, actor_person_id, action, entity_type, entity_id, at)
       VALUES ($1, $2, 'site.updated', 'site', $3, $4) RETURNING id::text`, [t.ids.org.utbildning, person.admin, t.ids.site.vasaskolan, at]);
    const oldAudit = (await audit(before(clock.now(), { years: 6 }))).rows[0]?.id;
    const keptAudit = (await audit(before(clock.now(), { years: 4 }))).rows[0]?.id;

    const newVasaBefore = await incidentRows(newVasa);
    const oldVasaBefore = await incidentRows(oldVasa);
    const ceciliaBefore = await rows('SELECT * FROM people WHERE id = $1', [person.cecilia]);
    expect(oldVasaBefore.events.length).toBeGreaterThanOrEqual(6);

    const result = await t.app.privacy.retention.run();
    expect(result.ran).toBe(true);
    const counts = (result as { counts: RetentionCounts }).counts;
    expect(counts).toMatchObject({
      sessions: 2, loginFailures: 1, deliveryAttempts: 1, incidentsBlanked: 2, incidentsDeleted: 1, peoplePseudonymised: 3,
      peopleDeferred: 0, auditEntries: 1,
    });

    // Sessions and sign-in failures.
    const sessionIds = (await rows<{ id: string }>('SELECT id FROM sessions')).map((r) => r.id);
    expect(sessionIds).not.toContain(revokedLongAgo);
    expect(sessionIds).not.toContain(expiredLongAgo);
    expect(sessionIds).toContain(revokedRecently);
    expect(sessionIds).toEqual(expect.arrayContaining(liveSessions.filter((id) => id !== revokedLongAgo && id !== expiredLongAgo)));
    expect((await rows<{ failed_at: Date }>('SELECT failed_at FROM login_failures WHERE email = $1', ['okand@example.org'])).length).toBe(1);

    // Deliveries and delivery attempts.
    const deliveryIds = (await rows<{ id: string }>('SELECT id FROM deliveries')).map((r) => r.id);
    expect(deliveryIds).not.toContain(oldDelivery);
    expect(deliveryIds).toContain(recentDelivery);
    const payloadIds = (await rows<{ id: string }>('SELECT id FROM push_payloads')).map((r) => r.id);
    expect(payloadIds).not.toContain(oldPayload);
    expect(payloadIds).toContain(recentPayload);
    const attemptIds = (await rows<{ id: string }>("SELECT id FROM incident_events WHERE type = 'delivery_attempt'")).map((r) => r.id);
    expect(attemptIds).not.toContain(oldAttempt);
    expect(attemptIds).toContain(recentAttempt);

    // The old Vasaskolan incident is kept with its whole timeline; only its free text is blank.
    const oldVasaAfter = await incidentRows(oldVasa);
    expect(oldVasaAfter.events.map((e) => [e.id, e.type, e.at])).toEqual(oldVasaBefore.events.map((e) => [e.id, e.type, e.at]));
    expect(oldVasaAfter.recipients).toEqual(oldVasaBefore.recipients);
    expect(oldVasaAfter.incident[0]).toMatchObject({ location: null, message: null, state: 'resolved' });
    expect(oldVasaAfter.incident[0]?.texts_blanked_at).toEqual(clock.now());
    expect(oldVasaAfter.presses.map((p) => [p.location, p.message])).toEqual([[null, null]]);
    expect(oldVasaAfter.responses.map((r) => [r.status, r.text, r.location])).toEqual([['need_help', null, null]]);
    expect(oldVasaAfter.messages.map((m) => [m.kind, m.body])).toEqual([['instruction', 'Stanna där ni är.']]);
    const text = JSON.stringify(oldVasaAfter);
    for (const free of ['Sal 204', 'kniv', '20 elever']) expect(text).not.toContain(free);
    // Its pushes carried the location too: they are gone with their payloads. (The library's, deleted, are checked below.)
    expect(await rows('SELECT 1 FROM push_payloads WHERE incident_id = $1', [oldVasa])).toEqual([]);
    expect(text).toContain('Stanna där ni är.');
    const raised = oldVasaAfter.events.find((e) => e.type === 'raised');
    expect(raised?.data.incident).toMatchObject({ location: null, message: null, raisedBy: { id: person.anna, name: 'Anna Andersson' } });
    const responded = oldVasaAfter.events.find((e) => e.type === 'responded');
    expect(responded?.data).toMatchObject({ status: 'need_help', text: null, location: null, personId: person.cecilia });

    // Today's incident is untouched; the library's, past its organisation's two years, is gone entirely.
    expect(await incidentRows(newVasa)).toEqual(newVasaBefore);
    expect(JSON.stringify(newVasaBefore)).toContain('Slöjdsalen');
    for (const table of ['incident_events', 'incident_responses', 'incident_messages', 'incident_presses', 'incident_recipients', 'incident_receipts', 'deliveries', 'push_payloads', 'escalation_steps']) {
      expect((await rows(`SELECT 1 FROM ${table} WHERE incident_id = $1`, [oldLibrary])).length, table).toBe(0);
    }
    expect(await rows('SELECT 1 FROM incidents WHERE id = $1', [oldLibrary])).toEqual([]);
    // So are its review record and the link's record of its crossing; the linked incident at Vasaskolan, kept by
    // Utbildningsförvaltningen, remains with where it came from.
    expect(await rows('SELECT 1 FROM incident_review_revisions WHERE incident_id = $1', [oldLibrary])).toEqual([]);
    expect(await rows('SELECT 1 FROM link_crossings WHERE source_incident_id = $1', [oldLibrary])).toEqual([]);
    expect(await rows("SELECT 1 FROM incidents WHERE linked_from->>'incidentId' = $1", [oldLibrary])).toHaveLength(1);

    // Audit log.
    const auditIds = (await rows<{ id: string }>('SELECT id::text FROM audit_log')).map((r) => r.id);
    expect(auditIds).not.toContain(oldAudit);
    expect(auditIds).toContain(keptAudit);

    // People.
    const people = async (who: Who) => one<{ name: string; email: string; phone: string | null; password_hash: string | null; pseudonymised_at: Date | null }>(
      'SELECT name, email, phone, password_hash, pseudonymised_at FROM people WHERE id = $1', [person[who]]);
    expect(await people('bertil')).toEqual({
      name: 'Bertil Berg', email: `pseudonym-${person.bertil}@samlarm.invalid`, phone: null, password_hash: null, pseudonymised_at: clock.now(),
    });
    expect((await people('frida')).name).toBe(`Pseudonym ${person.frida.slice(0, 8)}`);
    expect(await people('lisa')).toMatchObject({ name: 'Lisa Bibliotekarie', phone: null, password_hash: null, email: `pseudonym-${person.lisa}@samlarm.invalid` });
    expect(await rows('SELECT * FROM people WHERE id = $1', [person.cecilia])).toEqual(ceciliaBefore);
    for (const table of ['person_sites', 'role_assignments', 'alarm_group_members', 'sessions']) {
      expect((await rows(`SELECT 1 FROM ${table} WHERE person_id = ANY($1)`, [[person.bertil, person.frida, person.lisa]])).length, table).toBe(0);
    }
    expect((await rows('SELECT 1 FROM person_sites WHERE person_id = $1', [person.cecilia])).length).toBe(1);

    // Audited: each pseudonymised person, each organisation whose incidents changed, and the run.
    const audited = await rows<{ action: string; organisation_id: string | null; entity_id: string; actor_person_id: string | null; after: { nameKept?: boolean } }>(
      "SELECT action, organisation_id, entity_id, actor_person_id, after FROM audit_log WHERE action IN ('person.pseudonymised', 'retention.applied') ORDER BY id");
    expect(audited.every((a) => a.actor_person_id === null)).toBe(true);
    expect(audited.filter((a) => a.action === 'person.pseudonymised').map((a) => [a.entity_id, a.after.nameKept]).sort()).toEqual(
      [[person.bertil, true], [person.frida, false], [person.lisa, true]].sort());
    expect(audited.filter((a) => a.action === 'retention.applied').map((a) => a.organisation_id).sort()).toEqual(
      [null, t.ids.org.kultur, t.ids.org.utbildning].sort());
    const run = await one<{ finished_at: Date | null; counts: RetentionCounts }>('SELECT finished_at, counts FROM retention_runs WHERE id = $1',
      [(result as { runId: string }).runId]);
    expect(run.finished_at).toEqual(clock.now());
    expect(run.counts).toEqual(counts);
  });

  it('runs again only when the interval has passed, and then finds nothing more to do', async () => {
    expect(await t.app.privacy.retention.runIfDue()).toEqual({ ran: false, reason: 'not_due' });
    now += 23 * 3_600_000;
    expect(await t.app.privacy.retention.runIfDue()).toEqual({ ran: false, reason: 'not_due' });
    now += 2 * 3_600_000;
    const again = await t.app.privacy.retention.runIfDue();
    expect(again.ran).toBe(true);
    const counts = (again as { counts: RetentionCounts }).counts;
    expect(Object.entries(counts).filter(([, n]) => n > 0)).toEqual([]);
  });

  it('the append-only tables still refuse changes, except through the retention functions and only for their own rows', async () => {
    const client = await t.db.connect();
    try {
      expect((await client.query('SELECT 1 FROM incident_responses')).rowCount).toBeGreaterThan(0);
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(client.query('UPDATE incident_events SET data = \'{}\'')).rejects.toThrow(/append-only/);
      await expect(client.query('UPDATE incident_responses SET text = NULL')).rejects.toThrow(/append-only/);
      await expect(client.query('TRUNCATE incident_events')).rejects.toThrow(/append-only/);
      await client.query('BEGIN');
      const entries = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]?.n);
      // The function deletes only what is older than its bound, and the way past closes behind it.
      expect((await client.query<{ n: number }>('SELECT retention_delete_audit_log($1)::int AS n', [before(clock.now(), { years: 50 })])).rows[0]?.n).toBe(0);
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await client.query('ROLLBACK');
      expect(entries).toBeGreaterThan(0);
      // Even with the setting the functions use, a change is refused unless it only deletes, or only nulls free text,
      // in the very table the setting names.
      const refusedUnder = async (table: string, sql: string) => {
        await client.query('BEGIN');
        await client.query("SELECT set_config('samlarm.retention', $1, true)", [table]);
        await expect(client.query(sql), sql).rejects.toThrow(/append-only/);
        await client.query('ROLLBACK');
      };
      await refusedUnder('incident_events', "UPDATE incident_events SET type = 'raised'");
      await refusedUnder('incident_events', "UPDATE incident_events SET at = at - interval '1 day'");
      await refusedUnder('incident_responses', "UPDATE incident_responses SET status = 'safe', text = NULL, location = NULL");
      await refusedUnder('incident_responses', "UPDATE incident_responses SET text = 'ändrad'");
      await refusedUnder('audit_log', "UPDATE audit_log SET action = 'x'");
      await refusedUnder('incident_events', 'DELETE FROM audit_log');
    } finally {
      client.release();
    }
  });

  it('a kept name is replaced once no incident refers to the person any more', async () => {
    await api('klara', 'PUT', `/organisations/${t.ids.org.kultur}/retention`, { incidents: { keep: 'forever' } });
    await api('admin', 'PUT', `/organisations/${t.ids.org.utbildning}/retention`, { incidents: { keep: 'years', years: 1 } });
    // Bertil was alarmed by both Vasaskolan incidents; the newer one is still within the year.
    const first = await t.app.privacy.retention.run();
    expect((first as { counts: RetentionCounts }).counts).toMatchObject({ incidentsDeleted: 1, namesReplaced: 0 });
    expect(await rows('SELECT 1 FROM incidents WHERE id = $1', [oldVasa])).toEqual([]);
    expect((await one<{ name: string }>('SELECT name FROM people WHERE id = $1', [person.bertil])).name).toBe('Bertil Berg');
    await age(newVasa, 400 * DAY);
    const second = await t.app.privacy.retention.run();
    expect((second as { counts: RetentionCounts }).counts).toMatchObject({ incidentsDeleted: 1, namesReplaced: 1 });
    expect((await one<{ name: string }>('SELECT name FROM people WHERE id = $1', [person.bertil])).name).toBe(`Pseudonym ${person.bertil.slice(0, 8)}`);
  });

});

describe('retention on two apps sharing one database', () => {
  let t: TestApp;
  let second: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    t = await startApp();
    const database = (await t.db.query<{ name: string }>('SELECT current_database() AS name')).rows[0]?.name as string;
    const url = databaseUrl(database);
    second = await buildApp({
      config: loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: url, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: `test-${database}-b:`, DELIVERY_WORKER: 'false', RETENTION_JOB: 'false' }),
      connectionString: url,
    });
    await second.ready();
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it('never run the purge at once: while one holds the lock the other is refused, and it runs once the first is done', async () => {
    const holder = await t.db.connect();
    try {
      // Stall the first app's run inside its first transaction, while it holds the advisory lock.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE login_failures IN SHARE MODE');
      const first = t.app.privacy.retention.run();
      const deadline = Date.now() + 30_000;
      for (;;) {
        const held = await t.db.query<{ granted: boolean }>(
          "SELECT granted FROM pg_locks WHERE locktype = 'advisory' AND objid = 4711114 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
        const waiting = await t.db.query("SELECT 1 FROM pg_locks WHERE relation = 'login_failures'::regclass AND NOT granted");
        if (held.rows.some((r) => r.granted) && waiting.rowCount) break;
        if (Date.now() > deadline) throw new Error('the first run never took the lock and reached login_failures');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await second.privacy.retention.run()).toEqual({ ran: false, reason: 'busy' });
      expect(await second.privacy.retention.runIfDue()).toEqual({ ran: false, reason: 'busy' });
      expect(await t.app.privacy.retention.run()).toEqual({ ran: false, reason: 'busy' });
      await holder.query('COMMIT');
      expect((await first).ran).toBe(true);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
    // The lock is free again: the second app runs now, and the runs never overlapped.
    expect((await second.privacy.retention.run()).ran).toBe(true);
    const runs = (await t.db.query<{ started_at: Date; finished_at: Date }>(
      'SELECT started_at, finished_at FROM retention_runs ORDER BY started_at')).rows;
    expect(runs).toHaveLength(2);
    expect(runs[0]?.finished_at.getTime()).toBeLessThanOrEqual(runs[1]?.started_at.getTime() ?? 0);
  });
});
