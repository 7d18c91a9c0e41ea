import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteInstructionPayload } from '../src/contract/realtime.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import type { Who } from './helpers/demo.js';
import { TestDevice } from './helpers/device.js';
import { FakePushService, PUSH_SERVICE_CA, type Received } from './helpers/push-service.js';

/**
 * Issue 13 item 1 (ADR 027): everyone who works at a site learns its instruction, live and by push,
 * as "instruction at your workplace" and not as the alarm; they are not counted in the roll call.
 * Organisation admins see their organisation's incidents live, never another organisation's.
 */

const PEOPLE: Who[] = ['admin', 'kris', 'anna', 'bertil', 'frida', 'lisa', 'bo', 'klara'];

describe('the instruction at a site reaches everyone who works there', () => {
  let t: TestApp;
  let url: string;
  let service: FakePushService;
  const token = {} as Record<Who, string>;
  const subscription = {} as Record<Who, string>;
  const devices: TestDevice[] = [];

  const api = (who: Who, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Response> =>
    t.request({ method, url: `/api/v1${path}`, token: token[who], body });
  const raise = async (who: Who, site: 'vasaskolan' | 'biblioteket', type: 'inrymning' | 'brand' | 'hot'): Promise<string> => {
    const res = await api(who, 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site[site], alarmTypeId: t.ids.alarmType[type] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id as string;
  };
  const device = async (who: Who): Promise<TestDevice> => {
    const d = await TestDevice.connect({ urls: [url], token: token[who] });
    devices.push(d);
    await d.waitFor((x) => x.cursor !== null, 10_000, 'initial catch-up');
    return d;
  };
  const latest = (d: TestDevice, siteId: string): SiteInstructionPayload | undefined => d.siteInstructions.filter((n) => n.siteId === siteId).at(-1);
  const siteInstructionPushes = (who: Who) => service.for(subscription[who]).filter((r: Received) => r.payload?.kind === 'site_instruction');

  beforeAll(async () => {
    service = await FakePushService.start();
    t = await startApp({ PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50', DELIVERY_WORKER: 'true' });
    url = await t.listen();
    // Bertil works at Vasaskolan and Lisa at the library, but neither is in a group any more: no alarm targets them.
    await t.db.query('DELETE FROM alarm_group_members WHERE person_id = ANY($1::uuid[])', [[t.personId('bertil'), t.personId('lisa')]]);
    for (const who of PEOPLE) {
      token[who] = await t.loginAs(who);
      const sub = service.subscribe();
      const res = await api(who, 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      subscription[who] = sub.id;
    }
  });
  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
    await service?.close();
  });

  it('a person at Vasaskolan in no receiving group gets the lockdown as the instruction at their workplace, silently, live and by push, and is not in the roll call', async () => {
    const vasa = t.ids.site.vasaskolan;
    const [bertil, frida, lisa] = [await device('bertil'), await device('frida'), await device('lisa')];
    await bertil.waitFor((d) => latest(d, vasa) !== undefined, 10_000, 'the instruction on connect');
    expect(latest(bertil, vasa)?.instruction).toBeNull();

    const lockdown = await raise('kris', 'vasaskolan', 'inrymning');
    await bertil.waitFor((d) => latest(d, vasa)?.instruction?.incidentId === lockdown, 10_000, 'the lockdown at his site');
    expect(latest(bertil, vasa)).toMatchObject({
      siteName: 'Vasaskolan', silent: true, drill: false, message: null,
      instruction: { typeKey: 'inrymning', sound: 'silent', text: { sv: expect.stringContaining('Lås eller barrikadera'), en: expect.stringContaining('Lock or barricade') } },
    });
    // Not the alarm itself: no event of the incident reaches him.
    expect(bertil.events.filter((e) => e.incidentId === lockdown)).toEqual([]);

    await service.waitFor(() => siteInstructionPushes('bertil').length === 1);
    const [push] = siteInstructionPushes('bertil');
    expect(push?.payload).toMatchObject({
      kind: 'site_instruction', incidentId: null, drill: false, lang: 'sv', tag: `samlarm-site-${vasa}`,
      title: 'Instruktion på din arbetsplats – Vasaskolan',
      alarmType: { key: 'inrymning', sound: 'silent' },
      site: { id: vasa, name: 'Vasaskolan' },
    });
    expect(String(push?.payload?.body)).toContain('Inrymning (PDV): Pågående dödligt våld');
    expect(push?.topic).toBe(vasa.replaceAll('-', ''));
    // The alarm itself goes to its recipients as before; Bertil gets no alarm push.
    expect(service.for(subscription.bertil).filter((r) => r.payload?.kind === 'alarm')).toEqual([]);
    await service.waitFor((r) => r.some((x) => x.subscriptionId === subscription.anna && x.payload?.kind === 'alarm' && x.payload.incidentId === lockdown));
    expect(siteInstructionPushes('anna')).toEqual([]);

    const roll = await api('kris', 'GET', `/incidents/${lockdown}/rollcall`);
    expect(roll.status).toBe(200);
    const names = (roll.body.people as { name: string }[]).map((p) => p.name);
    expect(names).not.toContain('Bertil Berg');
    expect(names).toContain('Anna Andersson');
    expect(roll.body.summary.targeted).toBe(names.length);

    // A lead's written instruction reaches him with the instruction in force.
    expect((await api('kris', 'POST', `/incidents/${lockdown}/messages`, { kind: 'instruction', body: 'Polisen är på plats i hus B.' })).status).toBe(200);
    await bertil.waitFor((d) => latest(d, vasa)?.message?.body === 'Polisen är på plats i hus B.', 10_000, 'the lead\'s words');
    expect(latest(bertil, vasa)?.message?.authorName).toBe('Kim Krisledare');
    await service.waitFor(() => siteInstructionPushes('bertil').some((r) => String(r.payload?.body).includes('Kim Krisledare: Polisen är på plats i hus B.')));

    // Isolation: Solrosen (same organisation) and the library (another organisation) hear nothing of Vasaskolan.
    await new Promise((r) => setTimeout(r, 500));
    for (const other of [frida, lisa]) expect(other.siteInstructions.filter((n) => n.siteId === vasa)).toEqual([]);
    expect(frida.siteInstructions.every((n) => n.instruction === null)).toBe(true);
    for (const who of ['frida', 'lisa', 'bo', 'klara'] as const) {
      expect(service.for(subscription[who]).filter((r) => (r.payload?.site as { id?: string } | null)?.id === vasa && r.payload?.kind === 'site_instruction')).toEqual([]);
    }
    expect(siteInstructionPushes('frida')).toEqual([]);
  });

  it('after a reconnect the current instruction is there, and the all clear brings the site back to normal, silently', async () => {
    const vasa = t.ids.site.vasaskolan;
    const again = await device('bertil');
    await again.waitFor((d) => latest(d, vasa) !== undefined, 10_000, 'the instruction on connect');
    expect(latest(again, vasa)?.instruction).toMatchObject({ typeKey: 'inrymning' });
    expect(latest(again, vasa)?.message?.body).toBe('Polisen är på plats i hus B.');

    const before = siteInstructionPushes('bertil').length;
    const lockdown = latest(again, vasa)?.instruction?.incidentId;
    expect((await api('kris', 'POST', `/incidents/${lockdown}/resolve`, {})).status).toBe(200);
    await again.waitFor((d) => latest(d, vasa)?.instruction === null, 10_000, 'back to normal');
    await service.waitFor(() => siteInstructionPushes('bertil').length > before);
    const last = siteInstructionPushes('bertil').at(-1);
    expect(last?.payload).toMatchObject({ kind: 'site_instruction', alarmType: { sound: 'silent' } });
    expect(String(last?.payload?.body)).toContain('Inget larm gäller längre här.');
  });

  it('a fire, loud by type, is loud at the site too', async () => {
    const vasa = t.ids.site.vasaskolan;
    const bertil = await device('bertil');
    const before = siteInstructionPushes('bertil').length;
    const fire = await raise('kris', 'vasaskolan', 'brand');
    await bertil.waitFor((d) => latest(d, vasa)?.instruction?.incidentId === fire, 10_000, 'the fire at his site');
    expect(latest(bertil, vasa)).toMatchObject({ silent: false, instruction: { typeKey: 'brand', sound: 'loud' } });
    await service.waitFor(() => siteInstructionPushes('bertil').length > before);
    expect(siteInstructionPushes('bertil').at(-1)?.payload).toMatchObject({ alarmType: { key: 'brand', sound: 'loud' } });
    expect((await api('kris', 'POST', `/incidents/${fire}/resolve`, {})).status).toBe(200);
  });

  it('an organisation admin sees every incident of their organisation raised and ended live, and nothing of another organisation', async () => {
    const [olle, klara] = [await device('admin'), await device('klara')];
    const threat = await raise('kris', 'vasaskolan', 'hot');
    await olle.waitFor((d) => d.orgIncidents.some((n) => n.incident.id === threat && n.incident.state === 'active'), 10_000, 'the threat at Vasaskolan');
    const library = await raise('bo', 'biblioteket', 'hot');
    await klara.waitFor((d) => d.orgIncidents.some((n) => n.incident.id === library), 10_000, 'the threat at the library');
    expect((await api('kris', 'POST', `/incidents/${threat}/resolve`, {})).status).toBe(200);
    await olle.waitFor((d) => d.orgIncidents.some((n) => n.incident.id === threat && n.incident.state === 'resolved'), 10_000, 'the all clear');
    expect((await api('bo', 'POST', `/incidents/${library}/resolve`, {})).status).toBe(200);
    await klara.waitFor((d) => d.orgIncidents.some((n) => n.incident.id === library && n.incident.state !== 'active'), 10_000, 'the library\'s all clear');
    expect(olle.orgIncidents.map((n) => n.incident.id)).not.toContain(library);
    expect(klara.orgIncidents.map((n) => n.incident.id)).not.toContain(threat);
    expect(olle.orgIncidents.every((n) => n.incident.organisationId === olle.orgIncidents[0]?.incident.organisationId)).toBe(true);
    // Their devices get no alarm events: they lead, they are not alarmed.
    expect(olle.events.filter((e) => e.incidentId === threat)).toEqual([]);
  });
});

describe('an event for the leads of an incident that has none', () => {
  it('reaches no device at all, least of all another organisation\'s (Socket.IO sends to([]) to everyone)', async () => {
    let now = Date.parse('2026-12-02T09:00:00Z');
    const t = await startApp({}, { clock: { now: () => new Date(now) } });
    const devices: TestDevice[] = [];
    try {
      const url = await t.listen();
      // The library without leads: Bo is no longer its rektor, and the organisation has no crisis lead.
      await t.db.query("DELETE FROM role_assignments WHERE person_id = $1 AND role = 'site_admin'", [t.personId('bo')]);
      for (const who of ['anna', 'kris'] as const) {
        const d = await TestDevice.connect({ urls: [url], token: await t.loginAs(who) });
        devices.push(d);
        await d.waitFor((x) => x.cursor !== null, 10_000, 'initial catch-up');
      }
      const res = await t.request({
        method: 'POST', url: '/api/v1/alarms', token: await t.loginAs('lisa'),
        body: { pressId: randomUUID(), siteId: t.ids.site.biblioteket, alarmTypeId: t.ids.alarmType.hot },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const incidentId = res.body.incident.id as string;
      // Bo has not confirmed: the threat's reminder round comes due, and its `repushed` event is for the (no) leads.
      now += 121_000;
      await t.app.delivery.worker.runUntilIdle();
      const repushed = (await t.db.query("SELECT id FROM incident_events WHERE incident_id = $1 AND type = 'repushed'", [incidentId])).rows;
      expect(repushed).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 500));
      for (const d of devices) expect(d.arrivals.filter((e) => e.incidentId === incidentId)).toEqual([]);
    } finally {
      for (const d of devices) d.close();
      await t.close();
    }
  });
});
