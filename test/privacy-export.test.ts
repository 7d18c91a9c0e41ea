import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Response, type TestApp } from './helpers/app.js';

/**
 * A person's own data (docs/PRIVACY.md): GET /me/export and /people/:id/export hold exactly the
 * person's data and nothing of anyone else's, across organisations; exports are audited; erasure
 * pseudonymises at once and keeps what a kept incident needs; each organisation's retention
 * decision. Refusals and bad input change nothing.
 */

const EMAIL = {
  admin: 'admin@utbildning.example',
  rektor: 'rektor@vasaskolan.example',
  kris: 'kris@utbildning.example',
  anna: 'anna@vasaskolan.example',
  bertil: 'bertil@vasaskolan.example',
  solrosRektor: 'rektor@solrosen.example',
  lisa: 'lisa@biblioteket.example',
  bo: 'chef@biblioteket.example',
  klara: 'admin@kultur.example',
} as const;
type Who = keyof typeof EMAIL;

describe('a person\'s own data: export, erasure, retention settings', () => {
  let t: TestApp;
  const token = {} as Record<Who, string>;
  const person = {} as Record<Who, string>;
  const call = (who: Who, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, body?: unknown): Promise<Response> =>
    t.request({ method, url: `/api/v1${url}`, token: token[who], body });
  const ok = async (who: Who, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, body?: unknown) => {
    const res = await call(who, method, url, body);
    if (res.status >= 300) throw new Error(`${method} ${url} as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const pushKeys = () => ({
    p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  });
  const annaEndpoint = `https://fcm.googleapis.com/fcm/send/anna-${randomUUID()}`;
  const annaKeys = pushKeys();
  let vasaIncident: string;
  let libraryIncident: string;

  /** Refused: the status and code expected, and not a row changed. */
  const refused = async (res: () => Promise<Response>, status: number, code: string) => {
    const before = await t.snapshot();
    const answer = await res();
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.body.code).toBe(code);
    expect(await t.snapshot()).toBe(before);
    return answer;
  };

  beforeAll(async () => {
    t = await startApp();
    for (const who of Object.keys(EMAIL) as Who[]) {
      token[who] = await t.login(EMAIL[who]);
      person[who] = t.ids.person[EMAIL[who]] as string;
    }
    // Anna: a second device with a push subscription, a failed sign-in, a change by her admin.
    const phone = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: EMAIL.anna, password: 'samlarm-demo', kind: 'device', label: 'Annas telefon' } });
    await t.request({ method: 'PUT', url: '/api/v1/me/device/push-subscription', token: phone.body.token, body: { endpoint: annaEndpoint, keys: annaKeys } });
    await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: EMAIL.anna, password: 'fel-lösenord' } });
    await ok('admin', 'PATCH', `/people/${person.anna}`, { phone: '+46701112233' });
    // A threat at Vasaskolan raised by Anna; Bertil and Anna answer, Anna replies, Kim instructs and ends it.
    const raised = await ok('anna', 'POST', '/alarms', {
      pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.hot, location: 'Annas plats, sal 12', message: 'Annas larmtext',
    });
    vasaIncident = raised.incident.id;
    await ok('bertil', 'POST', `/incidents/${vasaIncident}/responses`, { status: 'need_help', text: 'Bertils hemlighet', location: 'Bertils plats' });
    await ok('anna', 'POST', `/incidents/${vasaIncident}/responses`, { status: 'safe', text: 'Annas svar', location: 'Annas svarsplats' });
    await ok('anna', 'POST', `/incidents/${vasaIncident}/messages`, { kind: 'reply', body: 'Annas svar till ledningen' });
    await ok('bertil', 'POST', `/incidents/${vasaIncident}/messages`, { kind: 'reply', body: 'Bertils svar till ledningen' });
    await ok('kris', 'POST', `/incidents/${vasaIncident}/messages`, { kind: 'instruction', body: 'Kims instruktion' });
    await ok('kris', 'POST', `/incidents/${vasaIncident}/resolve`, {});
    // The library in the same building (Kulturförvaltningen): Lisa's own threat.
    const library = await ok('lisa', 'POST', '/alarms', {
      pressId: randomUUID(), siteId: t.ids.site.biblioteket, alarmTypeId: t.ids.alarmType.hot, location: 'Lisas plats',
    });
    libraryIncident = library.incident.id;
    await ok('lisa', 'POST', `/incidents/${libraryIncident}/responses`, { status: 'safe', text: 'Lisas svar' });
    await ok('bo', 'POST', `/incidents/${libraryIncident}/resolve`, {});
  });
  afterAll(() => t?.close());

  it('/me/export holds exactly the person\'s data, and nothing of anyone else\'s in either organisation', async () => {
    const data = await ok('anna', 'GET', '/me/export');
    const db = async (sql: string, params: unknown[]) => (await t.db.query(sql, params)).rows;

    expect(data.format).toBe('samlarm.personal-data.v1');
    expect(data.person).toMatchObject({ id: person.anna, name: 'Anna Andersson', email: EMAIL.anna, phone: '+46701112233', active: true, pseudonymisedAt: null });
    expect(data.organisation).toEqual({ id: t.ids.org.utbildning, name: 'Utbildningsförvaltningen' });
    expect(data.roles).toEqual([{ role: 'staff', siteId: null }]);
    expect(data.sites.map((s: { id: string }) => s.id)).toEqual([t.ids.site.vasaskolan]);
    expect(data.alarmGroups.map((g: { id: string }) => g.id)).toEqual([t.ids.group.vasaAll]);
    // Everything stored of hers, row for row.
    const ids = (list: { id: string }[]) => list.map((x) => x.id).sort();
    expect(ids(data.sessions)).toEqual(ids(await db('SELECT id FROM sessions WHERE person_id = $1', [person.anna])));
    expect(data.sessions.find((s: { label: string | null }) => s.label === 'Annas telefon')).toMatchObject({ kind: 'device', ip: expect.any(String) });
    expect(data.pushSubscriptions).toHaveLength(1);
    expect(data.pushSubscriptions[0]).toMatchObject({ origin: 'https://fcm.googleapis.com' });
    expect(data.loginFailures).toHaveLength(1);
    expect(data.incidents.map((i: { id: string }) => i.id)).toEqual([vasaIncident]);
    expect(data.incidents[0]).toMatchObject({ typeKey: 'hot', state: 'resolved', targeted: true, raisedByThem: true, endedByThem: false });
    expect(data.presses).toEqual([expect.objectContaining({ incidentId: vasaIncident, location: 'Annas plats, sal 12', message: 'Annas larmtext' })]);
    expect(data.responses).toEqual([expect.objectContaining({ status: 'safe', text: 'Annas svar', location: 'Annas svarsplats' })]);
    expect(data.messages).toEqual([expect.objectContaining({ kind: 'reply', body: 'Annas svar till ledningen' })]);
    expect(data.receipts.length).toBe((await db('SELECT 1 FROM incident_receipts WHERE person_id = $1', [person.anna])).length);
    expect(data.receipts.length).toBeGreaterThan(0);
    const actorEvents = await db("SELECT type FROM incident_events WHERE actor_person_id = $1 AND audience <> 'review' ORDER BY id", [person.anna]);
    expect(data.timeline.map((e: { type: string }) => e.type)).toEqual(actorEvents.map((e) => e.type));
    expect(data.audit.aboutThem.map((a: { action: string; actor: string }) => [a.action, a.actor])).toContainEqual(['person.updated', 'other']);

    // Nothing of anyone else: no other person's id, name, address or number, no one else's words, nothing of
    // the other organisation, and not the push endpoint or keys (whoever has them can send to the phone).
    const text = JSON.stringify(data);
    const others = (await db('SELECT id, name, email, phone FROM people WHERE id <> $1', [person.anna]))
      .flatMap((p) => [p.id, p.name, p.email, p.phone].filter((v): v is string => typeof v === 'string'));
    expect(others.length).toBeGreaterThan(40);
    for (const value of [...others, 'Bertils hemlighet', 'Bertils plats', 'Bertils svar', 'Kims instruktion', 'Lisas plats', 'Lisas svar',
      t.ids.org.kultur, t.ids.site.biblioteket, libraryIncident, annaEndpoint, annaKeys.p256dh, annaKeys.auth]) {
      expect(text, value).not.toContain(value);
    }

    // And Lisa's export, in the other organisation, holds none of Anna's.
    const lisa = JSON.stringify(await ok('lisa', 'GET', '/me/export'));
    expect(lisa).toContain('Lisas svar');
    for (const value of [person.anna, 'Anna Andersson', EMAIL.anna, 'Annas svar', 'Annas plats', vasaIncident, t.ids.org.utbildning]) {
      expect(lisa, value).not.toContain(value);
    }
  });

  it('those who manage a person may export their data (audited); colleagues, other sites\' rektorer and other organisations may not', async () => {
    const asAdmin = await ok('admin', 'GET', `/people/${person.anna}/export`);
    expect(asAdmin.person.id).toBe(person.anna);
    expect(asAdmin.responses).toEqual([expect.objectContaining({ text: 'Annas svar' })]);
    expect((await ok('rektor', 'GET', `/people/${person.anna}/export`)).person.id).toBe(person.anna);
    const audited = (await t.db.query<{ actor_person_id: string; after: { by: string } }>(
      "SELECT actor_person_id, after FROM audit_log WHERE action = 'person.personal_data_exported' AND entity_id = $1 ORDER BY id", [person.anna])).rows;
    expect(audited.map((a) => [a.actor_person_id, a.after.by])).toEqual([
      [person.anna, 'self'], [person.admin, 'manager'], [person.rektor, 'manager'],
    ]);

    await refused(() => call('bertil', 'GET', `/people/${person.anna}/export`), 403, 'forbidden');
    await refused(() => call('solrosRektor', 'GET', `/people/${person.anna}/export`), 403, 'forbidden');
    const crossOrg = await refused(() => call('klara', 'GET', `/people/${person.anna}/export`), 404, 'not_found');
    const missing = await call('klara', 'GET', `/people/${randomUUID()}/export`);
    expect(crossOrg.body).toEqual(missing.body);
    await refused(() => call('admin', 'GET', '/people/anna/export'), 400, 'validation_failed');
  });

  it('erasure is refused while the person is part of an active incident, to anyone but an organisation admin, and to bad input; nothing changes', async () => {
    const active = await ok('kris', 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.utrymning });
    const during = await refused(() => call('admin', 'POST', `/people/${person.bertil}/erase`, { reason: 'Begäran 2025-17' }), 409, 'conflict');
    expect(during.body.details).toEqual({ activeIncident: true });
    await ok('kris', 'POST', `/incidents/${active.incident.id}/resolve`, {});
    await refused(() => call('rektor', 'POST', `/people/${person.bertil}/erase`, { reason: 'Begäran 2025-17' }), 403, 'forbidden');
    await refused(() => call('admin', 'POST', `/people/${person.admin}/erase`, { reason: 'Jag själv' }), 403, 'forbidden');
    const crossOrg = await refused(() => call('klara', 'POST', `/people/${person.bertil}/erase`, { reason: 'x' }), 404, 'not_found');
    expect(crossOrg.body).toEqual((await call('klara', 'POST', `/people/${randomUUID()}/erase`, { reason: 'x' })).body);
    for (const body of [{}, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 'ok', force: true }, { reason: 5 }]) {
      await refused(() => call('admin', 'POST', `/people/${person.bertil}/erase`, body), 400, 'validation_failed');
    }
  });

  it('erasure pseudonymises at once: sessions end, contact details go, what they wrote is blanked, the name stays for the kept incident', async () => {
    const annaBefore = (await t.db.query("SELECT text, location FROM incident_responses WHERE person_id = $1", [person.anna])).rows;
    const res = await ok('admin', 'POST', `/people/${person.bertil}/erase`, { reason: 'Begäran 2025-17' });
    expect(res).toMatchObject({ personId: person.bertil, nameKept: true, removed: { sites: 1, roles: 1, groupMemberships: 1 } });
    expect(res.removed.sessions).toBeGreaterThanOrEqual(1);
    expect(res.removed.texts).toBeGreaterThanOrEqual(3);

    expect((await call('bertil', 'GET', '/me')).status).toBe(401);
    const bertil = (await t.db.query('SELECT name, email, phone, password_hash, active, pseudonymised_at FROM people WHERE id = $1', [person.bertil])).rows[0];
    expect(bertil).toMatchObject({ name: 'Bertil Berg', email: `pseudonym-${person.bertil}@samlarm.invalid`, phone: null, password_hash: null, active: false });
    expect(bertil.pseudonymised_at).not.toBeNull();
    // His answer's text and his reply are gone, from the tables and from the timeline; the answer itself stays.
    expect((await t.db.query('SELECT status, text, location FROM incident_responses WHERE person_id = $1', [person.bertil])).rows)
      .toEqual([{ status: 'need_help', text: null, location: null }]);
    expect((await t.db.query("SELECT 1 FROM incident_messages WHERE author_id = $1", [person.bertil])).rowCount).toBe(0);
    const timeline = JSON.stringify((await t.db.query('SELECT data FROM incident_events WHERE incident_id = $1', [vasaIncident])).rows);
    for (const gone of ['Bertils hemlighet', 'Bertils plats', 'Bertils svar']) expect(timeline).not.toContain(gone);
    // What others wrote stays.
    expect(timeline).toContain('Annas svar');
    expect(timeline).toContain('Kims instruktion');
    expect((await t.db.query("SELECT text, location FROM incident_responses WHERE person_id = $1", [person.anna])).rows).toEqual(annaBefore);
    expect((await t.db.query('SELECT 1 FROM incident_recipients WHERE person_id = $1 AND incident_id = $2', [person.bertil, vasaIncident])).rowCount).toBe(1);
    // Audited with the reason and what went.
    const entry = (await t.db.query("SELECT actor_person_id, after FROM audit_log WHERE action = 'person.erased' AND entity_id = $1", [person.bertil])).rows[0];
    expect(entry).toMatchObject({ actor_person_id: person.admin, after: { reason: 'Begäran 2025-17', nameKept: true } });
    // What is left of him is what his admin's export shows.
    const left = await ok('admin', 'GET', `/people/${person.bertil}/export`);
    expect(left).toMatchObject({ sessions: [], pushSubscriptions: [], roles: [], sites: [], alarmGroups: [], messages: [] });
    expect(left.responses).toEqual([expect.objectContaining({ status: 'need_help', text: null, location: null })]);
  });

  it('an organisation admin reads its retention periods and decides whether its incidents are kept (audited); others may not', async () => {
    const url = `/organisations/${t.ids.org.utbildning}/retention`;
    expect(await ok('admin', 'GET', url)).toMatchObject({
      organisationId: t.ids.org.utbildning, incidents: { keep: 'default', effectiveYears: null },
      sessionsDays: 30, loginFailuresDays: 30, deliveriesMonths: 3, freeTextMonths: 12, auditLogYears: 5, pseudonymiseAfterDays: 90,
    });
    expect(await ok('admin', 'PUT', url, { incidents: { keep: 'years', years: 10 } })).toMatchObject({ incidents: { keep: 'years', years: 10, effectiveYears: 10 } });
    expect((await ok('admin', 'PUT', url, { incidents: { keep: 'forever' } })).incidents).toEqual({ keep: 'forever', effectiveYears: null });
    const changes = (await t.db.query("SELECT before, after FROM audit_log WHERE action = 'organisation.incident_retention_changed' ORDER BY id")).rows;
    expect(changes).toEqual([
      { before: { keep: 'default' }, after: { keep: 'years', years: 10 } },
      { before: { keep: 'years', years: 10 }, after: { keep: 'forever' } },
    ]);
    for (const body of [{ incidents: { keep: 'years' } }, { incidents: { keep: 'forever', years: 2 } }, { incidents: { keep: 'years', years: 0 } },
      { incidents: { keep: 'sometimes' } }, {}, { incidents: { keep: 'default' }, extra: 1 }]) {
      await refused(() => call('admin', 'PUT', url, body), 400, 'validation_failed');
    }
    await refused(() => call('rektor', 'GET', url), 403, 'forbidden');
    await refused(() => call('rektor', 'PUT', url, { incidents: { keep: 'default' } }), 403, 'forbidden');
    const crossOrg = await refused(() => call('klara', 'PUT', url, { incidents: { keep: 'years', years: 1 } }), 404, 'not_found');
    expect(crossOrg.body).toEqual((await call('klara', 'PUT', `/organisations/${randomUUID()}/retention`, { incidents: { keep: 'years', years: 1 } })).body);
    await refused(() => call('klara', 'GET', url), 404, 'not_found');
  });
});
