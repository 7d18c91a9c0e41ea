import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { demoEmail, type Who } from './helpers/demo.js';
import { FakePushService, PUSH_SERVICE_CA, type Received } from './helpers/push-service.js';
import { FakeSmsGateway, type SmsMessage } from './helpers/sms-gateway.js';

/**
 * No push device, no silence (issue 13, ADR 025): at raise time, a recipient with no device that can
 * receive push and with a phone number gets the alarm by SMS through the gateway, as a delivery like any
 * other (outbox row, attempts, the gateway's delivery report), shown in the roll call. Real app, real
 * delivery worker, a local push service and a local SMS gateway.
 */

const REPORT_TOKEN = 'gateway-report-token-0123456789';
const PUBLIC_URL = 'https://samlarm.kommun.example';
const PHONE: Partial<Record<Who, string>> = {
  rektor: '+46700000002', kris: '+46700000003', anna: '+46700000004', bertil: '+46700000005', cecilia: '+46700000006',
};

async function api(t: TestApp, token: string | undefined, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<Response> {
  return t.request({ method, url: `/api/v1${url}`, token, body });
}

describe('an alarm by SMS to recipients without push, at raise time', () => {
  let t: TestApp;
  let service: FakePushService;
  let sms: FakeSmsGateway;
  const token: Partial<Record<Who, string>> = {};
  let bertilSubscription = '';
  let fireId = '';

  const raise = async (who: Who, type: string, extra: Record<string, unknown> = {}) => {
    const res = await api(t, token[who], 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: type, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id as string;
  };
  const resolve = async (incidentId: string) => {
    expect((await api(t, token.kris, 'POST', `/incidents/${incidentId}/resolve`, {})).status).toBe(200);
  };
  /** The alarm's push has reached Bertil's phone: the worker has been through what the raise queued. */
  const pushedToBertil = (incidentId: string) =>
    service.waitFor((all) => all.some((r: Received) => r.subscriptionId === bertilSubscription && r.payload?.incidentId === incidentId && r.payload.kind === 'alarm'), 20_000);
  const smsRows = async (incidentId: string) => (await t.db.query<{ id: string; person_id: string; state: string; address: string }>(
    "SELECT id::text, person_id, state::text, address FROM deliveries WHERE incident_id = $1 AND channel = 'sms' AND kind = 'alarm' ORDER BY id", [incidentId],
  )).rows;
  const rollcallSms = async (incidentId: string, who: Who) => {
    const res = await api(t, token.kris, 'GET', `/incidents/${incidentId}/rollcall`);
    expect(res.status).toBe(200);
    return (res.body.people as { personId: string; push: { devices: number; sms: { state: string; at: string | null } | null } }[])
      .find((p) => p.personId === t.ids.person[demoEmail(who)])?.push;
  };

  beforeAll(async () => {
    service = await FakePushService.start();
    sms = await FakeSmsGateway.start();
    t = await startApp({
      PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50', DELIVERY_WORKER: 'true',
      SMS_GATEWAY_URL: sms.url, SMS_GATEWAY_TOKEN: 'gateway-secret', SMS_REPORT_TOKEN: REPORT_TOKEN, PUBLIC_URL,
    });
    // Escalation far away: whatever reaches the gateway in this file came at raise time, not from the ladder.
    await t.db.query("UPDATE alarm_types SET repush_after_seconds = 3600, contacts_after_seconds = 86400, sms_to_contacts = true WHERE organisation_id IS NULL");
    for (const who of ['rektor', 'kris', 'anna', 'bertil', 'cecilia'] as const) token[who] = await t.loginAs(who);
    const subscribe = async (who: Who, script: { status: number }[] = []) => {
      const sub = service.subscribe(script);
      const res = await api(t, token[who], 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return sub.id;
    };
    // Bertil: a phone that works. Rebecka: subscribed, but push denied on it since. Kim: subscribed, but the
    // device check's test push failed. Cecilia and Anna: signed in on no device with push.
    bertilSubscription = await subscribe('bertil');
    await subscribe('rektor');
    expect((await api(t, token.rektor, 'PUT', '/me/device/status', { pushPermission: 'denied', standalone: false, platform: 'Android' })).status).toBe(200);
    await subscribe('kris', [{ status: 400 }]);
    expect((await api(t, token.kris, 'POST', '/me/device/test-push')).status).toBe(202);
    for (let i = 0; i < 400; i++) {
      const row = (await t.db.query<{ state: string }>("SELECT state::text FROM deliveries WHERE kind = 'test' ORDER BY id DESC LIMIT 1")).rows[0];
      if (row?.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await service?.close();
    await sms?.close();
  });

  it('a fire reaches those without a device that can receive push by SMS right after the raise, long before escalation; not the one with a working phone, not the one who pressed', async () => {
    fireId = await raise('anna', t.ids.alarmType.brand, { location: 'Matsalen' });
    const expected = [PHONE.rektor, PHONE.kris, PHONE.cecilia].sort();
    await sms.waitFor((m) => m.length >= expected.length);
    await pushedToBertil(fireId);
    const rows = await smsRows(fireId);
    expect(rows.map((r) => r.address).sort()).toEqual(expected);
    // Every one at the gateway before the escalation step was due (a day after the raise): at raise time, not on the ladder.
    const step = (await t.db.query<{ due_at: Date }>("SELECT due_at FROM escalation_steps WHERE incident_id = $1 AND step = 'contacts'", [fireId])).rows[0];
    expect(step).toBeDefined();
    for (const m of sms.messages) expect(m.receivedAt).toBeLessThan(new Date(step?.due_at as Date).getTime());
    const to = (phone: string | undefined) => sms.messages.find((m) => m.to === phone) as SmsMessage;
    expect(sms.messages.map((m) => m.to)).not.toContain(PHONE.bertil);
    expect(sms.messages.map((m) => m.to)).not.toContain(PHONE.anna);
    // In the person's language: type, site, what to do, where, and the link to the alarm.
    expect(to(PHONE.kris).message).toMatch(/^Brand – Vasaskolan\n/);
    expect(to(PHONE.kris).message).toContain('Plats: Matsalen');
    expect(to(PHONE.kris).message).toContain(`Öppna Samlarm: ${PUBLIC_URL}/alarm/${fireId}`);
    expect(to(PHONE.cecilia).message).toMatch(/^Fire – Vasaskolan\n/);
    expect(to(PHONE.cecilia).message).toContain(`Open Samlarm: ${PUBLIC_URL}/alarm/${fireId}`);
    expect(to(PHONE.cecilia).auth).toBe('Bearer gateway-secret');
    expect(to(PHONE.cecilia).reference).toBe(rows.find((r) => r.address === PHONE.cecilia)?.id);

    // A delivery like any other: its attempt is in the timeline for the review.
    await expect.poll(async () => (await t.db.query(
      "SELECT 1 FROM incident_events WHERE incident_id = $1 AND type = 'delivery_attempt' AND data->>'channel' = 'sms' AND data->>'outcome' = 'sent'", [fireId],
    )).rowCount, { timeout: 20_000 }).toBe(3);
    // The roll call says the SMS went, not only "no device with push".
    await expect.poll(async () => (await rollcallSms(fireId, 'cecilia'))?.sms?.state, { timeout: 20_000 }).toBe('sent');
    expect((await rollcallSms(fireId, 'cecilia'))?.sms?.at).toEqual(expect.any(String));
    expect((await rollcallSms(fireId, 'bertil'))?.sms).toBeNull();
  });

  it('the gateway\'s delivery report is recorded and shown in the roll call; a later failure does not undo a delivery', async () => {
    const rows = await smsRows(fireId);
    const cecilia = rows.find((r) => r.address === PHONE.cecilia)?.id as string;
    const rektor = rows.find((r) => r.address === PHONE.rektor)?.id as string;
    const report = (reference: string, status: string, auth = REPORT_TOKEN) => api(t, auth, 'POST', '/sms/reports', { reference, status });
    expect((await report(cecilia, 'delivered')).status).toBe(204);
    expect((await report(rektor, 'failed')).status).toBe(204);
    expect((await rollcallSms(fireId, 'cecilia'))?.sms).toEqual({ state: 'delivered', at: expect.any(String) });
    expect((await rollcallSms(fireId, 'rektor'))?.sms).toEqual({ state: 'failed', at: expect.any(String) });
    // Delivered stays delivered; the same report again changes nothing.
    const before = await t.snapshot();
    expect((await report(cecilia, 'failed')).status).toBe(204);
    expect((await report(cecilia, 'delivered')).status).toBe(204);
    expect(await t.snapshot()).toBe(before);
    expect((await rollcallSms(fireId, 'cecilia'))?.sms?.state).toBe('delivered');
    await resolve(fireId);
  });

  it('the delivery report refuses anyone without the gateway\'s token, and bad input, with a stable code, changing nothing', async () => {
    const rows = await smsRows(fireId);
    const kris = rows.find((r) => r.address === PHONE.kris)?.id as string;
    const push = (await t.db.query<{ id: string }>("SELECT id::text FROM deliveries WHERE channel = 'push' ORDER BY id LIMIT 1")).rows[0]?.id as string;
    const klara = await t.loginAs('klara');
    // The all clear's pushes sent: nothing else changes the tables while the endpoint is tried.
    await expect.poll(async () => (await t.db.query("SELECT 1 FROM deliveries WHERE state IN ('queued', 'sending')")).rowCount, { timeout: 20_000 }).toBe(0);
    const before = await t.snapshot();
    const cases: { auth: string | undefined; body: unknown; status: number; code: string }[] = [
      { auth: undefined, body: { reference: kris, status: 'delivered' }, status: 401, code: 'unauthenticated' },
      { auth: 'not-the-token-at-all-0123456789', body: { reference: kris, status: 'delivered' }, status: 401, code: 'unauthenticated' },
      // A person's session is no gateway, whichever organisation.
      { auth: token.kris, body: { reference: kris, status: 'delivered' }, status: 401, code: 'unauthenticated' },
      { auth: klara, body: { reference: kris, status: 'delivered' }, status: 401, code: 'unauthenticated' },
      { auth: REPORT_TOKEN, body: { reference: kris, status: 'read' }, status: 400, code: 'validation_failed' },
      { auth: REPORT_TOKEN, body: { reference: 'abc', status: 'delivered' }, status: 400, code: 'validation_failed' },
      { auth: REPORT_TOKEN, body: { reference: '99999999999999999999', status: 'delivered' }, status: 400, code: 'validation_failed' },
      { auth: REPORT_TOKEN, body: { reference: kris, status: 'delivered', at: 'now' }, status: 400, code: 'validation_failed' },
      { auth: REPORT_TOKEN, body: { status: 'delivered' }, status: 400, code: 'validation_failed' },
      { auth: REPORT_TOKEN, body: { reference: '987654321', status: 'delivered' }, status: 404, code: 'not_found' },
      // A push is no SMS: nothing to report on.
      { auth: REPORT_TOKEN, body: { reference: push, status: 'delivered' }, status: 404, code: 'not_found' },
    ];
    for (const c of cases) {
      const res = await api(t, c.auth, 'POST', '/sms/reports', c.body);
      expect(res.status, JSON.stringify(c)).toBe(c.status);
      expect(res.body.code, JSON.stringify(c)).toBe(c.code);
      expect(typeof res.body.message).toBe('string');
    }
    expect(await t.snapshot()).toBe(before);
  });

  it('a silent lockdown sends no SMS by default; when its type says so, the SMS says it is a silent alarm', async () => {
    const sent = sms.messages.length;
    const first = await raise('anna', t.ids.alarmType.inrymning);
    await pushedToBertil(first);
    expect(await smsRows(first)).toEqual([]);
    expect(sms.messages.length).toBe(sent);
    expect((await rollcallSms(first, 'cecilia'))?.sms).toBeNull();
    await resolve(first);

    await t.db.query("UPDATE alarm_types SET sms_when_no_push = true WHERE organisation_id IS NULL AND key = 'inrymning'");
    const second = await raise('anna', t.ids.alarmType.inrymning);
    await sms.waitFor((m) => m.length >= sent + 3);
    const mine = sms.messages.slice(sent);
    expect(mine.map((m) => m.to).sort()).toEqual([PHONE.rektor, PHONE.kris, PHONE.cecilia].sort());
    expect(mine.find((m) => m.to === PHONE.kris)?.message).toContain('Tyst larm: stäng av ljudet på telefonen.');
    expect(mine.find((m) => m.to === PHONE.cecilia)?.message).toContain('Silent alarm: mute your phone.');
    await resolve(second);
  });

  it('device health says who gets alarms by SMS: no device that can receive push, a phone number, a gateway', async () => {
    const res = await api(t, token.rektor, 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
    expect(res.status).toBe(200);
    const smsAlarms = Object.fromEntries((res.body.people as { name: string; smsAlarms: boolean }[]).map((p) => [p.name, p.smsAlarms]));
    // Kim's device is subscribed, but its test push failed: it cannot receive alarms, as the SMS at raise time knew.
    expect(smsAlarms).toMatchObject({ 'Cecilia Carlsson': true, 'Anna Andersson': true, 'Rebecka Rektor': true, 'Kim Krisledare': true, 'Bertil Berg': false });
  });

  it('a drill\'s SMS is marked as one, first', async () => {
    const sent = sms.messages.length;
    const drill = await raise('kris', t.ids.alarmType.brand, { drill: true });
    // Kim pressed: Anna (no device), Rebecka and Cecilia get it by SMS.
    await sms.waitFor((m) => m.length >= sent + 3);
    const mine = sms.messages.slice(sent);
    expect(mine.map((m) => m.to).sort()).toEqual([PHONE.rektor, PHONE.anna, PHONE.cecilia].sort());
    expect(mine.find((m) => m.to === PHONE.anna)?.message).toMatch(/^ÖVNING – Brand – Vasaskolan\n/);
    expect(mine.find((m) => m.to === PHONE.cecilia)?.message).toMatch(/^DRILL – Fire – Vasaskolan\n/);
    await resolve(drill);
  });
});

describe('without an SMS gateway or SMS_REPORT_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('device health says nobody gets alarms by SMS without a gateway', async () => {
    const res = await api(t, await t.loginAs('rektor'), 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
    expect((res.body.people as { smsAlarms: boolean }[]).every((p) => !p.smsAlarms)).toBe(true);
  });

  it('delivery reports are not served: 404, whatever the token', async () => {
    for (const auth of [undefined, 'anything-at-all-0123456789']) {
      const res = await api(t, auth, 'POST', '/sms/reports', { reference: '1', status: 'delivered' });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });
});
