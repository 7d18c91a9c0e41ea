import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/demo.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';

const LOGIN = '/api/v1/auth/login';
const LOGOUT = '/api/v1/auth/logout';
const LOGOUT_ALL = '/api/v1/auth/logout-all';
const SESSIONS = '/api/v1/auth/sessions';
const PASSWORD = '/api/v1/auth/password';
const ME = '/api/v1/me';
const DAY_MS = 24 * 60 * 60 * 1000;

const UNKNOWN_SESSION_ID = '00000000-0000-4000-8000-000000000000';

const signIn = (t: TestApp, body: unknown, headers?: Record<string, string>): Promise<Response> =>
  t.request({ method: 'POST', url: LOGIN, body, ...(headers ? { headers } : {}) });

/** Signs in from a given client address, so tests of per-address limits do not share a counter. */
async function signInFrom(t: TestApp, ip: string, body: unknown): Promise<Response> {
  const res = await t.app.inject({
    method: 'POST',
    url: LOGIN,
    remoteAddress: ip,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, headers: res.headers };
}

const meStatus = async (t: TestApp, token: string): Promise<number> => (await t.request({ method: 'GET', url: ME, token })).status;

async function openSessions(t: TestApp, email: string): Promise<number> {
  const row = (await t.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sessions s JOIN people p ON p.id = s.person_id
      WHERE p.email = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`,
    [email],
  )).rows[0];
  return row?.n ?? 0;
}

async function sessionCount(t: TestApp): Promise<number> {
  return (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0]?.n ?? 0;
}

async function sessionIdOf(t: TestApp, token: string): Promise<string> {
  const res = await t.request({ method: 'GET', url: SESSIONS, token });
  const current = (res.body.sessions as { id: string; current: boolean }[]).find((s) => s.current);
  if (!current) throw new Error('no current session');
  return current.id;
}

describe('signing in', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('a correct e-mail and password return a bearer token that authenticates later requests', async () => {
    const res = await signIn(t, { email: 'anna@vasaskolan.example', password: DEMO_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.token).toMatch(/^sl_/);
    expect(res.body.personId).toBe(t.ids.person['anna@vasaskolan.example']);
    expect(res.body.session.id).toMatch(/^[0-9a-f-]{36}$/);

    const me = await t.request({ method: 'GET', url: ME, token: res.body.token });
    expect(me.status).toBe(200);
    expect(me.body.person.email).toBe('anna@vasaskolan.example');
  });

  it('the e-mail address is matched regardless of case and surrounding spaces', async () => {
    const res = await signIn(t, { email: '  Anna@VasaSkolan.EXAMPLE ', password: DEMO_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.personId).toBe(t.ids.person['anna@vasaskolan.example']);
  });

  it('a wrong password and an unknown address get the same 401 invalid_credentials answer and no session', async () => {
    const before = await sessionCount(t);
    const wrongPassword = await signIn(t, { email: 'bertil@vasaskolan.example', password: 'not-the-password' });
    const unknownAddress = await signIn(t, { email: 'nobody@vasaskolan.example', password: DEMO_PASSWORD });

    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body.code).toBe('invalid_credentials');
    expect(unknownAddress.status).toBe(401);
    expect(unknownAddress.body).toEqual(wrongPassword.body);
    expect(wrongPassword.body.token).toBeUndefined();
    expect(await sessionCount(t)).toBe(before);
  });

  it('a device session lives about DEVICE_SESSION_TTL_DAYS and is the default', async () => {
    const res = await signIn(t, { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.session.kind).toBe('device');
    const expected = Date.now() + t.app.config.DEVICE_SESSION_TTL_DAYS * DAY_MS;
    expect(Math.abs(Date.parse(res.body.session.expiresAt) - expected)).toBeLessThan(60_000);
  });

  it('a browser session lives about SESSION_TTL_DAYS, shorter than a device session', async () => {
    const device = await signIn(t, { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD, kind: 'device' });
    const browser = await signIn(t, { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD, kind: 'browser' });
    expect(browser.status).toBe(200);
    expect(browser.body.session.kind).toBe('browser');
    const expected = Date.now() + t.app.config.SESSION_TTL_DAYS * DAY_MS;
    expect(Math.abs(Date.parse(browser.body.session.expiresAt) - expected)).toBeLessThan(60_000);
    expect(Date.parse(browser.body.session.expiresAt)).toBeLessThan(Date.parse(device.body.session.expiresAt));
  });
});

describe('listing and ending sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('the session list shows every open session of the caller and marks the current one', async () => {
    const phone = await signIn(t, { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD, label: 'Bertils telefon' },
      { 'user-agent': 'Samlarm-test-phone/1.0' });
    const browser = await signIn(t, { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD, kind: 'browser' });
    await t.login('anna@vasaskolan.example');

    const res = await t.request({ method: 'GET', url: SESSIONS, token: browser.body.token });
    expect(res.status).toBe(200);
    const sessions = res.body.sessions as { id: string; kind: string; label: string | null; userAgent: string | null; current: boolean }[];
    expect(sessions.map((s) => s.id).sort()).toEqual([phone.body.session.id, browser.body.session.id].sort());
    expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([browser.body.session.id]);
    const listedPhone = sessions.find((s) => s.id === phone.body.session.id);
    expect(listedPhone).toMatchObject({ kind: 'device', label: 'Bertils telefon', userAgent: 'Samlarm-test-phone/1.0', current: false });
  });

  it('ending one of one\'s own sessions makes its token stop working at once', async () => {
    const lostPhone = await t.login('cecilia@vasaskolan.example');
    const laptop = await t.login('cecilia@vasaskolan.example');
    const lostPhoneId = await sessionIdOf(t, lostPhone);

    const res = await t.request({ method: 'DELETE', url: `${SESSIONS}/${lostPhoneId}`, token: laptop });
    expect(res.status).toBe(204);

    const refused = await t.request({ method: 'GET', url: ME, token: lostPhone });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('unauthenticated');
    expect(await meStatus(t, laptop)).toBe(200);
    const listed = await t.request({ method: 'GET', url: SESSIONS, token: laptop });
    expect((listed.body.sessions as { id: string }[]).map((s) => s.id)).not.toContain(lostPhoneId);
  });

  it('ending another person\'s session answers 404 and changes nothing', async () => {
    const victim = await t.login('kris@utbildning.example');
    const victimSessionId = await sessionIdOf(t, victim);
    const attacker = await t.login('rektor@solrosen.example');
    const before = await t.snapshot();

    const res = await t.request({ method: 'DELETE', url: `${SESSIONS}/${victimSessionId}`, token: attacker });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
    expect(await t.snapshot()).toBe(before);
    expect(await meStatus(t, victim)).toBe(200);
  });

  it('ending an unknown or already ended session answers 404', async () => {
    const token = await t.login('frida@solrosen.example');
    const other = await t.login('frida@solrosen.example');
    const otherId = await sessionIdOf(t, other);
    expect((await t.request({ method: 'DELETE', url: `${SESSIONS}/${otherId}`, token })).status).toBe(204);

    const again = await t.request({ method: 'DELETE', url: `${SESSIONS}/${otherId}`, token });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('not_found');
    const unknown = await t.request({ method: 'DELETE', url: `${SESSIONS}/${UNKNOWN_SESSION_ID}`, token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
  });

  it('logout ends the current session and leaves the caller\'s other sessions open', async () => {
    const first = await t.login('anna@vasaskolan.example');
    const second = await t.login('anna@vasaskolan.example');

    const res = await t.request({ method: 'POST', url: LOGOUT, token: first });
    expect(res.status).toBe(204);
    expect(await meStatus(t, first)).toBe(401);
    expect(await meStatus(t, second)).toBe(200);
  });

  it('logout-all ends every session of the caller but none of anyone else\'s', async () => {
    const phone = await t.login('rektor@vasaskolan.example');
    const laptop = await t.login('rektor@vasaskolan.example');
    const colleague = await t.login('anna@vasaskolan.example');

    const res = await t.request({ method: 'POST', url: LOGOUT_ALL, token: laptop });
    expect(res.status).toBe(204);
    expect(await meStatus(t, phone)).toBe(401);
    expect(await meStatus(t, laptop)).toBe(401);
    expect(await openSessions(t, 'rektor@vasaskolan.example')).toBe(0);
    expect(await meStatus(t, colleague)).toBe(200);
  });
});

describe('changing one\'s password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('a wrong current password is refused with invalid_credentials and changes nothing', async () => {
    const token = await t.login('anna@vasaskolan.example');
    const before = await t.snapshot();

    const res = await t.request({
      method: 'POST', url: PASSWORD, token, body: { currentPassword: 'not-the-password', newPassword: 'ett-helt-nytt-losenord' },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid_credentials');
    expect(await t.snapshot()).toBe(before);
  });

  it('a new password ends every other session, keeps the current one and is audited', async () => {
    const lostPhone = await t.login('frida@solrosen.example');
    const current = await t.login('frida@solrosen.example');
    const bystander = await t.login('rektor@solrosen.example');
    const newPassword = 'ett-helt-nytt-losenord';

    const res = await t.request({ method: 'POST', url: PASSWORD, token: current, body: { currentPassword: DEMO_PASSWORD, newPassword } });
    expect(res.status).toBe(204);

    expect(await meStatus(t, lostPhone)).toBe(401);
    expect(await meStatus(t, current)).toBe(200);
    expect(await meStatus(t, bystander)).toBe(200);
    expect((await signIn(t, { email: 'frida@solrosen.example', password: DEMO_PASSWORD })).status).toBe(401);
    expect((await signIn(t, { email: 'frida@solrosen.example', password: newPassword })).status).toBe(200);

    const fridaId = t.ids.person['frida@solrosen.example'];
    const audit = (await t.db.query<{ actor_person_id: string; organisation_id: string; before: unknown; after: unknown; request_id: string | null }>(
      "SELECT actor_person_id, organisation_id, before, after, request_id FROM audit_log WHERE action = 'person.password_changed' AND entity_id = $1",
      [fridaId],
    )).rows;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_person_id: fridaId, organisation_id: t.ids.org.utbildning, before: null, after: null });
    expect(audit[0]?.request_id).toBeTruthy();
  });
});

describe('authenticating requests', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  const expectUnauthenticated = (res: Response) => {
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthenticated');
  };

  it('a request without a token gets 401 unauthenticated', async () => {
    expectUnauthenticated(await t.request({ method: 'GET', url: ME }));
  });

  it.each([
    ['a garbage bearer token', 'Bearer garbage'],
    ['a well-formed but unknown token', `Bearer sl_${'A'.repeat(43)}`],
    ['an empty bearer token', 'Bearer '],
    ['a token without the Bearer scheme', 'sl_somethingsomethingsomethingsomethingsomething'],
    ['basic authentication', `Basic ${Buffer.from(`anna@vasaskolan.example:${DEMO_PASSWORD}`).toString('base64')}`],
  ])('%s gets 401 unauthenticated', async (_name, authorization) => {
    expectUnauthenticated(await t.request({ method: 'GET', url: ME, headers: { authorization } }));
  });

  it('a request that would change something is refused with 401 unauthenticated and changes nothing without a valid token', async () => {
    const anna = await t.login('anna@vasaskolan.example');
    const before = await t.snapshot();
    const withoutValidToken: Record<string, string>[] = [{}, { authorization: 'Bearer garbage' }];
    for (const headers of withoutValidToken) {
      for (const request of [
        { method: 'POST' as const, url: LOGOUT_ALL },
        { method: 'PATCH' as const, url: ME, body: { name: 'Kapad' } },
        { method: 'POST' as const, url: PASSWORD, body: { currentPassword: DEMO_PASSWORD, newPassword: 'ett-helt-nytt-losenord' } },
      ]) {
        expectUnauthenticated(await t.request({ ...request, headers }));
      }
    }
    expect(await t.snapshot()).toBe(before);
    expect(await meStatus(t, anna)).toBe(200);
  });

  it('a session in use is renewed: used after five minutes or more, its expiry moves to its lifetime from now; used again at once, it is not written', async () => {
    const device = await t.login('bertil@vasaskolan.example');
    const browserLogin = await signIn(t, { email: 'cecilia@vasaskolan.example', password: DEMO_PASSWORD, kind: 'browser' });
    const browser = browserLogin.body.token as string;
    const sessionOf = async (token: string) => (await t.db.query<{ expires_at: Date; last_seen_at: Date }>(
      'SELECT expires_at, last_seen_at FROM sessions WHERE id = $1', [await sessionIdOf(t, token)])).rows[0];
    for (const [token, days] of [[device, t.app.config.DEVICE_SESSION_TTL_DAYS], [browser, t.app.config.SESSION_TTL_DAYS]] as const) {
      const sessionId = await sessionIdOf(t, token);
      await t.db.query("UPDATE sessions SET last_seen_at = now() - interval '6 minutes', expires_at = now() + interval '1 day' WHERE id = $1", [sessionId]);
      expect(await meStatus(t, token)).toBe(200);
      const renewed = await sessionOf(token);
      expect(Math.abs((renewed?.expires_at.getTime() ?? 0) - (Date.now() + days * DAY_MS))).toBeLessThan(60_000);
      expect(Date.now() - (renewed?.last_seen_at.getTime() ?? 0)).toBeLessThan(60_000);

      await t.db.query("UPDATE sessions SET last_seen_at = now() - interval '4 minutes', expires_at = now() + interval '1 day' WHERE id = $1", [sessionId]);
      const before = await sessionOf(token);
      expect(await meStatus(t, token)).toBe(200);
      expect(await sessionOf(token)).toEqual(before);
    }
  });

  it('an expired session token gets 401 unauthenticated', async () => {
    const token = await t.login('bertil@vasaskolan.example');
    const sessionId = await sessionIdOf(t, token);
    await t.db.query("UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id = $1", [sessionId]);
    expectUnauthenticated(await t.request({ method: 'GET', url: ME, token }));
  });

  it('a revoked session token gets 401 unauthenticated', async () => {
    const token = await t.login('cecilia@vasaskolan.example');
    const sessionId = await sessionIdOf(t, token);
    await t.db.query('UPDATE sessions SET revoked_at = now() WHERE id = $1', [sessionId]);
    expectUnauthenticated(await t.request({ method: 'GET', url: ME, token }));
  });
});

describe('bad input to the auth endpoints', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startApp();
    token = await t.login('anna@vasaskolan.example');
  });
  afterAll(() => t.close());

  const email = 'anna@vasaskolan.example';

  it.each([
    ['an empty body', {}],
    ['a missing password', { email }],
    ['a missing e-mail address', { password: DEMO_PASSWORD }],
    ['an extra field', { email, password: DEMO_PASSWORD, admin: true }],
    ['a numeric e-mail address', { email: 12345, password: DEMO_PASSWORD }],
    ['a boolean password', { email, password: true }],
    ['an empty password', { email, password: '' }],
    ['a too short e-mail address', { email: 'a@', password: DEMO_PASSWORD }],
    ['an unknown session kind', { email, password: DEMO_PASSWORD, kind: 'tablet' }],
    ['a too long label', { email, password: DEMO_PASSWORD, label: 'x'.repeat(101) }],
    ['a NUL character in the e-mail address', { email: 'anna\u0000@vasaskolan.example', password: DEMO_PASSWORD }],
    ['a NUL character in the device label', { email, password: DEMO_PASSWORD, label: 'Annas\u0000telefon' }],
    ['an array', JSON.stringify([email, DEMO_PASSWORD])],
    ['a JSON string', JSON.stringify('anna@vasaskolan.example')],
    ['JSON null', 'null'],
  ])('sign-in with %s gets 400 validation_failed and changes nothing', async (_name, body) => {
    const before = await t.snapshot();
    const res = await signIn(t, body, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(await t.snapshot()).toBe(before);
  });

  it('sign-in with a body that is not JSON gets 400 invalid_json and changes nothing', async () => {
    const before = await t.snapshot();
    const res = await t.request({ method: 'POST', url: LOGIN, body: '{"email": "anna', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_json');
    expect(await t.snapshot()).toBe(before);
  });

  it.each([
    ['an empty body', {}],
    ['a missing current password', { newPassword: 'ett-helt-nytt-losenord' }],
    ['a missing new password', { currentPassword: DEMO_PASSWORD }],
    ['a too short new password', { currentPassword: DEMO_PASSWORD, newPassword: 'kort12345' }],
    ['a numeric new password', { currentPassword: DEMO_PASSWORD, newPassword: 12345678901 }],
    ['an extra field', { currentPassword: DEMO_PASSWORD, newPassword: 'ett-helt-nytt-losenord', force: true }],
    ['an extra field naming another person', { currentPassword: DEMO_PASSWORD, newPassword: 'ett-helt-nytt-losenord', email: 'bertil@vasaskolan.example' }],
  ])('a password change with %s gets 400 validation_failed and changes nothing', async (_name, body) => {
    const before = await t.snapshot();
    const res = await t.request({ method: 'POST', url: PASSWORD, token, body });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(await t.snapshot()).toBe(before);
    expect(await meStatus(t, token)).toBe(200);
  });

  it('ending a session by an id that is not a uuid gets 400 validation_failed and changes nothing', async () => {
    const before = await t.snapshot();
    const res = await t.request({ method: 'DELETE', url: `${SESSIONS}/not-a-uuid`, token });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(await t.snapshot()).toBe(before);
  });
});

describe('account lockout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ LOGIN_MAX_FAILURES: '3' });
  });
  afterAll(() => t.close());

  const failTimes = async (email: string, times: number) => {
    for (let i = 0; i < times; i += 1) {
      const res = await signIn(t, { email, password: `wrong-password-${i}` });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('invalid_credentials');
    }
  };

  const expectLocked = (res: Response) => {
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('account_locked');
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(t.app.config.LOGIN_LOCKOUT_MINUTES * 60);
  };

  it('after LOGIN_MAX_FAILURES wrong passwords the address is locked: 429 account_locked with Retry-After, even for the right password', async () => {
    await failTimes('anna@vasaskolan.example', 3);
    expectLocked(await signIn(t, { email: 'anna@vasaskolan.example', password: 'wrong-password-again' }));
    expectLocked(await signIn(t, { email: 'anna@vasaskolan.example', password: DEMO_PASSWORD }));
    expect(await openSessions(t, 'anna@vasaskolan.example')).toBe(0);
  });

  it('changing the case of a locked address does not get round the lock', async () => {
    await failTimes('Bertil@Vasaskolan.example', 3);
    expectLocked(await signIn(t, { email: ' BERTIL@VASASKOLAN.EXAMPLE', password: DEMO_PASSWORD }));
    expectLocked(await signIn(t, { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD }));
  });

  it('an unknown address is locked the same way, so a lockout reveals nothing about which addresses exist', async () => {
    await failTimes('frida@solrosen.example', 3);
    await failTimes('ingen.alls@solrosen.example', 3);
    const known = await signIn(t, { email: 'frida@solrosen.example', password: DEMO_PASSWORD });
    const unknown = await signIn(t, { email: 'ingen.alls@solrosen.example', password: DEMO_PASSWORD });
    expectLocked(known);
    expectLocked(unknown);
    expect({ code: unknown.body.code, message: unknown.body.message }).toEqual({ code: known.body.code, message: known.body.message });
  });

  it('a locked address does not lock anyone else', async () => {
    await failTimes('rektor@solrosen.example', 3);
    expectLocked(await signIn(t, { email: 'rektor@solrosen.example', password: DEMO_PASSWORD }));
    expect((await signIn(t, { email: 'rektor@vasaskolan.example', password: DEMO_PASSWORD })).status).toBe(200);
  });

  it('a successful sign-in clears earlier failures', async () => {
    await failTimes('cecilia@vasaskolan.example', 2);
    expect((await signIn(t, { email: 'cecilia@vasaskolan.example', password: DEMO_PASSWORD })).status).toBe(200);
    await failTimes('cecilia@vasaskolan.example', 2);
    expect((await signIn(t, { email: 'cecilia@vasaskolan.example', password: DEMO_PASSWORD })).status).toBe(200);
  });

  it('the lock lifts once LOGIN_LOCKOUT_MINUTES have passed since the last failure', async () => {
    await failTimes('kris@utbildning.example', 3);
    expectLocked(await signIn(t, { email: 'kris@utbildning.example', password: DEMO_PASSWORD }));
    await t.db.query('UPDATE login_failures SET failed_at = failed_at - make_interval(mins => $2) WHERE email = $1', [
      'kris@utbildning.example', t.app.config.LOGIN_LOCKOUT_MINUTES,
    ]);
    expect((await signIn(t, { email: 'kris@utbildning.example', password: DEMO_PASSWORD })).status).toBe(200);
  });
});

describe('rate limiting of sign-in per client address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ LOGIN_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  it('more than LOGIN_RATE_LIMIT_PER_MINUTE attempts from one address within a minute get 429 rate_limited', async () => {
    const ip = '203.0.113.10';
    const credentials = { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD };
    for (let i = 0; i < 3; i += 1) expect((await signInFrom(t, ip, credentials)).status).toBe(200);
    const sessionsBefore = await sessionCount(t);

    const limited = await signInFrom(t, ip, credentials);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(await sessionCount(t)).toBe(sessionsBefore);
  });

  it('the limit counts attempts per address, so another client can still sign in', async () => {
    const busy = '203.0.113.20';
    for (let i = 0; i < 4; i += 1) await signInFrom(t, busy, { email: 'nobody@vasaskolan.example', password: 'x' });
    expect((await signInFrom(t, busy, { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD })).status).toBe(429);
    expect((await signInFrom(t, '203.0.113.21', { email: 'bertil@vasaskolan.example', password: DEMO_PASSWORD })).status).toBe(200);
  });
});

describe('sign-in with arbitrary bodies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  const demoEmails = ['anna@vasaskolan.example', 'rektor@vasaskolan.example', 'admin@kultur.example', 'system@samlarm.example'];
  const anyString = (constraints: { minLength?: number; maxLength?: number } = {}) =>
    fc.oneof(fc.string(constraints), fc.string({ ...constraints, unit: 'binary' }), fc.string({ ...constraints, unit: 'binary-ascii' }));
  const wrongPassword = anyString({ minLength: 1 }).filter((s) => s !== DEMO_PASSWORD);
  // Well-formed sign-ins reach the database and the password check, where odd characters matter most.
  const wellFormed = fc.record(
    {
      email: fc.oneof(fc.constantFrom(...demoEmails), fc.emailAddress(), anyString({ minLength: 3, maxLength: 254 })),
      password: wrongPassword,
      kind: fc.constantFrom('device', 'browser'),
      label: anyString({ maxLength: 100 }),
    },
    { requiredKeys: ['email', 'password'] },
  );
  const loose = fc.record(
    {
      email: fc.oneof(fc.constantFrom(...demoEmails), anyString(), fc.jsonValue()),
      password: fc.oneof(wrongPassword, fc.jsonValue()),
      kind: fc.oneof(anyString(), fc.jsonValue()),
      label: fc.oneof(anyString(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );
  const withExtraKeys = fc.tuple(wellFormed, fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1, maxKeys: 3 }))
    .map(([body, extra]) => ({ ...extra, ...body }));
  const body = fc.oneof(
    { arbitrary: wellFormed, weight: 4 },
    { arbitrary: loose, weight: 2 },
    { arbitrary: withExtraKeys, weight: 1 },
    { arbitrary: fc.jsonValue({ stringUnit: 'binary' }), weight: 1 },
  );

  it('never answers with a 5xx and never opens a session', async () => {
    const sessionsBefore = await sessionCount(t);
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const res = await signInFrom(t, '203.0.113.99', payload);
        expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
        expect(typeof res.body.code).toBe('string');
        expect(res.body.token).toBeUndefined();
      }),
      { numRuns: 150 },
    );
    expect(await sessionCount(t)).toBe(sessionsBefore);
    // Most runs verify a password (tens of milliseconds of argon2 each): slow on a busy machine.
  }, 120_000);
});
