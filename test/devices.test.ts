import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';
import { FakePushService, PUSH_SERVICE_CA, type Received } from './helpers/push-service.js';
import { type Who } from './helpers/demo.js';

/**
 * Devices and their push subscriptions, on one node against a local HTTPS push service that
 * decrypts every payload: what may be registered (an allow-list of push services, valid keys, a cap
 * per person), one subscription per device, signed-out devices left alone, the device check and
 * the rektor's list of who cannot be reached; and what never goes out: alarms about an incident
 * that ended before they were sent, and delivery attempts on any device.
 */


const MAX_DEVICES = 2;
const SUBSCRIPTION_URL = '/api/v1/me/device/push-subscription';

type Subscription = ReturnType<FakePushService['subscribe']>;

describe('devices and push subscriptions', () => {
  let t: TestApp;
  let service: FakePushService;

  const api = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<Response> =>
    t.request({ method, url: `/api/v1${url}`, token, body });

  const register = (token: string, sub: Pick<Subscription, 'endpoint' | 'keys'>): Promise<Response> =>
    t.request({ method: 'PUT', url: SUBSCRIPTION_URL, token, body: { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys } });

  /** Signs in as a phone and subscribes it at the push service. */
  const phone = async (who: Who): Promise<{ token: string; sub: Subscription }> => {
    const token = await t.loginAs(who);
    const sub = service.subscribe();
    const res = await register(token, sub);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { token, sub };
  };

  const raise = async (token: string, alarmTypeId: string): Promise<string> => {
    const res = await api(token, 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id as string;
  };

  const resolve = async (incidentId: string): Promise<void> => {
    const res = await api(await t.loginAs('kris'), 'POST', `/incidents/${incidentId}/resolve`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  const ofIncident = (incidentId: string, kind?: string) => (r: Received) =>
    r.payload?.incidentId === incidentId && (kind === undefined || r.payload.kind === kind);

  const subscriptionsOf = async (who: Who) => (await t.db.query<{ session_id: string; endpoint: string }>(
    'SELECT session_id, endpoint FROM push_subscriptions WHERE person_id = $1 ORDER BY created_at', [t.personId(who)],
  )).rows;

  beforeAll(async () => {
    service = await FakePushService.start();
    // The worker runs, as on a real node: a test push and an alarm go out without a test driving them.
    t = await startApp({
      PUSH_ALLOWED_HOSTS: '127.0.0.1,*.push.example', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50',
      PUSH_MAX_DEVICES_PER_PERSON: String(MAX_DEVICES), DELIVERY_WORKER: 'true',
    });
  });

  beforeEach(async () => {
    // Each test starts with everyone signed out on every device, and no alarm active.
    await t.db.query('UPDATE sessions SET revoked_at = now() WHERE revoked_at IS NULL');
    const active = (await t.db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows;
    for (const { id } of active) await resolve(id);
  });

  afterAll(async () => {
    await t?.close();
    await service?.close();
  });

  describe('registering a subscription', () => {
    it('refuses endpoints that are not https on an allowed push service with 400 push_endpoint_not_allowed, and changes nothing', async () => {
      const token = await t.loginAs('anna');
      const { keys } = service.subscribe();
      const port = new URL(service.origin).port;
      const refused = [
        'http://169.254.169.254/latest/meta-data/',
        'https://169.254.169.254/latest/meta-data/',
        `http://127.0.0.1:${port}/push/plain-http`,
        'https://push.example.org/send/1',
        // `*.push.example` is any subdomain, not the domain itself, nor a name that merely ends alike.
        'https://push.example/send/1',
        'https://evilpush.example/send/1',
        'https://a.push.example.evil.test/send/1',
        `https://user:secret@127.0.0.1:${port}/push/1`,
        'https://[::ffff:a9fe:a9fe]/latest/meta-data/',
        'file:///etc/passwd',
        'not a url',
      ];
      const before = await t.snapshot();
      for (const endpoint of refused) {
        const res = await register(token, { endpoint, keys });
        expect(res.status, endpoint).toBe(400);
        expect(res.body.code, endpoint).toBe('push_endpoint_not_allowed');
        expect(res.body.message, endpoint).toEqual(expect.any(String));
      }
      expect(await t.snapshot()).toBe(before);
      // A subdomain of an allowed wildcard is allowed.
      expect((await register(token, { endpoint: 'https://eu.push.example/send/1', keys })).status).toBe(200);
    });

    it('refuses keys that are not a P-256 public key and a 16-byte secret with 400 validation_failed, and changes nothing', async () => {
      const token = await t.loginAs('anna');
      const { endpoint, keys } = service.subscribe();
      const point = Buffer.from(keys.p256dh, 'base64url');
      const compressed = Buffer.concat([Buffer.from([2]), point.subarray(1, 33)]).toString('base64url');
      const badKeys = [
        { p256dh: keys.p256dh.slice(0, -4), auth: keys.auth },
        { p256dh: compressed, auth: keys.auth },
        { p256dh: Buffer.concat([Buffer.from([5]), point.subarray(1)]).toString('base64url'), auth: keys.auth },
        { p256dh: `${keys.p256dh.slice(0, -1)}+`, auth: keys.auth },
        { p256dh: keys.p256dh, auth: Buffer.alloc(15).toString('base64url') },
        { p256dh: keys.p256dh, auth: Buffer.alloc(32).toString('base64url') },
        { p256dh: keys.p256dh, auth: '' },
        { p256dh: keys.p256dh },
      ];
      const before = await t.snapshot();
      for (const bad of badKeys) {
        const res = await t.request({ method: 'PUT', url: SUBSCRIPTION_URL, token, body: { endpoint, keys: bad } });
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(res.body.code, JSON.stringify(bad)).toBe('validation_failed');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('a device refreshing its subscription replaces its old one: one subscription per device, and only the new one is pushed to', async () => {
      const token = await t.loginAs('bertil');
      const first = service.subscribe();
      const second = service.subscribe();
      expect((await register(token, first)).status).toBe(200);
      expect((await register(token, second)).status).toBe(200);
      const rows = await subscriptionsOf('bertil');
      expect(rows.map((r) => r.endpoint)).toEqual([second.endpoint]);
      // Registering the same subscription again is a refresh, not a second row.
      expect((await register(token, second)).status).toBe(200);
      expect(await subscriptionsOf('bertil')).toEqual(rows);

      const incidentId = await raise(await t.loginAs('anna'), t.ids.alarmType.hot);
      await service.waitFor((r) => r.some((x) => x.subscriptionId === second.id && ofIncident(incidentId)(x)));
      await t.app.delivery.worker.runUntilIdle();
      expect(service.for(first.id)).toEqual([]);
      await resolve(incidentId);
    });

    it('a signed-out device\'s subscription gets no pushes, while a signed-in colleague\'s does', async () => {
      const signedOut = await phone('bertil');
      const colleague = await phone('cecilia');
      expect((await api(signedOut.token, 'POST', '/auth/logout')).status).toBe(204);

      const incidentId = await raise(await t.loginAs('anna'), t.ids.alarmType.brand);
      await service.waitFor((r) => r.some((x) => x.subscriptionId === colleague.sub.id && ofIncident(incidentId)(x)));
      await t.app.delivery.worker.runUntilIdle();
      expect(service.for(signedOut.sub.id)).toEqual([]);
      const queued = (await t.db.query(
        'SELECT 1 FROM deliveries WHERE incident_id = $1 AND person_id = $2', [incidentId, t.personId('bertil')],
      )).rowCount;
      expect(queued).toBe(0);
      await resolve(incidentId);
    });

    it(`a person may register ${MAX_DEVICES} devices: the next is refused with 409 too_many_devices and changes nothing, until one is signed out`, async () => {
      const first = await phone('cecilia');
      await phone('cecilia');
      const third = await t.loginAs('cecilia');
      const before = await t.snapshot();
      const refused = await register(third, service.subscribe());
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('too_many_devices');
      expect(refused.body.message).toMatch(/too many devices/);
      expect(await t.snapshot()).toBe(before);

      // A device at the cap may still refresh its own subscription.
      expect((await register(first.token, service.subscribe())).status).toBe(200);
      expect(await subscriptionsOf('cecilia')).toHaveLength(MAX_DEVICES);
      // Signing out of one frees its place.
      expect((await api(first.token, 'POST', '/auth/logout')).status).toBe(204);
      expect((await register(third, service.subscribe())).status).toBe(200);
      const live = (await t.db.query(
        'SELECT 1 FROM push_subscriptions ps JOIN sessions s ON s.id = ps.session_id WHERE ps.person_id = $1 AND s.revoked_at IS NULL',
        [t.personId('cecilia')],
      )).rowCount;
      expect(live).toBe(MAX_DEVICES);
    });

    it('new devices registering at the same moment cannot together pass the cap', async () => {
      const tokens = await Promise.all(Array.from({ length: MAX_DEVICES + 3 }, () => t.loginAs('kris')));
      const answers = await Promise.all(tokens.map((token) => register(token, service.subscribe())));
      expect(answers.filter((a) => a.status === 200)).toHaveLength(MAX_DEVICES);
      expect(answers.filter((a) => a.status === 409).map((a) => a.body.code)).toEqual(['too_many_devices', 'too_many_devices', 'too_many_devices']);
      expect(await subscriptionsOf('kris')).toHaveLength(MAX_DEVICES);
    });
  });

  describe('the device check', () => {
    it('a device reports its state: it can receive alarms once notifications are allowed and it is subscribed, and not when they are denied', async () => {
      const token = await t.loginAs('anna');
      const fresh = await api(token, 'GET', '/me/device');
      expect(fresh.status).toBe(200);
      expect(fresh.body).toMatchObject({ pushPermission: null, standalone: null, platform: null, pushSubscribed: false, reportedAt: null, canReceiveAlarms: false });

      const granted = await api(token, 'PUT', '/me/device/status', { pushPermission: 'granted', standalone: true, platform: 'iOS 17.4' });
      expect(granted.status).toBe(200);
      expect(granted.body).toMatchObject({ pushPermission: 'granted', standalone: true, platform: 'iOS 17.4', pushSubscribed: false, canReceiveAlarms: false });
      expect(granted.body.reportedAt).toEqual(expect.any(String));

      expect((await register(token, service.subscribe())).status).toBe(200);
      expect((await api(token, 'GET', '/me/device')).body).toMatchObject({ pushSubscribed: true, canReceiveAlarms: true });

      const denied = await api(token, 'PUT', '/me/device/status', { pushPermission: 'denied', standalone: true, platform: 'iOS 17.4' });
      expect(denied.body).toMatchObject({ pushPermission: 'denied', pushSubscribed: true, canReceiveAlarms: false });
      expect((await api(token, 'GET', '/me/device')).body).toEqual(denied.body);

      await api(token, 'PUT', '/me/device/status', { pushPermission: 'granted', standalone: true, platform: 'iOS 17.4' });
      expect((await api(token, 'DELETE', '/me/device/push-subscription')).status).toBe(204);
      expect((await api(token, 'GET', '/me/device')).body).toMatchObject({ pushSubscribed: false, canReceiveAlarms: false });
    });

    it('a device whose latest test push did not get through cannot receive alarms, and device health says why, until a test push gets through', async () => {
      const token = await t.loginAs('bertil');
      const rektor = await t.loginAs('rektor');
      expect((await register(token, service.subscribe([{ status: 400 }]))).status).toBe(200);
      await api(token, 'PUT', '/me/device/status', { pushPermission: 'granted', standalone: true, platform: 'Android' });
      const device = async () => (await api(token, 'GET', '/me/device')).body;
      const health = async () => ((await api(rektor, 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`)).body.people as {
        name: string; canReceiveAlarms: boolean; problem: string | null; devices: { testPushFailed: boolean }[];
      }[]).find((p) => p.name === 'Bertil Berg');
      expect(await device()).toMatchObject({ pushSubscribed: true, testPushFailed: false, canReceiveAlarms: true });

      // The push service refuses the test push: the device check, device health and who gets an SMS all say it cannot.
      expect((await api(token, 'POST', '/me/device/test-push')).status).toBe(202);
      await expect.poll(async () => (await device()).testPushFailed, { timeout: 20_000 }).toBe(true);
      expect(await device()).toMatchObject({ pushSubscribed: true, canReceiveAlarms: false });
      expect(await health()).toMatchObject({ canReceiveAlarms: false, problem: 'push_failing', devices: [{ testPushFailed: true }] });

      // The next one gets through: it can again.
      expect((await api(token, 'POST', '/me/device/test-push')).status).toBe(202);
      await expect.poll(async () => (await device()).testPushFailed, { timeout: 20_000 }).toBe(false);
      expect(await device()).toMatchObject({ pushSubscribed: true, canReceiveAlarms: true });
      expect(await health()).toMatchObject({ canReceiveAlarms: true, problem: null, devices: [{ testPushFailed: false }] });
    });

    it('a test push reaches the device through the push service and decrypts to a test payload in the person\'s language; without a subscription it is 409 no_push_subscription', async () => {
      for (const [who, title] of [['bertil', 'Testlarm från Samlarm'], ['cecilia', 'Test alarm from Samlarm']] as const) {
        const { token, sub } = await phone(who);
        const res = await api(token, 'POST', '/me/device/test-push');
        expect(res.status).toBe(202);
        const deliveryId = res.body.deliveryId as string;
        await service.waitFor((r) => r.some((x) => x.subscriptionId === sub.id && x.payload?.deliveryId === deliveryId), 5000);
        const push = service.for(sub.id).find((x) => x.payload?.deliveryId === deliveryId);
        expect(push).toMatchObject({ urgency: 'high', vapidValid: true, contentEncoding: 'aes128gcm' });
        expect(push?.payload).toMatchObject({ v: 1, kind: 'test', incidentId: null, drill: false, title, tag: 'samlarm-test' });
        // The device check then shows the push went out.
        await expect.poll(async () => (await api(token, 'GET', '/me/device')).body.lastPushAt, { timeout: 3000 }).toEqual(expect.any(String));
      }

      const without = await t.loginAs('anna');
      const before = await t.snapshot();
      const refused = await api(without, 'POST', '/me/device/test-push');
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('no_push_subscription');
      expect(await t.snapshot()).toBe(before);
    });
  });

  describe('device health for the rektor', () => {
    it('lists the people who cannot receive alarms first, each with the reason; the crisis lead sees it too', async () => {
      // Bertil and the rektor are reachable; Cecilia has denied notifications, Kim never turned them on, Anna has no device.
      const bertil = await phone('bertil');
      await api(bertil.token, 'PUT', '/me/device/status', { pushPermission: 'granted', standalone: true, platform: 'Android' });
      const rektor = await phone('rektor');
      const cecilia = await phone('cecilia');
      await api(cecilia.token, 'PUT', '/me/device/status', { pushPermission: 'denied', standalone: false, platform: 'iOS 17' });
      const kris = await t.loginAs('kris');
      await api(kris, 'PUT', '/me/device/status', { pushPermission: 'default', standalone: false, platform: 'Windows' });

      const res = await api(rektor.token, 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
      expect(res.status).toBe(200);
      const people = res.body.people as { name: string; canReceiveAlarms: boolean; problem: string | null; devices: unknown[] }[];
      expect(people.map((p) => [p.name, p.canReceiveAlarms, p.problem])).toEqual([
        ['Anna Andersson', false, 'no_device'],
        ['Cecilia Carlsson', false, 'push_denied'],
        ['Kim Krisledare', false, 'push_not_enabled'],
        ['Bertil Berg', true, null],
        ['Rebecka Rektor', true, null],
      ]);
      expect(people.find((p) => p.name === 'Cecilia Carlsson')?.devices).toEqual([
        expect.objectContaining({ pushPermission: 'denied', pushSubscribed: true, platform: 'iOS 17' }),
      ]);
      expect(people.find((p) => p.name === 'Anna Andersson')?.devices).toEqual([]);

      const asLead = await api(kris, 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
      expect(asLead.status).toBe(200);
      expect(asLead.body).toEqual(res.body);
    });

    it('a staff member is refused with 403; another organisation\'s admin gets the 404 a site that does not exist gets', async () => {
      const staff = await api(await t.loginAs('bertil'), 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
      expect(staff.status).toBe(403);
      expect(staff.body.code).toBe('forbidden');

      const klara = await t.loginAs('klara');
      const other = await api(klara, 'GET', `/sites/${t.ids.site.vasaskolan}/device-health`);
      const missing = await api(klara, 'GET', `/sites/${randomUUID()}/device-health`);
      expect(other.status).toBe(404);
      expect(other.body).toEqual(missing.body);
      // Her own organisation's site answers.
      expect((await api(klara, 'GET', `/sites/${t.ids.site.biblioteket}/device-health`)).status).toBe(200);
    });
  });

  describe('receipts and what is never sent', () => {
    it('a receipt from a person of another organisation is 404, as for an incident that does not exist, and changes nothing', async () => {
      const incidentId = await raise(await t.loginAs('anna'), t.ids.alarmType.hot);
      await t.app.delivery.worker.runUntilIdle();
      const lisa = await t.loginAs('lisa');
      const before = await t.snapshot();
      const foreign = await api(lisa, 'POST', `/incidents/${incidentId}/receipts`, { kind: 'delivered', deviceId: 'lisa-phone-0001' });
      const missing = await api(lisa, 'POST', `/incidents/${randomUUID()}/receipts`, { kind: 'delivered', deviceId: 'lisa-phone-0001' });
      expect(foreign.status).toBe(404);
      expect(foreign.body).toEqual(missing.body);
      await t.app.alarms.flushReceipts();
      expect(await t.snapshot()).toBe(before);
      await resolve(incidentId);
    });

    it('an alarm push still queued when its incident is resolved is cancelled, not sent; the all clear goes out', async () => {
      const bertil = await phone('bertil');
      const cecilia = await phone('cecilia');
      await t.app.delivery.worker.stop();
      let incidentId = '';
      try {
        incidentId = await raise(await t.loginAs('anna'), t.ids.alarmType.inrymning);
        await resolve(incidentId);
      } finally {
        t.app.delivery.worker.start();
      }
      await service.waitFor((r) => [bertil, cecilia].every((p) => r.some((x) => x.subscriptionId === p.sub.id && ofIncident(incidentId, 'all_clear')(x))));
      await t.app.delivery.worker.runUntilIdle();

      expect(service.received.filter(ofIncident(incidentId, 'alarm'))).toEqual([]);
      const rows = (await t.db.query<{ kind: string; state: string; attempts: number }>(
        'SELECT kind, state::text, attempts FROM deliveries WHERE incident_id = $1 ORDER BY id', [incidentId],
      )).rows;
      expect(rows.filter((r) => r.kind === 'alarm')).toEqual([
        { kind: 'alarm', state: 'cancelled', attempts: 0 }, { kind: 'alarm', state: 'cancelled', attempts: 0 },
      ]);
      expect(rows.filter((r) => r.kind === 'all_clear').map((r) => r.state)).toEqual(['sent', 'sent']);
      // Neither is the alarm pushed again later: its escalation ended with it.
      const steps = (await t.db.query<{ state: string }>('SELECT state FROM escalation_steps WHERE incident_id = $1', [incidentId])).rows;
      expect(steps.length).toBeGreaterThan(0);
      expect(steps.every((s) => s.state === 'cancelled')).toBe(true);
    });

    it('a lead\'s 2000-character instruction too long for a push reaches phones shortened, as one push record of at most 4096 bytes', async () => {
      const bertil = await phone('bertil');
      const incidentId = await raise(await t.loginAs('anna'), t.ids.alarmType.hot);
      const kris = await t.loginAs('kris');
      // Warning signs (3 bytes each), then plain letters: shortened to fit, it is cut within the letters, a byte a letter.
      const body = `${'⚠'.repeat(1150)}${' Ut nu!'.repeat(122)}`.slice(0, 2000);
      const sent = await api(kris, 'POST', `/incidents/${incidentId}/messages`, { kind: 'instruction', body });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      await service.waitFor((r) => r.some((x) => x.subscriptionId === bertil.sub.id && ofIncident(incidentId, 'message')(x)));
      const push = service.for(bertil.sub.id).find(ofIncident(incidentId, 'message'));
      expect(push?.payload?.body).toEqual(expect.stringMatching(/^⚠{1150}( Ut nu!)+.*…$/s));
      expect(push?.bodyBytes).toBeLessThanOrEqual(4096);
      await resolve(incidentId);
    });

    it('delivery attempts never reach a lead\'s device, neither live nor in catch-up, though they are in the timeline', async () => {
      const url = await t.listen();
      const krisToken = await t.loginAs('kris');
      const live = await TestDevice.connect({ urls: [url], token: krisToken, autoReceipt: false });
      const devices = [live];
      try {
        await live.waitFor((d) => d.cursor !== null, 5000, 'a first cursor');
        const cursor = live.cursor;
        const bertil = await phone('bertil');
        const cecilia = await phone('cecilia');
        // A retried push makes more attempts: each is a review event.
        service.script(cecilia.sub.id, [{ status: 503 }]);
        const incidentId = await raise(await t.loginAs('anna'), t.ids.alarmType.hot);
        await service.waitFor((r) => [bertil, cecilia].every((p) => r.some((x) => x.subscriptionId === p.sub.id && x.status === 201 && ofIncident(incidentId)(x))));
        await t.app.delivery.worker.runUntilIdle();
        const attempts = (await t.db.query<{ id: string }>(
          "SELECT id::text FROM incident_events WHERE incident_id = $1 AND type = 'delivery_attempt'", [incidentId],
        )).rows;
        expect(attempts.length).toBeGreaterThanOrEqual(3);
        // Something after the attempts, so catch-up has to read past them.
        const message = await api(krisToken, 'POST', `/incidents/${incidentId}/messages`, { kind: 'instruction', body: 'Stanna inne.' });
        const messageId = (message.body.events as { id: string; type: string }[]).find((e) => e.type === 'message')?.id;
        await live.waitFor((d) => d.events.some((e) => e.id === messageId), 5000, 'the message');

        const later = await TestDevice.connect({ urls: [url], token: krisToken, cursor, epoch: live.epoch, autoReceipt: false });
        devices.push(later);
        await later.waitFor((d) => d.events.some((e) => e.id === messageId), 5000, 'the message in catch-up');
        await later.sync();
        for (const device of devices) {
          expect(device.of('raised', incidentId)).toHaveLength(1);
          expect(device.events.filter((e) => e.type === 'delivery_attempt')).toEqual([]);
          expect(device.events.some((e) => attempts.some((a) => a.id === e.id))).toBe(false);
        }
        await resolve(incidentId);
      } finally {
        for (const device of devices) device.close();
      }
    });
  });

  afterEach(async () => {
    await t.app.delivery.worker.runUntilIdle();
  });
});
