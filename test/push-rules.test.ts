import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { catchUp } from '../src/modules/alarms/catch-up.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { FakePushService, PUSH_SERVICE_CA, type Received } from './helpers/push-service.js';
import { type Who } from './helpers/demo.js';

/**
 * The rules a push must keep beyond getting there: a phone never rings while a silent alarm is in
 * force at its site, a drill label follows what is in force, a re-alert reaches even those who
 * confirmed the first alert, nothing queued about an incident goes out after its all clear, a
 * subscription cannot be taken from another person's live device, and review-only events are never
 * a device's cursor.
 */

/** The demo people this file acts as. */
const PEOPLE: Who[] = ['anna', 'bertil', 'kris', 'lisa'];

describe('push rules', () => {
  let t: TestApp;
  let service: FakePushService;
  const token = {} as Record<Who, string>;
  const subscription = {} as Record<Who, string>;

  const api = (who: Who, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<Response> =>
    t.request({ method, url: `/api/v1${url}`, token: token[who], body });
  const raise = async (who: Who, alarmTypeId: string, extra: Record<string, unknown> = {}) => {
    const res = await api(who, 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    return res.body.incident.id as string;
  };
  const pushesTo = (who: Who, incidentId: string, kind?: string) => service.for(subscription[who])
    .filter((r: Received) => r.payload?.incidentId === incidentId && (kind === undefined || r.payload.kind === kind));
  const send = () => t.app.delivery.worker.runUntilIdle();

  beforeAll(async () => {
    service = await FakePushService.start();
    t = await startApp({ PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA });
    for (const who of PEOPLE) {
      token[who] = await t.loginAs(who);
      const sub = service.subscribe();
      const res = await api(who, 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, keys: sub.keys });
      expect(res.status).toBe(200);
      subscription[who] = sub.id;
    }
  });
  beforeEach(async () => {
    for (const { id } of (await t.db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows) {
      await api('kris', 'POST', `/incidents/${id}/resolve`, {});
    }
    await send();
  });
  afterAll(async () => {
    await t?.close();
    await service?.close();
  });

  it('a loud alarm raised during a lockdown reaches phones silent, and so does the fire\'s all clear while the lockdown holds', async () => {
    await raise('anna', t.ids.alarmType.inrymning);
    const fire = await raise('anna', t.ids.alarmType.brand, { confirmContradiction: true });
    await send();
    const alarm = pushesTo('bertil', fire, 'alarm')[0]?.payload;
    expect(alarm?.alarmType).toMatchObject({ key: 'brand', sound: 'silent' });
    expect(alarm?.body).toMatch(/^Pågående dödligt våld/);

    expect((await api('kris', 'POST', `/incidents/${fire}/resolve`, {})).status).toBe(200);
    await send();
    const allClear = pushesTo('bertil', fire, 'all_clear')[0]?.payload;
    expect(allClear?.alarmType).toMatchObject({ sound: 'silent' });
    expect(allClear?.body).toContain('Gäller fortfarande: Pågående dödligt våld');
  });

  it('a real alarm raised during a drill tells the drill\'s people of the real instruction without a drill label', async () => {
    const drill = await raise('kris', t.ids.alarmType.brand, { drill: true });
    await send();
    expect(pushesTo('bertil', drill, 'alarm')[0]?.payload).toMatchObject({ drill: true, title: 'ÖVNING – Brand – Vasaskolan' });

    await raise('anna', t.ids.alarmType.inrymning, { confirmContradiction: true });
    await send();
    const instruction = pushesTo('bertil', drill, 'instruction')[0]?.payload;
    expect(instruction).toMatchObject({ drill: false, title: 'Ny instruktion – Vasaskolan', alarmType: { key: 'inrymning', sound: 'silent' } });
    expect(instruction?.body).toMatch(/^Pågående dödligt våld/);
  });

  it('a re-alert after the join window reaches people whose device confirmed the first alert', async () => {
    await t.app.close();
    let now = Date.now();
    const clocked = await startApp({ PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, ALARM_JOIN_WINDOW_SECONDS: '60' },
      { clock: { now: () => new Date(now) } });
    const old = t;
    t = clocked;
    try {
      await old.db.end();
      for (const who of PEOPLE) {
        token[who] = await t.loginAs(who);
        const sub = service.subscribe();
        await api(who, 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, keys: sub.keys });
        subscription[who] = sub.id;
      }
      const incidentId = await raise('anna', t.ids.alarmType.hot);
      await send();
      expect(pushesTo('bertil', incidentId, 'alarm')).toHaveLength(1);
      await api('bertil', 'POST', `/incidents/${incidentId}/receipts`, { kind: 'acknowledged', deviceId: 'bertils-phone' });
      await t.app.alarms.flushReceipts();

      now += 61_000;
      const again = await api('anna', 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.hot });
      expect(again.body.outcome).toBe('reraised');
      await send();
      expect(pushesTo('bertil', incidentId, 'alarm')).toHaveLength(2);
      // The first escalation round (due at 120 s for a threat) is not part of this.
      expect(pushesTo('bertil', incidentId, 'reminder')).toHaveLength(0);
    } finally {
      now = Date.now();
    }
  });

  it('nothing queued about an incident is sent after its all clear: a stale instruction or message would replace it on the phone', async () => {
    const fire = await raise('anna', t.ids.alarmType.brand);
    await send();
    // A lead's instruction and a message are queued; the all clear commits before any worker claims them.
    expect((await api('kris', 'POST', `/incidents/${fire}/messages`, { kind: 'instruction', body: 'Samling vid flaggstången' })).status).toBe(200);
    expect((await api('kris', 'POST', `/incidents/${fire}/resolve`, {})).status).toBe(200);
    await send();
    expect(pushesTo('bertil', fire, 'message')).toHaveLength(0);
    expect(pushesTo('bertil', fire, 'all_clear')).toHaveLength(1);
    const states = (await t.db.query<{ kind: string; state: string }>(
      "SELECT kind, state::text FROM deliveries WHERE incident_id = $1 AND kind = 'message'", [fire],
    )).rows;
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((s) => s.state === 'cancelled')).toBe(true);
  });

  it('knowing another person\'s endpoint does not move their subscription: 409, nothing changes', async () => {
    const theirs = (await t.db.query<{ endpoint: string; p256dh: string; auth: string }>(
      'SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE person_id = $1', [t.personId('bertil')],
    )).rows[0];
    const before = await t.snapshot();
    const res = await api('lisa', 'PUT', '/me/device/push-subscription', { endpoint: theirs?.endpoint, keys: { p256dh: theirs?.p256dh, auth: theirs?.auth } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('conflict');
    expect(await t.snapshot()).toBe(before);
  });

  it('refuses a key that is not a point on the curve and an expiry past any date, changing nothing', async () => {
    const sub = service.subscribe();
    const notOnCurve = Buffer.alloc(65, 1);
    notOnCurve[0] = 4;
    const before = await t.snapshot();
    const bad = await api('anna', 'PUT', '/me/device/push-subscription', {
      endpoint: sub.endpoint, keys: { p256dh: notOnCurve.toString('base64url'), auth: sub.keys.auth },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    const future = await api('anna', 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, expirationTime: 1e300, keys: sub.keys });
    expect(future.status).toBe(400);
    expect(future.body.code).toBe('validation_failed');
    expect(await t.snapshot()).toBe(before);
  });

  it('a device resynced while delivery attempts are being recorded gets a cursor that is never one of them', async () => {
    const incidentId = await raise('anna', t.ids.alarmType.hot);
    await send();
    const attempts = (await t.db.query<{ id: string }>(
      "SELECT max(id)::text AS id FROM incident_events WHERE incident_id = $1 AND audience = 'review'", [incidentId],
    )).rows[0];
    const latest = (await t.db.query<{ id: string }>("SELECT max(id)::text AS id FROM incident_events WHERE audience <> 'review'")).rows[0];
    expect(BigInt(attempts?.id ?? '0')).toBeGreaterThan(BigInt(latest?.id ?? '0'));
    const state = await catchUp(t.app.db, t.personId('bertil'), { cursor: null, epoch: null });
    expect(state.cursor).toBe(latest?.id);
  });

  it('a phone registering its subscription again while an alarm is raised never makes the raise fail, and keeps its subscription', async () => {
    const mine = (): Promise<Array<{ id: string; endpoint: string; p256dh: string; auth: string }>> => t.db.query<{ id: string; endpoint: string; p256dh: string; auth: string }>(
      'SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE person_id = $1', [t.personId('bertil')],
    ).then((r) => r.rows);
    const [sub] = await mine();
    // A registration's delete of one of the recipients' subscriptions commits while the alarm's pushes are queued.
    const other = await t.db.connect();
    try {
      await other.query('BEGIN');
      await other.query('DELETE FROM push_subscriptions WHERE id = $1', [sub?.id]);
      const raising = api('anna', 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.hot });
      await new Promise((r) => setTimeout(r, 300));
      await other.query('COMMIT');
      const res = await raising;
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    } finally {
      other.release();
    }
    // Registering the same endpoint again keeps the row, so pushes queued for the device still refer to it.
    const again = async () => expect((await api('bertil', 'PUT', '/me/device/push-subscription', { endpoint: sub?.endpoint, keys: { p256dh: sub?.p256dh, auth: sub?.auth } })).status).toBe(200);
    await again();
    const registered = await mine();
    await again();
    expect(await mine()).toEqual(registered);
    await send();
  });

  it('a push queued for a device that signs out before it is sent is not sent to it', async () => {
    const second = await t.loginAs('bertil');
    const sub = service.subscribe();
    expect((await t.request({ method: 'PUT', url: '/api/v1/me/device/push-subscription', token: second, body: { endpoint: sub.endpoint, keys: sub.keys } })).status).toBe(200);
    const fire = await raise('anna', t.ids.alarmType.brand);
    expect((await t.request({ method: 'POST', url: '/api/v1/auth/logout', token: second, body: {} })).status).toBeLessThan(300);
    await send();
    expect(service.for(sub.id)).toHaveLength(0);
    expect(pushesTo('bertil', fire, 'alarm')).toHaveLength(1);
    const row = (await t.db.query<{ state: string; last_error: string }>(
      "SELECT state::text, last_error FROM deliveries WHERE incident_id = $1 AND kind = 'alarm' AND person_id = $2 AND state <> 'sent'",
      [fire, t.personId('bertil')],
    )).rows;
    expect(row).toEqual([{ state: 'cancelled', last_error: 'subscription removed or its session ended' }]);
  });

  it('an alarm push waiting out a retry is not sent once a newer push of the incident reached the device: it would replace it', async () => {
    service.script(subscription.bertil, [{ status: 503 }]);
    const fire = await raise('anna', t.ids.alarmType.brand);
    await send();
    expect(pushesTo('bertil', fire, 'alarm').map((r) => r.status)).toEqual([503]);
    // A lead's message is no newer instruction: the alarm would still go.
    expect((await api('kris', 'POST', `/incidents/${fire}/messages`, { kind: 'instruction', body: 'Samling vid flaggstången' })).status).toBe(200);
    // A lockdown confirmed at the site changes what the fire's people must do: that push reaches Bertil.
    await raise('kris', t.ids.alarmType.inrymning, { confirmContradiction: true });
    await send();
    expect(pushesTo('bertil', fire, 'instruction').map((r) => r.status)).toEqual([201]);
    // The alarm's retry comes due (a day back: this file's app may run on a test clock).
    await t.db.query("UPDATE deliveries SET due_at = now() - interval '1 day' WHERE incident_id = $1 AND kind = 'alarm' AND state = 'queued'", [fire]);
    await send();
    expect(pushesTo('bertil', fire, 'alarm').map((r) => r.status)).toEqual([503]);
    const retried = (await t.db.query<{ state: string; last_error: string }>(
      "SELECT state::text, last_error FROM deliveries WHERE incident_id = $1 AND kind = 'alarm' AND person_id = $2",
      [fire, t.personId('bertil')],
    )).rows;
    expect(retried).toEqual([{ state: 'cancelled', last_error: 'superseded by a newer push' }]);
  });
});
