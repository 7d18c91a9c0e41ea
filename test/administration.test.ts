import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/demo.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { FakePushService, PUSH_SERVICE_CA } from './helpers/push-service.js';
import { TestSmtpServer } from './helpers/smtp.js';

/**
 * Running a school and an organisation through the API: finding people, one-time invitation and
 * reset links (shown, and e-mailed through a real local SMTP server), deactivation, a site's details
 * and its own instructions, the audit log in words for organisation admins and rektorer, device
 * health that acts, and the sign-in hardening of issue 14 (a client's failures slow only that client,
 * the owner is told, password changes are limited, permission is checked before a password is hashed,
 * other organisations' addresses cannot be tested).
 */

const PUBLIC_URL = 'https://samlarm.test';
const MAX_FAILURES = 3;

let t: TestApp;
let smtp: TestSmtpServer;
let pushService: FakePushService;
let admin: string;
let rektor: string;
let solrosRektor: string;
let kris: string;
let anna: string;
let kulturAdmin: string;

const api = (token: string | undefined, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<Response> =>
  t.request({ method, url: `/api/v1${url}`, ...(token ? { token } : {}), body });

async function expectRefused(call: () => Promise<Response>, status: number, code: string): Promise<void> {
  const before = await t.snapshot();
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.code).toBe(code);
  expect(await t.snapshot()).toBe(before);
}

const person = (email: string): string => {
  const id = t.ids.person[email];
  if (!id) throw new Error(`no demo person ${email}`);
  return id;
};

let counter = 0;
async function addStaff(token = admin, siteId = t.ids.site.vasaskolan): Promise<{ id: string; email: string; name: string }> {
  counter += 1;
  const res = await api(token, 'POST', `/organisations/${t.ids.org.utbildning}/people`, {
    name: `Ny Personal ${counter}`, email: `ny.${counter}@vasaskolan.example`, siteIds: [siteId], roles: [{ role: 'staff', siteId: null }],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const tokenFromLink = (url: string): string => {
  const token = /#token=([A-Za-z0-9_-]+)/.exec(url)?.[1];
  if (!token) throw new Error(`no token in ${url}`);
  return token;
};

const signIn = (email: string, password: string, ip?: string): Promise<Response> =>
  ip
    ? t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email, password } })
      .then((r) => ({ status: r.statusCode, body: JSON.parse(r.body), headers: r.headers }))
    : api(undefined, 'POST', '/auth/login', { email, password });

/** /metrics answers only with the token (issue 14). */
const METRICS_TOKEN = 'metrics-token-for-the-test';

async function passwordHashes(): Promise<number> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const match = /^samlarm_password_hashes_total (\d+)/m.exec(res.body);
  if (!match) throw new Error('samlarm_password_hashes_total missing from /metrics');
  return Number(match[1]);
}

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
  pushService = await FakePushService.start();
  t = await startApp({
    PUBLIC_URL, SMTP_URL: smtp.url, LOGIN_MAX_FAILURES: String(MAX_FAILURES),
    PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50', DELIVERY_WORKER: 'true', METRICS_TOKEN,
  });
  admin = await t.login('admin@utbildning.example');
  rektor = await t.login('rektor@vasaskolan.example');
  solrosRektor = await t.login('rektor@solrosen.example');
  kris = await t.login('kris@utbildning.example');
  anna = await t.login('anna@vasaskolan.example');
  kulturAdmin = await t.login('admin@kultur.example');
});
afterAll(async () => {
  await t?.close();
  await pushService?.close();
  await smtp?.stop();
});

describe('finding people', () => {
  it('the staff list is searched by name, e-mail address and phone number, within what the caller may list', async () => {
    const list = (token: string, q: string) => api(token, 'GET', `/organisations/${t.ids.org.utbildning}/people?q=${encodeURIComponent(q)}`);
    const names = (res: Response) => (res.body.people as { name: string }[]).map((p) => p.name);
    expect(names(await list(rektor, 'bertil'))).toEqual(['Bertil Berg']);
    expect(names(await list(rektor, 'VASASKOLAN.example')).length).toBeGreaterThanOrEqual(4);
    expect(names(await list(rektor, '+46700000006'))).toEqual(['Cecilia Carlsson']);
    // Frida works at Solrosen: the rektor of Vasaskolan does not find her, the organisation admin does.
    expect(names(await list(rektor, 'Frida'))).toEqual([]);
    expect(names(await list(admin, 'Frida'))).toEqual(['Frida Förskollärare']);
    // A search is text, never a pattern.
    expect(names(await list(admin, '%'))).toEqual([]);
    expect(names(await list(admin, '_'))).toEqual([]);
  });
});

describe('invitation and reset links', () => {
  it('a rektor makes an invitation link for new staff: shown once, e-mailed, used once to choose a password and sign in', async () => {
    const nina = await addStaff(rektor);
    const res = await api(rektor, 'POST', `/people/${nina.id}/access-link`, { purpose: 'invite' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.url).toMatch(new RegExp(`^${PUBLIC_URL}/welcome#token=al_`));
    expect(res.body.emailed).toBe(true);
    const hours = (Date.parse(res.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(167);
    expect(hours).toBeLessThanOrEqual(168);

    const mail = await smtp.waitFor(nina.email, (m) => m.subject === 'Välkommen till Samlarm');
    expect(mail.text).toContain(res.body.url);
    expect(mail.text).toContain('Rebecka Rektor');
    // The link is a secret: only its hash is stored, and the audit log never holds it.
    const token = tokenFromLink(res.body.url);
    const stored = await t.db.query("SELECT 1 FROM access_links WHERE token_hash::text LIKE '%' || $1 || '%'", [token]);
    expect(stored.rowCount).toBe(0);
    expect(JSON.stringify((await t.db.query('SELECT after FROM audit_log WHERE entity_id = $1', [nina.id])).rows)).not.toContain(token);

    const inspected = await api(undefined, 'POST', '/access-links/inspect', { token });
    expect(inspected.body).toMatchObject({ purpose: 'invite', name: nina.name, email: nina.email, organisationName: 'Utbildningsförvaltningen' });

    const redeemed = await api(undefined, 'POST', '/access-links/redeem', { token, password: 'ninas-eget-losenord' });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    expect(redeemed.body.personId).toBe(nina.id);
    expect((await api(redeemed.body.token, 'GET', '/me')).body.person.email).toBe(nina.email);
    expect((await signIn(nina.email, 'ninas-eget-losenord')).status).toBe(200);

    await expectRefused(() => api(undefined, 'POST', '/access-links/redeem', { token, password: 'ett-annat-losenord' }), 400, 'link_invalid');
    await expectRefused(() => api(undefined, 'POST', '/access-links/inspect', { token }), 400, 'link_invalid');
  });

  it('a reset link ends every session of the person when used, and a newer link replaces an older one', async () => {
    const added = await addStaff();
    const first = await api(admin, 'POST', `/people/${added.id}/access-link`, { purpose: 'invite' });
    const firstUse = await api(undefined, 'POST', '/access-links/redeem', { token: tokenFromLink(first.body.url), password: 'forsta-losenordet' });
    expect(firstUse.status).toBe(200);

    const older = await api(admin, 'POST', `/people/${added.id}/access-link`, { purpose: 'reset' });
    const newer = await api(admin, 'POST', `/people/${added.id}/access-link`, { purpose: 'reset' });
    const minutes = (Date.parse(newer.body.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(58);
    expect(minutes).toBeLessThanOrEqual(60);
    await smtp.waitFor(added.email, (m) => m.subject === 'Samlarm: välj ett nytt lösenord');
    await expectRefused(() => api(undefined, 'POST', '/access-links/redeem', { token: tokenFromLink(older.body.url), password: 'andra-losenordet' }),
      400, 'link_invalid');
    const used = await api(undefined, 'POST', '/access-links/redeem', { token: tokenFromLink(newer.body.url), password: 'andra-losenordet' });
    expect(used.status).toBe(200);
    expect((await api(firstUse.body.token, 'GET', '/me')).status).toBe(401);
    expect((await signIn(added.email, 'forsta-losenordet')).status).toBe(401);
    expect((await signIn(added.email, 'andra-losenordet')).status).toBe(200);
  });

  it('an expired link does not work', async () => {
    const added = await addStaff();
    const link = await api(admin, 'POST', `/people/${added.id}/access-link`, { purpose: 'invite' });
    await t.db.query("UPDATE access_links SET expires_at = now() - interval '1 second' WHERE person_id = $1", [added.id]);
    await expectRefused(() => api(undefined, 'POST', '/access-links/redeem', { token: tokenFromLink(link.body.url), password: 'ett-losenord-till' }),
      400, 'link_invalid');
  });

  it('only someone who manages the person makes a link: another school\'s rektor 403, another organisation 404, staff 403', async () => {
    const bertil = person('bertil@vasaskolan.example');
    await expectRefused(() => api(solrosRektor, 'POST', `/people/${bertil}/access-link`, { purpose: 'reset' }), 403, 'forbidden');
    await expectRefused(() => api(anna, 'POST', `/people/${bertil}/access-link`, { purpose: 'reset' }), 403, 'forbidden');
    await expectRefused(() => api(kulturAdmin, 'POST', `/people/${bertil}/access-link`, { purpose: 'reset' }), 404, 'not_found');
    // An organisation-wide crisis lead is beyond a rektor: no reset link to act with their rights.
    await expectRefused(() => api(rektor, 'POST', `/people/${person('kris@utbildning.example')}/access-link`, { purpose: 'reset' }), 403, 'forbidden');
    await expectRefused(() => api(admin, 'POST', `/people/${bertil}/access-link`, { purpose: 'password' }), 400, 'validation_failed');
    await expectRefused(() => api(undefined, 'POST', '/access-links/redeem', { token: 'al_not-a-real-link-token-but-long-enough-xxxxxxxx', password: 'ett-losenord-till' }),
      400, 'link_invalid');
  });
});

describe('deactivating and reactivating', () => {
  it('a deactivated person loses their sessions, push subscriptions and open links at once, keeps their history, and may be reactivated', async () => {
    const added = await addStaff();
    const link = await api(admin, 'POST', `/people/${added.id}/access-link`, { purpose: 'invite' });
    const used = await api(undefined, 'POST', '/access-links/redeem', { token: tokenFromLink(link.body.url), password: 'ett-eget-losenord' });
    const sub = pushService.subscribe();
    expect((await api(used.body.token, 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, keys: sub.keys })).status).toBe(200);
    const secondLink = await api(admin, 'POST', `/people/${added.id}/access-link`, { purpose: 'reset' });

    const off = await api(rektor, 'PATCH', `/people/${added.id}`, { active: false });
    expect(off.status).toBe(200);
    expect((await api(used.body.token, 'GET', '/me')).status).toBe(401);
    expect((await t.db.query('SELECT 1 FROM push_subscriptions WHERE person_id = $1', [added.id])).rowCount).toBe(0);
    await expectRefused(() => api(undefined, 'POST', '/access-links/redeem', { token: tokenFromLink(secondLink.body.url), password: 'ett-nytt-losenord' }),
      400, 'link_invalid');
    await expectRefused(() => api(admin, 'POST', `/people/${added.id}/access-link`, { purpose: 'reset' }), 403, 'account_deactivated');
    expect((await signIn(added.email, 'ett-eget-losenord')).status).toBe(401);

    const on = await api(rektor, 'PATCH', `/people/${added.id}`, { active: true });
    expect(on.body.active).toBe(true);
    expect((await signIn(added.email, 'ett-eget-losenord')).status).toBe(200);
  });
});

describe('issue 14: sign-in and people hardening', () => {
  it('a client\'s failed sign-ins slow only that client: the owner signs in elsewhere, is told by e-mail, and sees the failures', async () => {
    const attacker = '198.51.100.7';
    for (let i = 0; i < MAX_FAILURES; i += 1) expect((await signIn('bertil@vasaskolan.example', `gissning-${i}`, attacker)).status).toBe(401);
    const slowed = await signIn('bertil@vasaskolan.example', DEMO_PASSWORD, attacker);
    expect(slowed.status).toBe(429);
    expect(slowed.body.code).toBe('account_locked');
    // A growing delay, not a lock of the address: the first wait is short.
    expect(Number(slowed.headers['retry-after'])).toBeLessThanOrEqual(15);

    const owner = await signIn('bertil@vasaskolan.example', DEMO_PASSWORD, '192.0.2.44');
    expect(owner.status, JSON.stringify(owner.body)).toBe(200);
    // The owner's success does not lift the attacker's slowdown.
    expect((await signIn('bertil@vasaskolan.example', DEMO_PASSWORD, attacker)).status).toBe(429);

    const notice = await smtp.waitFor('bertil@vasaskolan.example', (m) => m.subject.startsWith('Samlarm: misslyckade inloggningar'));
    expect(notice.text).toContain(attacker);
    const failures = await api(owner.body.token, 'GET', '/auth/sign-in-failures');
    expect(failures.body.failures).toEqual([expect.objectContaining({ clientAddress: attacker, count: MAX_FAILURES })]);
  });

  it('the wait grows with each further failure once it has passed', async () => {
    const ip = '198.51.100.8';
    for (let i = 0; i < MAX_FAILURES; i += 1) await signIn('cecilia@vasaskolan.example', `fel-${i}`, ip);
    await t.db.query("UPDATE login_failures SET failed_at = failed_at - interval '20 seconds' WHERE ip = $1", [ip]);
    expect((await signIn('cecilia@vasaskolan.example', 'fel-igen', ip)).status).toBe(401);
    const longer = await signIn('cecilia@vasaskolan.example', DEMO_PASSWORD, ip);
    expect(longer.status).toBe(429);
    expect(Number(longer.headers['retry-after'])).toBeGreaterThan(15);
    expect(Number(longer.headers['retry-after'])).toBeLessThanOrEqual(30);
  });

  it('changing one\'s password is rate limited: 40 wrong current passwords get 429', async () => {
    const token = await t.login('frida@solrosen.example');
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      statuses.push((await api(token, 'POST', '/auth/password', { currentPassword: `fel-${i}`, newPassword: 'ett-helt-nytt-losenord' })).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    // Per person: someone else may still change theirs.
    const other = await api(await t.login('bertil@vasaskolan.example'), 'POST', '/auth/password', { currentPassword: 'fel', newPassword: 'ett-helt-nytt-losenord' });
    expect(other.status).toBe(401);
  });

  it('a refused change of a person never hashes the password it carries', async () => {
    const before = await passwordHashes();
    const bertil = person('bertil@vasaskolan.example');
    const kim = person('kris@utbildning.example');
    await expectRefused(() => api(anna, 'PATCH', `/people/${bertil}`, { password: 'ett-helt-nytt-losenord' }), 403, 'forbidden');
    await expectRefused(() => api(rektor, 'PATCH', `/people/${kim}`, { password: 'ett-helt-nytt-losenord' }), 403, 'forbidden');
    await expectRefused(() => api(kulturAdmin, 'PATCH', `/people/${bertil}`, { password: 'ett-helt-nytt-losenord' }), 404, 'not_found');
    const newPerson = { name: 'X', email: 'x.hash@vasaskolan.example', password: 'ett-helt-nytt-losenord', siteIds: [t.ids.site.vasaskolan], roles: [] };
    await expectRefused(() => api(anna, 'POST', `/organisations/${t.ids.org.utbildning}/people`, newPerson), 403, 'forbidden');
    await expectRefused(() => api(solrosRektor, 'POST', `/organisations/${t.ids.org.utbildning}/people`, newPerson), 403, 'forbidden');
    await expectRefused(() => api(kulturAdmin, 'POST', `/organisations/${t.ids.org.utbildning}/people`, newPerson), 404, 'not_found');
    expect(await passwordHashes()).toBe(before);
    // A permitted change does hash (the counter counts).
    expect((await api(admin, 'PATCH', `/people/${(await addStaff()).id}`, { password: 'ett-helt-nytt-losenord' })).status).toBe(200);
    expect(await passwordHashes()).toBe(before + 1);
  });

  it('another organisation\'s addresses cannot be tested: they are no conflict, and both accounts keep signing in with their own passwords', async () => {
    const added = await addStaff();
    const moved = await api(admin, 'PATCH', `/people/${added.id}`, { email: 'lisa@biblioteket.example', password: 'utbildnings-lisa-losenord' });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.email).toBe('lisa@biblioteket.example');
    // Within the organisation an address stays unique.
    await expectRefused(() => api(admin, 'PATCH', `/people/${added.id}`, { email: 'anna@vasaskolan.example' }), 409, 'email_taken');

    const lisa = await signIn('lisa@biblioteket.example', DEMO_PASSWORD);
    expect(lisa.body.personId).toBe(person('lisa@biblioteket.example'));
    const namesake = await signIn('lisa@biblioteket.example', 'utbildnings-lisa-losenord');
    expect(namesake.body.personId).toBe(added.id);
  });
});

describe('a site\'s details and its own instructions', () => {
  it('a rektor writes the building notes, assembly point and an instruction per alarm type; everyone at the organisation reads them', async () => {
    const vasa = t.ids.site.vasaskolan;
    const patched = await api(rektor, 'PATCH', `/sites/${vasa}`, {
      buildingNotes: 'Huvudentré mot Vasagatan. Brandlarmscentral i entréhallen.', floorNotes: 'Plan 2: sal 201–214', assemblyPoint: 'Fotbollsplanen bakom skolan',
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ assemblyPoint: 'Fotbollsplanen bakom skolan', floorNotes: 'Plan 2: sal 201–214', address: 'Vasagatan 12, Stockholm' });
    const put = await api(rektor, 'PUT', `/sites/${vasa}/alarm-instructions/${t.ids.alarmType.brand}`, {
      sv: 'Samla din klass på fotbollsplanen och räkna eleverna.', en: 'Gather your class on the football pitch and count the pupils.',
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);

    const read = await api(anna, 'GET', `/sites/${vasa}/alarm-instructions`);
    expect(read.body.instructions).toEqual([expect.objectContaining({ alarmTypeId: t.ids.alarmType.brand, instruction: expect.objectContaining({ sv: expect.stringContaining('fotbollsplanen') }) })]);
    expect((await api(anna, 'GET', `/sites/${vasa}`)).body.assemblyPoint).toBe('Fotbollsplanen bakom skolan');

    expect((await api(rektor, 'DELETE', `/sites/${vasa}/alarm-instructions/${t.ids.alarmType.brand}`)).status).toBe(204);
    expect((await api(anna, 'GET', `/sites/${vasa}/alarm-instructions`)).body.instructions).toEqual([]);
  });

  it('staff, another school\'s rektor and another organisation cannot write them; unknown types and bad text are refused', async () => {
    const vasa = t.ids.site.vasaskolan;
    const body = { sv: 'x', en: 'x' };
    const url = `/sites/${vasa}/alarm-instructions/${t.ids.alarmType.hot}`;
    await expectRefused(() => api(anna, 'PUT', url, body), 403, 'forbidden');
    await expectRefused(() => api(solrosRektor, 'PUT', url, body), 403, 'forbidden');
    await expectRefused(() => api(kulturAdmin, 'PUT', url, body), 404, 'not_found');
    await expectRefused(() => api(kulturAdmin, 'GET', `/sites/${vasa}/alarm-instructions`), 404, 'not_found');
    await expectRefused(() => api(rektor, 'PUT', `/sites/${vasa}/alarm-instructions/${person('anna@vasaskolan.example')}`, body), 400, 'invalid_reference');
    await expectRefused(() => api(rektor, 'PUT', url, { sv: '', en: 'x' }), 400, 'validation_failed');
    await expectRefused(() => api(rektor, 'PUT', url, { sv: 'x'.repeat(1001), en: 'x' }), 400, 'validation_failed');
    await expectRefused(() => api(rektor, 'PATCH', `/sites/${vasa}`, { assemblyPoint: 'x'.repeat(501) }), 400, 'validation_failed');
    await expectRefused(() => api(anna, 'PATCH', `/sites/${vasa}`, { assemblyPoint: 'Skolgården' }), 403, 'forbidden');
  });
});

describe('the audit log in words', () => {
  it('an organisation admin reads who changed what in words, filtered by site, person and kind', async () => {
    const krisgrupp = t.ids.group.vasaKris;
    const group = (await api(rektor, 'GET', `/alarm-groups/${krisgrupp}`)).body as { members: { id: string }[] };
    const members = [...group.members.map((m) => m.id), person('bertil@vasaskolan.example')];
    expect((await api(rektor, 'PUT', `/alarm-groups/${krisgrupp}/members`, { personIds: members })).status).toBe(200);

    const log = await api(admin, 'GET', `/organisations/${t.ids.org.utbildning}/audit-log?siteId=${t.ids.site.vasaskolan}&entityType=alarm_group&limit=5`);
    expect(log.status).toBe(200);
    expect(log.body.entries[0].text).toEqual([{ sv: 'Rebecka Rektor lade till Bertil Berg i Krisgrupp', en: 'Rebecka Rektor added Bertil Berg to Krisgrupp' }]);
    for (const e of log.body.entries as { entityType: string }[]) expect(e.entityType).toBe('alarm_group');

    const byRektor = await api(admin, 'GET', `/organisations/${t.ids.org.utbildning}/audit-log?personId=${person('rektor@vasaskolan.example')}&limit=100`);
    expect((byRektor.body.entries as { actor: { id: string } | null; entityId: string }[])
      .every((e) => e.actor?.id === person('rektor@vasaskolan.example') || e.entityId === person('rektor@vasaskolan.example'))).toBe(true);
    const future = await api(admin, 'GET', `/organisations/${t.ids.org.utbildning}/audit-log?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    expect(future.body.entries).toEqual([]);
  });

  it('a rektor reads the entries about their own school only, in words, without raw details', async () => {
    await addStaff(solrosRektor, t.ids.site.solrosen);
    expect((await api(solrosRektor, 'PATCH', `/sites/${t.ids.site.solrosen}`, { assemblyPoint: 'Parkeringen' })).status).toBe(200);
    const log = await api(rektor, 'GET', `/organisations/${t.ids.org.utbildning}/audit-log?limit=500`);
    expect(log.status).toBe(200);
    const entries = log.body.entries as { text: { sv: string }[]; before: unknown; after: unknown }[];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(e.before).toBeNull();
      expect(e.after).toBeNull();
      expect(e.text.map((x) => x.sv).join(' ')).not.toMatch(/Solrosen|Sara Solrosrektor/);
    }
    const other = await api(rektor, 'GET', `/organisations/${t.ids.org.utbildning}/audit-log?siteId=${t.ids.site.solrosen}`);
    expect(other.body.entries).toEqual([]);
    const own = await api(solrosRektor, 'GET', `/organisations/${t.ids.org.utbildning}/audit-log?limit=500`);
    expect((own.body.entries as { text: { sv: string }[] }[]).some((e) => e.text[0]?.sv.includes('Solrosens förskola'))).toBe(true);
  });

  it('bad filters are refused and another organisation learns nothing', async () => {
    const url = `/organisations/${t.ids.org.utbildning}/audit-log`;
    await expectRefused(() => api(admin, 'GET', `${url}?entityType=incident`), 400, 'validation_failed');
    await expectRefused(() => api(admin, 'GET', `${url}?from=yesterday`), 400, 'validation_failed');
    await expectRefused(() => api(admin, 'GET', `${url}?siteId=vasaskolan`), 400, 'validation_failed');
    await expectRefused(() => api(kulturAdmin, 'GET', `${url}?siteId=${t.ids.site.vasaskolan}`), 404, 'not_found');
    await expectRefused(() => api(kris, 'GET', url), 403, 'forbidden');
  });
});

describe('device health that acts', () => {
  it('a rektor removes a stale device of someone at the school: its session and push subscription end', async () => {
    const old = await t.login('bertil@vasaskolan.example');
    const sub = pushService.subscribe();
    expect((await api(old, 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, keys: sub.keys })).status).toBe(200);
    const sessionId = (await api(old, 'GET', '/me/device')).body.sessionId as string;
    const health = await api(rektor, 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
    const bertil = (health.body.people as { personId: string; devices: { sessionId: string; lastSeenAt: string }[] }[])
      .find((p) => p.personId === person('bertil@vasaskolan.example'));
    expect(bertil?.devices.map((d) => d.sessionId)).toContain(sessionId);

    await expectRefused(() => api(kris, 'DELETE', `/sites/${t.ids.site.vasaskolan}/devices/${sessionId}`), 403, 'forbidden');
    await expectRefused(() => api(solrosRektor, 'DELETE', `/sites/${t.ids.site.vasaskolan}/devices/${sessionId}`), 403, 'forbidden');
    await expectRefused(() => api(kulturAdmin, 'DELETE', `/sites/${t.ids.site.vasaskolan}/devices/${sessionId}`), 404, 'not_found');
    await expectRefused(() => api(solrosRektor, 'DELETE', `/sites/${t.ids.site.solrosen}/devices/${sessionId}`), 404, 'not_found');

    expect((await api(rektor, 'DELETE', `/sites/${t.ids.site.vasaskolan}/devices/${sessionId}`)).status).toBe(204);
    expect((await api(old, 'GET', '/me')).status).toBe(401);
    expect((await t.db.query('SELECT 1 FROM push_subscriptions WHERE session_id = $1', [sessionId])).rowCount).toBe(0);
    const words = await api(admin, 'GET', `/organisations/${t.ids.org.utbildning}/audit-log?limit=1`);
    expect(words.body.entries[0].text[0].sv).toBe('Rebecka Rektor tog bort en enhet för Bertil Berg');
  });

  it('a rektor reminds people: a push to those with a device, an e-mail to those without, each recorded', async () => {
    const annaPhone = pushService.subscribe();
    expect((await api(anna, 'PUT', '/me/device/push-subscription', { endpoint: annaPhone.endpoint, keys: annaPhone.keys })).status).toBe(200);
    const cecilia = person('cecilia@vasaskolan.example');
    await t.db.query('UPDATE sessions SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL', [cecilia]);
    const res = await api(rektor, 'POST', `/sites/${t.ids.site.vasaskolan}/device-reminders`, { personIds: [person('anna@vasaskolan.example'), cecilia] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.reminded).toEqual(expect.arrayContaining([
      { personId: person('anna@vasaskolan.example'), channel: 'push' }, { personId: cecilia, channel: 'email' },
    ]));
    await pushService.waitFor((received) => received.some((r) => r.subscriptionId === annaPhone.id), 20_000);
    const pushed = pushService.for(annaPhone.id)[0];
    expect(pushed?.payload?.title).toBe('Samlarm: gör telefonen redo för larm');
    expect(pushed?.payload?.body).toContain('Rebecka Rektor');
    const mail = await smtp.waitFor('cecilia@vasaskolan.example', (m) => m.subject === 'Samlarm: get your phone ready for alarms');
    expect(mail.text).toContain(PUBLIC_URL);
    // The push service has answered; the worker records the outcome after that, on its own time.
    await expect.poll(async () => (await t.db.query("SELECT 1 FROM deliveries WHERE state IN ('queued', 'sending')")).rowCount, { timeout: 20_000 }).toBe(0);
    const recorded = await t.db.query<{ state: string }>(
      "SELECT state FROM deliveries WHERE kind = 'test' AND payload->>'tag' = 'samlarm-reminder' AND person_id = $1", [person('anna@vasaskolan.example')],
    );
    expect(recorded.rows.map((r) => r.state)).toContain('sent');

    const health = await api(rektor, 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
    const entry = (health.body.people as { personId: string; lastReminder: { channel: string; by: string } | null }[]).find((p) => p.personId === cecilia);
    expect(entry?.lastReminder).toMatchObject({ channel: 'email', by: 'Rebecka Rektor' });
  });

  it('reminding is for the site\'s managers and its own people only', async () => {
    const url = `/sites/${t.ids.site.vasaskolan}/device-reminders`;
    await expectRefused(() => api(kris, 'POST', url, { personIds: [person('anna@vasaskolan.example')] }), 403, 'forbidden');
    await expectRefused(() => api(kulturAdmin, 'POST', url, { personIds: [person('anna@vasaskolan.example')] }), 404, 'not_found');
    await expectRefused(() => api(rektor, 'POST', url, { personIds: [person('frida@solrosen.example')] }), 400, 'invalid_reference');
    await expectRefused(() => api(rektor, 'POST', url, { personIds: [person('lisa@biblioteket.example')] }), 400, 'invalid_reference');
    await expectRefused(() => api(rektor, 'POST', url, { personIds: [] }), 400, 'validation_failed');
  });
});
