import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { FakePushService, PUSH_SERVICE_CA, type Received } from './helpers/push-service.js';
import { FakeSmsGateway } from './helpers/sms-gateway.js';
import { demoEmail, type Who } from './helpers/demo.js';

/**
 * Web Push and escalation against a local HTTPS push service that decrypts every payload
 * (http_ece) and checks every VAPID token: what a raised alarm sends, what push services' answers
 * do to subscriptions and retries, that a hanging service delays no one else, and the escalation
 * ladder driven by an injected clock.
 */


const pushEnv = (extra: Record<string, string> = {}) => ({
  PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50', DELIVERY_WORKER: 'true', ...extra,
});

interface Phone {
  who: Who;
  token: string;
  subscriptionId: string;
  deviceId: string;
}

async function api(t: TestApp, token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<Response> {
  return t.request({ method, url: `/api/v1${url}`, token, body });
}

/** Signs in as a phone would and registers a subscription at the service. */
async function phone(t: TestApp, service: FakePushService, who: Who): Promise<Phone> {
  const token = await t.loginAs(who);
  const sub = service.subscribe();
  const res = await api(t, token, 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { who, token, subscriptionId: sub.id, deviceId: `device-${randomUUID()}` };
}

async function raise(t: TestApp, token: string, alarmTypeId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api(t, token, 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.incident.id as string;
}

const ofIncident = (incidentId: string, kind?: string) => (r: Received) =>
  r.payload?.incidentId === incidentId && (kind === undefined || r.payload.kind === kind);

async function deliveries(t: TestApp, incidentId: string) {
  return (await t.db.query<{ id: string; state: string; kind: string; attempts: number; person_id: string; channel: string; subscription_id: string | null }>(
    'SELECT id::text, state::text, kind, attempts, person_id, channel, subscription_id FROM deliveries WHERE incident_id = $1 ORDER BY id', [incidentId],
  )).rows;
}

describe('Web Push delivery of alarms', () => {
  let t: TestApp;
  let service: FakePushService;
  beforeAll(async () => {
    service = await FakePushService.start();
    t = await startApp(pushEnv());
  });
  afterAll(async () => {
    await t?.close();
    await service?.close();
  });

  it('a raised alarm reaches every subscribed device of every recipient, encrypted, with Urgency high, the type\'s TTL and the incident\'s Topic', async () => {
    const anna = await phone(t, service, 'anna');
    const devices = [
      await phone(t, service, 'bertil'), await phone(t, service, 'bertil'), await phone(t, service, 'cecilia'),
      await phone(t, service, 'kris'), await phone(t, service, 'rektor'),
    ];
    const incidentId = await raise(t, anna.token, t.ids.alarmType.inrymning, { location: 'Sal 204' });
    await service.waitFor((r) => devices.every((d) => r.some((x) => x.subscriptionId === d.subscriptionId && ofIncident(incidentId)(x))));
    const pushes = service.received.filter(ofIncident(incidentId));
    expect(pushes).toHaveLength(devices.length);
    // The one who pressed knows: their phone is not alarmed about their own press.
    expect(service.for(anna.subscriptionId)).toHaveLength(0);

    for (const push of pushes) {
      expect(push.urgency).toBe('high');
      // Lockdown's policy: 900 s, minus the moments the push waited in the outbox.
      expect(push.ttl).toBeGreaterThan(880);
      expect(push.ttl).toBeLessThanOrEqual(900);
      expect(push.topic).toBe(incidentId.replaceAll('-', ''));
      expect(push.contentEncoding).toBe('aes128gcm');
      expect(push.vapidValid).toBe(true);
      expect(push.bodyBytes).toBeLessThanOrEqual(4096);
    }
    // Signed once for the push service, not once per message.
    expect(new Set(pushes.map((p) => p.vapidToken)).size).toBe(1);

    const swedish = pushes.find((p) => p.subscriptionId === devices[0]?.subscriptionId)?.payload;
    expect(swedish).toMatchObject({
      v: 1, kind: 'alarm', incidentId, drill: false, lang: 'sv', tag: `samlarm-incident-${incidentId}`,
      title: 'Inrymning (PDV) – Vasaskolan',
      alarmType: { key: 'inrymning', colour: '#6a1b9a', icon: 'lock', sound: 'silent' },
      site: { id: t.ids.site.vasaskolan, name: 'Vasaskolan' },
    });
    expect(swedish?.body).toMatch(/^Pågående dödligt våld\..*\nPlats: Sal 204$/s);
    expect(typeof swedish?.deliveryId).toBe('string');
    const english = pushes.find((p) => p.subscriptionId === devices[2]?.subscriptionId)?.payload;
    expect(english).toMatchObject({ lang: 'en', title: 'Lockdown (active violence) – Vasaskolan' });
    expect(english?.body).toMatch(/^Ongoing lethal violence\..*\nLocation: Sal 204$/s);

    await t.app.delivery.worker.runUntilIdle();
    const rows = await deliveries(t, incidentId);
    expect(rows.map((r) => r.state)).toEqual(rows.map(() => 'sent'));
    // Each attempt is in the timeline for the review, never in what devices receive.
    const attempts = (await t.db.query<{ audience: string; data: { outcome: string; deliveryId: string } }>(
      "SELECT audience::text, data FROM incident_events WHERE incident_id = $1 AND type = 'delivery_attempt'", [incidentId],
    )).rows;
    expect(attempts).toHaveLength(devices.length);
    expect(attempts.every((a) => a.audience === 'review' && a.data.outcome === 'sent')).toBe(true);

    const resolved = await api(t, devices[3]?.token ?? '', 'POST', `/incidents/${incidentId}/resolve`, {});
    expect(resolved.status).toBe(200);
    // Everyone but the one who declared it: the presser too, and each of Bertil's phones.
    await service.waitFor((r) => r.filter(ofIncident(incidentId, 'all_clear')).length === devices.length);
    expect(service.for(anna.subscriptionId).filter(ofIncident(incidentId, 'all_clear'))).toHaveLength(1);
    expect(service.for(devices[3]?.subscriptionId ?? '').filter(ofIncident(incidentId, 'all_clear'))).toHaveLength(0);
    const allClear = service.received.find((r) => ofIncident(incidentId, 'all_clear')(r) && r.subscriptionId === devices[0]?.subscriptionId);
    expect(allClear?.payload).toMatchObject({ title: 'Faran över – Inrymning (PDV) – Vasaskolan', tag: `samlarm-incident-${incidentId}` });
    expect(allClear?.topic).toBe(incidentId.replaceAll('-', ''));
  });

  it('a drill push is marked as a drill in its title and payload, in the recipient\'s language', async () => {
    const rektor = await phone(t, service, 'rektor');
    const cecilia = await phone(t, service, 'cecilia');
    const incidentId = await raise(t, rektor.token, t.ids.alarmType.brand, { drill: true });
    await service.waitFor((r) => r.some((x) => x.subscriptionId === cecilia.subscriptionId && ofIncident(incidentId)(x)));
    const push = service.for(cecilia.subscriptionId).find(ofIncident(incidentId));
    expect(push?.payload).toMatchObject({ drill: true, title: 'DRILL – Fire – Vasaskolan' });
    const kris = await phone(t, service, 'kris');
    await api(t, kris.token, 'POST', `/incidents/${incidentId}/resolve`, {});
  });

  it('404 and 410 remove exactly that subscription; 429 with Retry-After and 503 are retried until the push is accepted, each attempt in the timeline', async () => {
    const anna = await phone(t, service, 'anna');
    const gone410 = await phone(t, service, 'bertil');
    const gone404 = await phone(t, service, 'cecilia');
    const retried = await phone(t, service, 'kris');
    const fine = await phone(t, service, 'rektor');
    service.script(gone410.subscriptionId, [{ status: 410 }]);
    service.script(gone404.subscriptionId, [{ status: 404 }]);
    service.script(retried.subscriptionId, [{ status: 429, headers: { 'Retry-After': '3' } }, { status: 503 }]);
    const incidentId = await raise(t, anna.token, t.ids.alarmType.hot);
    await service.waitFor((r) => r.filter((x) => x.subscriptionId === retried.subscriptionId && ofIncident(incidentId)(x)).length === 3);
    const tries = service.for(retried.subscriptionId).filter(ofIncident(incidentId));
    expect(tries.map((x) => x.status)).toEqual([429, 503, 201]);
    // Retry-After: 3 was honoured (our own first backoff is 0.8-1.2 s, so this fails if the header is ignored).
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(2900);
    await t.app.delivery.worker.runUntilIdle();

    const subscriptions = (await t.db.query<{ session_id: string; endpoint: string }>('SELECT session_id, endpoint FROM push_subscriptions')).rows;
    const endpoints = subscriptions.map((s) => s.endpoint);
    expect(endpoints.some((e) => e.endsWith(gone410.subscriptionId))).toBe(false);
    expect(endpoints.some((e) => e.endsWith(gone404.subscriptionId))).toBe(false);
    expect(endpoints.some((e) => e.endsWith(retried.subscriptionId))).toBe(true);
    expect(endpoints.some((e) => e.endsWith(fine.subscriptionId))).toBe(true);
    expect(endpoints.some((e) => e.endsWith(anna.subscriptionId))).toBe(true);

    const rows = await deliveries(t, incidentId);
    const state = (personEmail: string) => rows.filter((r) => r.person_id === t.ids.person[personEmail]).map((r) => `${r.state}/${r.attempts}`);
    expect(state(demoEmail('bertil'))).toContain('gone/1');
    expect(state(demoEmail('cecilia'))).toContain('gone/1');
    expect(state(demoEmail('kris'))).toContain('sent/3');
    const outcomes = (await t.db.query<{ outcome: string; status: number }>(
      `SELECT data->>'outcome' AS outcome, (data->>'status')::int AS status FROM incident_events
        WHERE incident_id = $1 AND type = 'delivery_attempt' AND data->>'personId' = $2 ORDER BY id`,
      [incidentId, t.personId('kris')],
    )).rows;
    expect(outcomes.slice(-3)).toEqual([{ outcome: 'retry', status: 429 }, { outcome: 'retry', status: 503 }, { outcome: 'sent', status: 201 }]);
    // The lead's roll call counts only devices still there: a gone one is no device to wait for.
    const rollcall = await api(t, retried.token, 'GET', `/incidents/${incidentId}/rollcall`);
    const pushOf = (email: string) => (rollcall.body.people as { personId: string; push: { devices: number } }[])
      .find((p) => p.personId === t.ids.person[email])?.push;
    const live = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM push_subscriptions WHERE person_id = $1', [t.personId('cecilia')])).rows[0]?.n;
    const pushedTo = new Set(rows.filter((r) => r.person_id === t.personId('cecilia')).map((r) => r.subscription_id)).size;
    expect(pushedTo).toBe((live ?? 0) + 1);
    expect(pushOf(demoEmail('cecilia'))?.devices).toBe(live);
    await api(t, retried.token, 'POST', `/incidents/${incidentId}/resolve`, {});
  });
});

describe('a slow push service', () => {
  let t: TestApp;
  let slow: FakePushService;
  let fast: FakePushService;
  beforeAll(async () => {
    slow = await FakePushService.start();
    fast = await FakePushService.start();
    slow.defaultAnswer = 'hang';
    // The slow service's requests hang until the test lets them go, far longer than the test waits for the fast one.
    t = await startApp(pushEnv({ PUSH_TIMEOUT_MS: '60000', PUSH_CLAIM_LEASE_MS: '6000', PUSH_CONCURRENCY_PER_ORIGIN: '2' }));
  });
  afterAll(async () => {
    slow?.releaseHanging();
    await t?.close();
    await slow?.close();
    await fast?.close();
  });

  it('that hangs does not delay pushes to other services', async () => {
    const anna = await t.loginAs('anna');
    const onSlow = [await phone(t, slow, 'bertil'), await phone(t, slow, 'bertil'), await phone(t, slow, 'cecilia'), await phone(t, slow, 'kris')];
    const onFast = [await phone(t, fast, 'bertil'), await phone(t, fast, 'cecilia'), await phone(t, fast, 'kris'), await phone(t, fast, 'rektor')];
    const incidentId = await raise(t, anna, t.ids.alarmType.brand);
    await fast.waitFor((r) => onFast.every((d) => r.some((x) => x.subscriptionId === d.subscriptionId && ofIncident(incidentId)(x))), 20_000);
    // Every fast push is through while the slow service still holds the first requests it got, unanswered:
    // nothing waited for it.
    const toSlow = slow.received.filter(ofIncident(incidentId));
    expect(toSlow.length).toBeGreaterThan(0);
    expect(toSlow.every((r) => r.status === 'hang')).toBe(true);
    expect(new Set(toSlow.map((r) => r.subscriptionId)).size).toBe(toSlow.length);
    expect(onSlow).toHaveLength(4);
  });
});

describe('escalation, driven by an injected clock', () => {
  let t: TestApp;
  let service: FakePushService;
  let sms: FakeSmsGateway;
  let now = Date.now();
  const advance = async (seconds: number) => {
    now += seconds * 1000;
    await t.app.delivery.worker.runUntilIdle();
  };
  beforeAll(async () => {
    service = await FakePushService.start();
    sms = await FakeSmsGateway.start();
    t = await startApp(
      pushEnv({ DELIVERY_WORKER: 'false', SMS_GATEWAY_URL: sms.url, SMS_GATEWAY_TOKEN: 'gateway-secret' }),
      { clock: { now: () => new Date(now) } },
    );
    // Lockdown's built-in policy (push again after 60 s, three times; contacts after 120 s), plus SMS to contacts.
    await t.db.query("UPDATE alarm_types SET sms_to_contacts = true WHERE organisation_id IS NULL AND key = 'inrymning'");
  });
  afterAll(async () => {
    await t?.close();
    await service?.close();
    await sms?.close();
  });

  it('no receipt: pushed again at N s; escalation contacts get the unreached names at M s; a receipt stops it for that person; all clear stops it for everyone', async () => {
    const anna = await phone(t, service, 'anna');
    const bertil = await phone(t, service, 'bertil');
    const cecilia = await phone(t, service, 'cecilia');
    const kris = await phone(t, service, 'kris');
    const rektor = await phone(t, service, 'rektor');
    const incidentId = await raise(t, anna.token, t.ids.alarmType.inrymning);
    await advance(0);
    const count = (p: Phone, kind: string) => service.for(p.subscriptionId).filter(ofIncident(incidentId, kind)).length;
    for (const p of [bertil, cecilia, kris, rektor]) expect(count(p, 'alarm')).toBe(1);

    // Bertil's phone showed the push: its service worker confirms.
    const receipt = await api(t, bertil.token, 'POST', `/incidents/${incidentId}/receipts`, { kind: 'delivered', deviceId: bertil.deviceId });
    expect(receipt.status).toBe(202);
    await t.app.alarms.flushReceipts();

    await advance(59);
    expect(count(cecilia, 'reminder')).toBe(0);
    await advance(1);
    expect(count(bertil, 'reminder')).toBe(0);
    for (const p of [cecilia, kris, rektor]) expect(count(p, 'reminder')).toBe(1);
    expect(service.for(cecilia.subscriptionId).find(ofIncident(incidentId, 'reminder'))?.payload?.title)
      .toBe('Reminder – Lockdown (active violence) – Vasaskolan');
    expect(sms.messages).toHaveLength(0);

    // Cecilia opens the app: acknowledged over the socket path's HTTP twin.
    await api(t, cecilia.token, 'POST', `/incidents/${incidentId}/receipts`, { kind: 'acknowledged', deviceId: cecilia.deviceId });
    await t.app.alarms.flushReceipts();
    await advance(60);
    // Second round of reminders to those still unreached, and the contacts step.
    expect(count(cecilia, 'reminder')).toBe(1);
    expect(count(kris, 'reminder')).toBe(2);
    const escalation = service.for(rektor.subscriptionId).find(ofIncident(incidentId, 'escalation'));
    expect(escalation?.payload).toMatchObject({ tag: `samlarm-escalation-${incidentId}` });
    expect(escalation?.payload?.title).toBe('2 personer har inte bekräftat larmet – Inrymning (PDV) – Vasaskolan');
    expect(escalation?.payload?.body).toBe('Kim Krisledare, Rebecka Rektor');
    // The contact outside the system (the caretaker) and the rektor, by SMS through the gateway.
    expect(sms.messages.map((m) => m.to).sort()).toEqual(['+46700000002', '+46700000099']);
    expect(sms.messages[0]?.message).toContain('Kim Krisledare, Rebecka Rektor');
    expect(sms.messages[0]?.auth).toBe('Bearer gateway-secret');
    // The lead reads the escalation steps from the timeline, without the delivery attempts around them.
    const timeline = await api(t, kris.token, 'GET', `/incidents/${incidentId}/timeline?types=repushed,escalated`);
    // Both rounds of reminders and the contacts step (the second round and the contacts fall due at the same moment).
    expect((timeline.body.events as { type: string }[]).map((e) => e.type).sort()).toEqual(['escalated', 'repushed', 'repushed']);
    const escalated = (timeline.body.events as { type: string; data: { unreached: { name: string }[] } }[]).filter((e) => e.type === 'escalated');
    expect(escalated.map((e) => e.data.unreached.map((u) => u.name))).toEqual([['Kim Krisledare', 'Rebecka Rektor']]);

    // The leads' roll call shows what push did per person: devices, accepted by a push service (not a receipt), reminders.
    const rollcall = await api(t, kris.token, 'GET', `/incidents/${incidentId}/rollcall`);
    const pushOf = (email: string) => (rollcall.body.people as { personId: string; push: { devices: number; acceptedAt: string | null; reminders: number } }[])
      .find((p) => p.personId === t.ids.person[email])?.push;
    expect(pushOf(demoEmail('kris'))).toMatchObject({ devices: 1, reminders: 2, acceptedAt: expect.any(String) });
    expect(pushOf(demoEmail('bertil'))).toMatchObject({ devices: 1, reminders: 0 });
    expect(pushOf(demoEmail('anna'))).toEqual({ devices: 0, acceptedAt: null, reminders: 0, sms: null });

    // All clear: no more reminders or escalation for anyone.
    expect((await api(t, kris.token, 'POST', `/incidents/${incidentId}/resolve`, {})).status).toBe(200);
    await advance(0);
    const pushesAtAllClear = service.received.length;
    await advance(600);
    expect(service.received.length).toBe(pushesAtAllClear);
    expect(count(kris, 'reminder')).toBe(2);
    const steps = (await t.db.query<{ state: string }>('SELECT state FROM escalation_steps WHERE incident_id = $1', [incidentId])).rows;
    expect(steps.every((s) => s.state === 'done' || s.state === 'cancelled')).toBe(true);
    expect(steps.some((s) => s.state === 'cancelled')).toBe(true);
  });

  it('events about many unreached people stay small: reminders carry a count, the contacts step the first 50 names and the total', async () => {
    // 70 more staff at Vasaskolan, none with a device.
    const added = (await t.db.query<{ id: string }>(
      `INSERT INTO people (organisation_id, name, email)
       SELECT $1, 'Vikarie ' || g, 'vikarie' || g || '@vasaskolan.example' FROM generate_series(1, 70) g RETURNING id`, [t.ids.org.utbildning],
    )).rows.map((r) => r.id);
    await t.db.query('INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])', [t.ids.group.vasaAll, added]);
    const anna = await phone(t, service, 'anna');
    const kris = await phone(t, service, 'kris');
    const incidentId = await raise(t, anna.token, t.ids.alarmType.inrymning);
    await advance(0);
    await advance(120);
    const timeline = await api(t, kris.token, 'GET', `/incidents/${incidentId}/timeline?types=repushed,escalated`);
    const events = timeline.body.events as { type: string; data: Record<string, unknown> }[];
    const repushed = events.filter((e) => e.type === 'repushed');
    const escalated = events.find((e) => e.type === 'escalated');
    expect(repushed.length).toBeGreaterThan(0);
    for (const e of repushed) {
      expect(e.data.unreached).toBeGreaterThan(70);
      expect(e.data).not.toHaveProperty('personIds');
    }
    expect(escalated?.data.unreachedCount).toBeGreaterThan(70);
    expect(escalated?.data.unreached).toHaveLength(50);
    expect((await api(t, kris.token, 'POST', `/incidents/${incidentId}/resolve`, {})).status).toBe(200);
    await advance(0);
  });
});
