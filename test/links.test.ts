import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';
import type { Who } from './helpers/demo.js';
import { seedDemoLinks } from '../src/seed/demo.js';

/**
 * Links between organisations (docs/linking.md) on one node, with the demo link of Vasagatan 12:
 * linked incidents raised in the alarm's own transaction, with the receiving organisation's own
 * recipients; only counts go back; instructions and the all clear follow; consent, suspension and
 * revocation; lockdown safety; drills; link tests; device-health warnings; audit on both sides; and
 * isolation (the other organisation sees only what the link shares, a third nothing, forged site ids
 * are refused), over HTTP and the socket.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type TypeKey = 'brand' | 'inrymning' | 'utrymning' | 'hot';

const PEOPLE: Who[] = ['admin', 'rektor', 'kris', 'anna', 'bertil', 'solrosRektor', 'klara', 'bo', 'lisa', 'system'];

describe('links between organisations', () => {
  let t: TestApp;
  let url: string;
  const token = {} as Record<Who | 'third', string>;
  const devices: TestDevice[] = [];
  let demoLink: string;
  /** A third organisation with a site, its admin, and nothing linked. */
  const third = { organisationId: '', siteId: '' };

  const api = (who: Who | 'third', method: Method, path: string, body?: unknown): Promise<Response> =>
    t.request({ method, url: `/api/v1${path}`, token: token[who], body });
  const site = (name: 'vasaskolan' | 'solrosen' | 'biblioteket') => t.ids.site[name];
  const type = (key: TypeKey) => t.ids.alarmType[key];

  const raise = async (who: Who, at: 'vasaskolan' | 'biblioteket' | 'solrosen', key: TypeKey, extra: Record<string, unknown> = {}) => {
    const res = await api(who, 'POST', '/alarms', { pressId: randomUUID(), siteId: site(at), alarmTypeId: type(key), ...extra });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    return res.body.incident.id as string;
  };

  const crossings = async (sourceIncidentId: string) => (await t.db.query<{
    id: string; state: string; linked_incident_id: string | null; not_crossed_reason: string | null; receiving_site_id: string;
  }>('SELECT id, state::text, linked_incident_id, not_crossed_reason, receiving_site_id FROM link_crossings WHERE source_incident_id = $1 ORDER BY at', [sourceIncidentId])).rows;

  const linkedIncidentOf = async (sourceIncidentId: string): Promise<string> => {
    const [crossing] = await crossings(sourceIncidentId);
    expect(crossing?.state).toBe('alerted');
    return crossing?.linked_incident_id as string;
  };

  const device = async (who: Who, options: { autoReceipt?: boolean } = {}) => {
    const d = await TestDevice.connect({ urls: [url], token: token[who], ...options });
    devices.push(d);
    await d.waitFor((x) => x.cursor !== null, 10_000, 'initial catch-up');
    return d;
  };

  const snapshot = () => t.snapshot();

  /** The person's signed-in phone subscribes to push (nothing is sent here: no delivery worker runs in this file). */
  const subscribePush = async (who: Who) => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const subscribed = await api(who, 'PUT', '/me/device/push-subscription', {
      endpoint: `https://fcm.googleapis.com/fcm/send/${randomUUID()}`, expirationTime: null,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(200);
  };

  /** Ends every active incident (sources first: their linked incidents end with them). */
  const endAll = async () => {
    const active = async () => (await t.db.query<{ id: string; organisation_id: string; linked: boolean }>(
      "SELECT id, organisation_id, linked_from IS NOT NULL AS linked FROM incidents WHERE state = 'active' ORDER BY linked, raised_at",
    )).rows;
    for (const incident of await active()) {
      const lead: Who = incident.organisation_id === t.ids.org.utbildning ? 'kris' : 'bo';
      await api(lead, 'POST', `/incidents/${incident.id}/resolve`, { note: 'Testet städar' });
    }
    expect(await active()).toEqual([]);
  };

  beforeAll(async () => {
    t = await startApp();
    await seedDemoLinks(t.db);
    url = await t.listen();
    for (const who of PEOPLE) token[who] = await t.loginAs(who);
    demoLink = (await t.db.query<{ id: string }>('SELECT id FROM links')).rows[0]?.id as string;
    // A third organisation (a property company) with a site and an admin, created the way an operator would.
    const org = await api('system', 'POST', '/organisations', { name: 'Vasahem AB', kind: 'bolag' });
    third.organisationId = org.body.id;
    third.siteId = (await api('system', 'POST', `/organisations/${third.organisationId}/sites`, { name: 'Vasahems kontor', kind: 'office', address: 'Vasagatan 12' })).body.id;
    const admin = await api('system', 'POST', `/organisations/${third.organisationId}/people`, {
      name: 'Tove Tredje', email: 'tove@vasahem.example', password: 'tredje-lösenord-1', siteIds: [], roles: [{ role: 'org_admin', siteId: null }],
    });
    expect(admin.status, JSON.stringify(admin.body)).toBe(201);
    const login = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'tove@vasahem.example', password: 'tredje-lösenord-1' } });
    token.third = login.body.token;
  });

  beforeEach(async () => {
    // Devices of earlier tests would confirm this test's alarms behind its back.
    for (const d of devices.splice(0)) d.close();
    await t.settleDevices();
    await endAll();
    // The demo link as seeded, whatever a test did to it.
    await t.db.query("UPDATE links SET status = 'active', suspended_by_organisation_id = NULL WHERE id = $1", [demoLink]);
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
  });

  describe('an alarm that crosses the demo link', () => {
    it('a fire at Vasaskolan is, when the raise is answered, already a fire of the library with Kulturförvaltningen\'s own recipients, marked with its source', async () => {
      const lisa = await device('lisa');
      const source = await raise('anna', 'vasaskolan', 'brand', { location: 'Sal 204', message: 'Rök i korridoren' });

      // Committed with the alarm (invariant 1): nothing to wait for once the raise is answered.
      const linkedId = await linkedIncidentOf(source);
      const linked = (await t.db.query('SELECT organisation_id, site_id, drill, raised_by, raised_at, location, message, linked_from FROM incidents WHERE id = $1', [linkedId])).rows[0];
      const sourceRow = (await t.db.query('SELECT raised_at FROM incidents WHERE id = $1', [source])).rows[0];
      expect(linked).toMatchObject({
        organisation_id: t.ids.org.kultur, site_id: site('biblioteket'), drill: false, raised_by: null, raised_at: sourceRow.raised_at,
        location: 'Vasaskolan, Sal 204', message: null,
        linked_from: {
          linkId: demoLink, incidentId: source, organisationId: t.ids.org.utbildning, organisationName: 'Utbildningsförvaltningen',
          siteName: 'Vasaskolan', pressedBy: null, test: false,
        },
      });
      const recipients = (await t.db.query<{ person_id: string; lead: boolean }>('SELECT person_id, lead FROM incident_recipients WHERE incident_id = $1 ORDER BY lead', [linkedId])).rows;
      expect(new Set(recipients.map((r) => r.person_id))).toEqual(new Set([t.personId('lisa'), t.personId('bo')]));
      expect(recipients.find((r) => r.person_id === t.personId('bo'))?.lead).toBe(true);

      // Lisa's device gets it as the library's own alarm, marked with where it came from.
      await lisa.waitFor((d) => d.of('raised', linkedId).length === 1, 15_000, 'the linked alarm');
      const [raised] = lisa.of('raised', linkedId);
      expect(raised?.siteId).toBe(site('biblioteket'));
      expect(raised?.drill).toBe(false);
      expect((raised?.data.incident as { linkedFrom: unknown; raisedBy: unknown }).linkedFrom).toMatchObject({ organisationName: 'Utbildningsförvaltningen', siteName: 'Vasaskolan' });
      expect((raised?.data.incident as { raisedBy: unknown }).raisedBy).toBeNull();
      // Nothing of the source reaches Lisa: not its events, not its message, not who pressed.
      expect(lisa.events.filter((e) => e.incidentId === source)).toEqual([]);
      expect(JSON.stringify(lisa.events)).not.toContain('Rök i korridoren');
      expect(JSON.stringify(lisa.events)).not.toContain('Anna');

      const view = await api('lisa', 'GET', `/incidents/${linkedId}`);
      expect(view.status).toBe(200);
      expect(view.body.incident.linkedFrom.siteName).toBe('Vasaskolan');
      expect(view.body.incident.raisedBy).toBeNull();
      // The source stays Utbildningsförvaltningen's: the library cannot read it.
      expect((await api('bo', 'GET', `/incidents/${source}`)).status).toBe(404);
      expect((await api('kris', 'GET', `/incidents/${linkedId}`)).status).toBe(404);
    });

    it("Lisa's answer reaches the library's lead by name, and Vasaskolan's lead only as a count", async () => {
      const [bo, kim] = [await device('bo'), await device('kris')];
      const source = await raise('anna', 'vasaskolan', 'brand');
      const linkedId = await linkedIncidentOf(source);
      await kim.waitFor((d) => d.of('linked', source).length === 1, 15_000, 'the note that the alarm crossed');
      expect(kim.of('linked', source)[0]?.data).toMatchObject({ organisationName: 'Kulturförvaltningen', siteName: 'Vasastadens bibliotek', state: 'active' });
      // Bo's device confirms the linked alarm; its receipt is written within the node's gathering window.
      await bo.waitFor((d) => d.confirmed.has(linkedId), 15_000, "Bo's receipt written");
      const summariesBefore = kim.rollcalls.filter((r) => r.incidentId === source).length;

      expect((await api('lisa', 'POST', `/incidents/${linkedId}/responses`, { status: 'safe', text: 'Ute på gården' })).status).toBe(200);

      await bo.waitFor((d) => d.of('responded', linkedId).some((e) => e.data.personId === t.personId('lisa')), 15_000, 'Lisa by name');
      const boRoll = await api('bo', 'GET', `/incidents/${linkedId}/rollcall`);
      expect(boRoll.body.people.find((p: { name: string }) => p.name === 'Lisa Bibliotekarie')).toMatchObject({ status: 'safe', text: 'Ute på gården' });

      // Kim's roll call: Kulturförvaltningen as counts, and live, a new summary of the source.
      await kim.waitFor((d) => d.rollcalls.filter((r) => r.incidentId === source).length > summariesBefore, 15_000, 'a summary after the linked answer');
      const kimRoll = await api('kris', 'GET', `/incidents/${source}/rollcall`);
      expect(kimRoll.body.linked).toEqual([expect.objectContaining({
        organisationId: t.ids.org.kultur, organisationName: 'Kulturförvaltningen', siteName: 'Vasastadens bibliotek', state: 'active',
        // Bo's device confirmed it; Lisa answered.
        counts: { targeted: 2, delivered: 2, acknowledged: 1, safe: 1, needHelp: 0, notOnSite: 0, noAnswer: 1 },
      })]);
      const everythingKimSees = JSON.stringify([kimRoll.body, kim.events, kim.rollcalls, (await api('kris', 'GET', `/incidents/${source}/timeline`)).body]);
      expect(everythingKimSees).not.toContain(t.personId('lisa'));
      expect(everythingKimSees).not.toContain('Lisa');
      expect(everythingKimSees).not.toContain('Ute på gården');
      expect(kim.events.filter((e) => e.incidentId === linkedId)).toEqual([]);
    });

    it("the source's instructions and all clear follow to the linked incident; the all clear ends it", async () => {
      const lisa = await device('lisa');
      const source = await raise('anna', 'vasaskolan', 'brand');
      const linkedId = await linkedIncidentOf(source);
      expect((await api('kris', 'POST', `/incidents/${source}/messages`, { kind: 'instruction', body: 'Samling på Vasaparken' })).status).toBe(200);
      await lisa.waitFor((d) => d.of('message', linkedId).some((e) => e.data.body === 'Samling på Vasaparken'), 15_000, 'the instruction');

      expect((await api('kris', 'POST', `/incidents/${source}/resolve`, {})).status).toBe(200);
      await lisa.waitFor((d) => d.of('resolved', linkedId).length === 1, 15_000, 'the all clear');
      expect(lisa.of('resolved', linkedId)[0]?.data.reason).toBe('Faran över enligt Vasaskolan');
      const ended = (await t.db.query('SELECT state::text, ended_by, end_reason FROM incidents WHERE id = $1', [linkedId])).rows[0];
      expect(ended).toEqual({ state: 'resolved', ended_by: null, end_reason: 'Faran över enligt Vasaskolan' });
      // The catch-up of a device that was away has the instruction too.
      const resync = await api('lisa', 'GET', `/incidents/${linkedId}/timeline`);
      expect(resync.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['raised', 'message', 'resolved']));
    });

    it('a cancel of the source cancels the linked incident too', async () => {
      const source = await raise('anna', 'vasaskolan', 'brand');
      const linkedId = await linkedIncidentOf(source);
      expect((await api('kris', 'POST', `/incidents/${source}/cancel`, { reason: 'Brödrost i personalrummet' })).status).toBe(200);
      const ended = (await t.db.query('SELECT state::text, end_reason FROM incidents WHERE id = $1', [linkedId])).rows[0];
      expect(ended).toEqual({ state: 'cancelled', end_reason: 'Larmet återkallades av Vasaskolan' });
    });

    it('types the link does not carry, and sites it does not pair, do not cross', async () => {
      const threat = await raise('anna', 'vasaskolan', 'hot');
      expect(await crossings(threat)).toEqual([]);
      const atSolrosen = await raise('solrosRektor', 'solrosen', 'brand');
      expect(await crossings(atSolrosen)).toEqual([]);
      // The other way, the library's fire reaches Vasaskolan's crisis team (and its leads) only.
      const fromLibrary = await raise('lisa', 'biblioteket', 'brand');
      const linkedId = await linkedIncidentOf(fromLibrary);
      const recipients = (await t.db.query<{ person_id: string }>('SELECT person_id FROM incident_recipients WHERE incident_id = $1', [linkedId])).rows;
      expect(new Set(recipients.map((r) => r.person_id))).toEqual(new Set([t.personId('rektor'), t.personId('kris')]));
    });

    it("a press at the library that joined the linked fire keeps it going after Vasaskolan's all clear, until the library's lead ends it", async () => {
      const lisa = await device('lisa');
      const source = await raise('anna', 'vasaskolan', 'brand');
      const linkedId = await linkedIncidentOf(source);
      const press = await api('lisa', 'POST', '/alarms', { pressId: randomUUID(), siteId: site('biblioteket'), alarmTypeId: type('brand') });
      expect(press.body).toMatchObject({ outcome: 'joined', incident: { id: linkedId } });

      expect((await api('kris', 'POST', `/incidents/${source}/resolve`, {})).status).toBe(200);
      expect((await t.db.query('SELECT state::text FROM incidents WHERE id = $1', [linkedId])).rows[0]?.state).toBe('active');
      await lisa.waitFor((d) => d.of('message', linkedId).some((e) => String(e.data.body).startsWith('Faran över enligt Vasaskolan. Larmet fortsätter här')), 15_000, 'why it goes on');
      // Theirs now: ended without a reason, as any alarm of theirs.
      expect((await api('bo', 'POST', `/incidents/${linkedId}/resolve`, {})).status).toBe(200);
    });

    it('the presser\'s name crosses only when the link shares it', async () => {
      await t.db.query('UPDATE links SET share_presser_name = true WHERE id = $1', [demoLink]);
      try {
        const source = await raise('anna', 'vasaskolan', 'brand');
        const linkedId = await linkedIncidentOf(source);
        expect((await api('lisa', 'GET', `/incidents/${linkedId}`)).body.incident.linkedFrom.pressedBy).toBe('Anna Andersson');
      } finally {
        await t.db.query('UPDATE links SET share_presser_name = false WHERE id = $1', [demoLink]);
      }
    });

    it('the raise screen can say which organisations an alarm will also reach', async () => {
      const reach = await api('anna', 'GET', `/sites/${site('vasaskolan')}/link-reach`);
      expect(reach.status).toBe(200);
      const byType = Object.fromEntries(reach.body.reach.map((r: { alarmTypeId: string; organisations: unknown[] }) => [r.alarmTypeId, r.organisations]));
      for (const key of ['brand', 'utrymning', 'inrymning'] as const) {
        expect(byType[type(key)]).toEqual([{ organisationId: t.ids.org.kultur, name: 'Kulturförvaltningen', siteNames: ['Vasastadens bibliotek'] }]);
      }
      expect(byType[type('hot')]).toBeUndefined();
      expect((await api('lisa', 'GET', `/sites/${site('vasaskolan')}/link-reach`)).status).toBe(404);
      expect((await api('anna', 'GET', `/sites/${site('solrosen')}/link-reach`)).body.reach).toEqual([]);
    });
  });

  describe('without an active link nothing crosses', () => {
    it('a suspended link carries nothing new until the side that suspended it resumes it', async () => {
      const suspended = await api('klara', 'POST', `/links/${demoLink}/suspend`, { reason: 'Ombyggnad' });
      expect(suspended.status).toBe(200);
      expect(suspended.body).toMatchObject({ status: 'suspended', suspendedBy: 'partner', statusReason: 'Ombyggnad' });
      const during = await raise('anna', 'vasaskolan', 'brand');
      expect(await crossings(during)).toEqual([]);
      expect((await api('admin', 'POST', `/links/${demoLink}/resume`, {})).body.code).toBe('forbidden');
      expect((await api('klara', 'POST', `/links/${demoLink}/resume`, {})).body.status).toBe('active');
      await endAll();
      expect(await crossings(await raise('anna', 'vasaskolan', 'brand'))).toHaveLength(1);
    });

    it('a revoked link lets the alarms under way finish, and no new one crosses', async () => {
      const lisa = await device('lisa');
      const underWay = await raise('anna', 'vasaskolan', 'brand');
      const linkedId = await linkedIncidentOf(underWay);
      expect((await api('admin', 'POST', `/links/${demoLink}/revoke`, { reason: 'Flyttar' })).body.status).toBe('revoked');

      const threat = await raise('anna', 'vasaskolan', 'inrymning', { confirmContradiction: true });
      expect(await crossings(threat)).toEqual([]);
      expect((await api('kris', 'POST', `/incidents/${underWay}/messages`, { kind: 'instruction', body: 'Stanna kvar ute' })).status).toBe(200);
      await lisa.waitFor((d) => d.of('message', linkedId).some((e) => e.data.body === 'Stanna kvar ute'), 15_000, 'the instruction after the revoke');
      expect((await api('kris', 'POST', `/incidents/${underWay}/resolve`, {})).status).toBe(200);
      expect((await t.db.query('SELECT state::text FROM incidents WHERE id = $1', [linkedId])).rows[0]?.state).toBe('resolved');
      // Revoked is final: it cannot be resumed.
      expect((await api('admin', 'POST', `/links/${demoLink}/resume`, {})).body.code).toBe('link_status_conflict');
    });

    it('a proposal carries nothing until accepted, a declined one never; a past review date warns both sides but the link keeps working', async () => {
      const proposal = await api('admin', 'POST', `/organisations/${t.ids.org.utbildning}/links`, {
        partnerOrganisationId: t.ids.org.kultur, pairs: [{ siteId: site('solrosen'), partnerSiteId: site('biblioteket') }],
        outgoingAlarmTypeIds: [type('brand')], incomingAlarmTypeIds: [],
      });
      expect(proposal.status, JSON.stringify(proposal.body)).toBe(201);
      expect(proposal.body.status).toBe('proposed');
      expect(await crossings(await raise('solrosRektor', 'solrosen', 'brand'))).toEqual([]);
      await endAll();
      expect((await api('klara', 'POST', `/links/${proposal.body.id}/decline`, { reason: 'Inte aktuellt' })).body.status).toBe('declined');
      expect(await crossings(await raise('solrosRektor', 'solrosen', 'brand'))).toEqual([]);
      expect((await api('klara', 'POST', `/links/${proposal.body.id}/accept`, { receivingGroups: [] })).body.code).toBe('link_status_conflict');

      await t.db.query("UPDATE links SET review_at = current_date - 1 WHERE id = $1", [demoLink]);
      try {
        for (const who of ['admin', 'klara'] as const) {
          const view = await api(who, 'GET', `/links/${demoLink}`);
          expect(view.body.reviewDue).toBe(true);
          expect(view.body.warnings).toContainEqual({ code: 'review_due', direction: null, siteName: null });
        }
        expect(await crossings(await raise('anna', 'vasaskolan', 'brand'))).toHaveLength(1);
      } finally {
        await t.db.query("UPDATE links SET review_at = current_date + 365 WHERE id = $1", [demoLink]);
      }
    });
  });

  describe('lockdown safety: one authoritative instruction per site holds across the link', () => {
    it('a linked fire during a lockdown at the library does not ring: the library\'s leads are asked, and confirming raises it silently as a change', async () => {
      const [lisa, bo] = [await device('lisa'), await device('bo')];
      const lockdown = await raise('bo', 'biblioteket', 'inrymning');
      await lisa.waitFor((d) => d.of('raised', lockdown).length === 1, 15_000, 'the library\'s lockdown');
      const fire = await raise('anna', 'vasaskolan', 'brand');

      const [held] = await crossings(fire);
      expect(held).toMatchObject({ state: 'held', linked_incident_id: null });
      // Nothing rang at the library: no new incident there, nothing new on Lisa's phone, no push queued for it.
      expect((await t.db.query("SELECT count(*)::int AS n FROM incidents WHERE site_id = $1 AND state = 'active'", [site('biblioteket')])).rows[0]?.n).toBe(1);
      await bo.waitFor((d) => d.of('link_held', lockdown).length === 1, 15_000, 'the ask to the library\'s lead');
      expect(bo.of('link_held', lockdown)[0]?.data).toMatchObject({ crossingId: held?.id, organisationName: 'Utbildningsförvaltningen' });
      expect(lisa.events.filter((e) => e.type !== 'raised' && e.type !== 'recipients_computed')).toEqual([]);
      expect(lisa.events.filter((e) => e.incidentId !== lockdown)).toEqual([]);
      expect((await api('kris', 'GET', `/incidents/${fire}/rollcall`)).body.linked).toEqual([expect.objectContaining({ state: 'held', counts: null })]);

      const list = await api('bo', 'GET', `/sites/${site('biblioteket')}/held-link-alarms`);
      expect(list.body.held).toEqual([expect.objectContaining({
        id: held?.id, drill: false, from: { organisationName: 'Utbildningsförvaltningen', siteName: 'Vasaskolan' }, heldOnIncidentId: lockdown,
      })]);
      expect(list.body.held[0].alarmType.key).toBe('brand');
      expect((await api('lisa', 'GET', `/sites/${site('biblioteket')}/held-link-alarms`)).status).toBe(403);
      expect((await api('lisa', 'POST', `/link-crossings/${held?.id}/confirm`)).status).toBe(403);

      const confirmed = await api('bo', 'POST', `/link-crossings/${held?.id}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
      const linkedId = confirmed.body.linkedIncidentId as string;
      await lisa.waitFor((d) => d.of('raised', linkedId).length === 1, 15_000, 'the confirmed fire');
      const raised = lisa.of('raised', linkedId)[0];
      // Shown as a change, and the lockdown still holds (precedence): nothing rings out loud.
      expect(raised?.data).toMatchObject({ contradiction: true, instruction: { typeKey: 'inrymning', sound: 'silent' }, previous: { typeKey: 'inrymning' } });
      expect((await api('bo', 'POST', `/link-crossings/${held?.id}/confirm`)).body.code).toBe('linked_alarm_not_held');
      expect((await api('kris', 'GET', `/incidents/${fire}/rollcall`)).body.linked[0].state).toBe('active');
    });

    it('the ask for a held linked fire reaches the library leads\' phones too, as a silent message on their lockdown, and nobody else\'s', async () => {
      await subscribePush('bo');
      await subscribePush('lisa');
      try {
        const lockdown = await raise('bo', 'biblioteket', 'inrymning');
        const fire = await raise('anna', 'vasaskolan', 'brand');
        expect((await crossings(fire))[0]?.state).toBe('held');
        const asks = (await t.db.query<{ person_id: string; payload: Record<string, unknown> }>(
          "SELECT d.person_id, pl.payload FROM deliveries d JOIN push_payloads pl ON pl.id = d.payload_id WHERE d.incident_id = $1 AND d.kind = 'message'", [lockdown],
        )).rows;
        expect(asks.map((a) => a.person_id)).toEqual([t.personId('bo')]);
        expect(asks[0]?.payload).toMatchObject({
          kind: 'message', incidentId: lockdown, drill: false, alarmType: { key: 'inrymning', sound: 'silent' },
          body: 'Brand från Utbildningsförvaltningen väntar på ditt beslut. Öppna larmet: larma ut det här, eller avvisa det.',
        });
        // Nothing of the fire itself goes to the library's phones.
        expect((await t.db.query("SELECT 1 FROM deliveries WHERE person_id = ANY($1::uuid[]) AND incident_id <> $2", [
          [t.personId('bo'), t.personId('lisa')], lockdown,
        ])).rowCount).toBe(0);
      } finally {
        for (const who of ['bo', 'lisa'] as const) expect((await api(who, 'DELETE', '/me/device/push-subscription')).status).toBe(204);
      }
    });

    it('a held linked fire can be dismissed, and lapses when its source ends first', async () => {
      await raise('bo', 'biblioteket', 'inrymning');
      const fire = await raise('anna', 'vasaskolan', 'brand');
      const [held] = await crossings(fire);
      const before = await snapshot();
      expect((await api('klara', 'POST', `/link-crossings/${held?.id}/dismiss`, { reason: 42 })).body.code).toBe('validation_failed');
      expect(await snapshot()).toBe(before);
      const dismissed = await api('bo', 'POST', `/link-crossings/${held?.id}/dismiss`, { reason: 'Vi har inrymning' });
      expect(dismissed.body).toEqual({ id: held?.id, state: 'dismissed', linkedIncidentId: null });
      expect((await api('kris', 'GET', `/incidents/${fire}/rollcall`)).body.linked[0].state).toBe('dismissed');
      await endAll();

      await raise('bo', 'biblioteket', 'inrymning');
      const second = await raise('anna', 'vasaskolan', 'brand');
      expect((await api('kris', 'POST', `/incidents/${second}/resolve`, {})).status).toBe(200);
      expect((await crossings(second))[0]?.state).toBe('lapsed');
      expect((await api('bo', 'GET', `/sites/${site('biblioteket')}/held-link-alarms`)).body.held).toEqual([]);
    });

    it('a linked lockdown during a fire at the library makes the library\'s instruction the lockdown, shown to everyone as a change', async () => {
      const lisa = await device('lisa');
      const libraryFire = await raise('bo', 'biblioteket', 'brand');
      await lisa.waitFor((d) => d.of('raised', libraryFire).length === 1, 15_000, 'the library\'s own fire');
      // The library's fire reached Vasaskolan's crisis team: a lockdown there contradicts it and needs confirming, as any raise.
      const refused = await api('anna', 'POST', '/alarms', { pressId: randomUUID(), siteId: site('vasaskolan'), alarmTypeId: type('inrymning') });
      expect(refused.body.code).toBe('contradicts_instruction');
      const lockdown = await raise('anna', 'vasaskolan', 'inrymning', { confirmContradiction: true });
      const linkedId = await linkedIncidentOf(lockdown);

      const instruction = await api('lisa', 'GET', `/sites/${site('biblioteket')}/instruction`);
      expect(instruction.body.instruction).toMatchObject({ incidentId: linkedId, typeKey: 'inrymning' });
      await lisa.waitFor((d) => d.of('raised', linkedId).length === 1 && d.of('instruction_changed', libraryFire).length === 1, 15_000, 'the lockdown and the change');
      expect(lisa.of('raised', linkedId)[0]?.data).toMatchObject({ contradiction: true, previous: { typeKey: 'brand' }, instruction: { typeKey: 'inrymning' } });
      expect(lisa.of('instruction_changed', libraryFire)[0]?.data).toMatchObject({ instruction: { typeKey: 'inrymning' } });
    });
  });

  describe('drills', () => {
    it('a drill crosses as a drill, marked on every event on both sides; it does not cross into a real alarm', async () => {
      const [lisa, kim] = [await device('lisa'), await device('kris')];
      const drill = await raise('kris', 'vasaskolan', 'brand', { drill: true });
      const linkedId = await linkedIncidentOf(drill);
      expect((await t.db.query('SELECT drill FROM incidents WHERE id = $1', [linkedId])).rows[0]?.drill).toBe(true);
      expect((await api('lisa', 'POST', `/incidents/${linkedId}/responses`, { status: 'safe' })).status).toBe(200);
      await lisa.waitFor((d) => d.of('raised', linkedId).length === 1, 15_000, 'the drill');
      await kim.waitFor((d) => d.of('linked', drill).length === 1, 15_000, 'the note');
      expect(lisa.events.filter((e) => e.incidentId === linkedId).every((e) => e.drill)).toBe(true);
      expect(kim.events.filter((e) => e.incidentId === drill).every((e) => e.drill)).toBe(true);
      const events = (await t.db.query<{ drill: boolean }>('SELECT drill FROM incident_events WHERE incident_id = ANY($1)', [[drill, linkedId]])).rows;
      expect(events.length).toBeGreaterThan(4);
      expect(events.every((e) => e.drill)).toBe(true);
      await endAll();

      // A lockdown of the library's own (it does not cross back to Vasaskolan).
      await raise('bo', 'biblioteket', 'inrymning');
      const during = await raise('kris', 'vasaskolan', 'brand', { drill: true });
      expect(await crossings(during)).toEqual([expect.objectContaining({ state: 'not_crossed', not_crossed_reason: 'real_alarm_active' })]);
    });
  });

  describe('the receiving side ends its linked incident early', () => {
    it('only with a reason; the reason stays on its side, the source sees the state in its counts; audited on both sides', async () => {
      const source = await raise('anna', 'vasaskolan', 'brand');
      const linkedId = await linkedIncidentOf(source);
      const before = await snapshot();
      const refused = await api('bo', 'POST', `/incidents/${linkedId}/resolve`, {});
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('linked_end_needs_reason');
      expect(await snapshot()).toBe(before);

      expect((await api('bo', 'POST', `/incidents/${linkedId}/resolve`, { note: 'Biblioteket är utrymt och stängt' })).status).toBe(200);
      expect((await api('kris', 'GET', `/incidents/${source}/rollcall`)).body.linked[0]).toMatchObject({ state: 'ended_early', counts: { targeted: 2 } });
      const audit = async (who: 'admin' | 'klara', organisationId: string) => (await api(who, 'GET', `/organisations/${organisationId}/audit-log`)).body.entries
        .find((e: { action: string }) => e.action === 'link.linked_alarm_ended_early');
      const theirs = await audit('klara', t.ids.org.kultur);
      const ours = await audit('admin', t.ids.org.utbildning);
      expect(theirs).toMatchObject({ entityId: demoLink, after: { reason: 'Biblioteket är utrymt och stängt' }, actor: { id: t.personId('bo') } });
      expect(ours).toMatchObject({ entityId: demoLink, actor: null, after: { byOrganisation: 'Kulturförvaltningen' } });
      expect(JSON.stringify(ours)).not.toContain('utrymt');
      // The source goes on; its all clear later leaves the ended linked incident as it is.
      expect((await api('kris', 'POST', `/incidents/${source}/resolve`, {})).status).toBe(200);
    });
  });

  describe('consent: propose, accept with the receiving side\'s own groups, replace, audit on both sides', () => {
    it('a proposal takes effect when the other side accepts it with its own groups; replacing a link leaves one in force', async () => {
      const directory = await api('admin', 'GET', '/link-partners');
      expect(directory.body.organisations.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['Kulturförvaltningen', 'Vasahem AB']));
      expect(directory.body.organisations.map((o: { name: string }) => o.name)).not.toContain('Utbildningsförvaltningen');

      const replacement = await api('admin', 'POST', `/organisations/${t.ids.org.utbildning}/links`, {
        partnerOrganisationId: t.ids.org.kultur, pairs: [{ siteId: site('vasaskolan'), partnerSiteId: site('biblioteket') }],
        outgoingAlarmTypeIds: [type('brand'), type('utrymning'), type('inrymning'), type('hot')], incomingAlarmTypeIds: [type('brand')],
        incomingReceivingGroups: [{ siteId: site('vasaskolan'), groupIds: [t.ids.group.vasaKris] }], replacesLinkId: demoLink, note: 'Hot också',
      });
      expect(replacement.status, JSON.stringify(replacement.body)).toBe(201);
      const theirView = await api('klara', 'GET', `/links/${replacement.body.id}`);
      expect(theirView.body).toMatchObject({ side: 'partner', status: 'proposed', replacesLinkId: demoLink, note: 'Hot också' });
      // The proposer's groups are theirs to name; the partner sees how many.
      const incoming = theirView.body.directions.find((d: { direction: string }) => d.direction === 'to_proposer');
      expect(incoming.receiving[0]).toMatchObject({ groupCount: 1, groups: null });

      expect((await api('lisa', 'POST', `/links/${replacement.body.id}/accept`, { receivingGroups: [] })).status).toBe(404);
      expect((await api('bo', 'POST', `/links/${replacement.body.id}/accept`, { receivingGroups: [] })).body.code).toBe('forbidden');
      expect((await api('admin', 'POST', `/links/${replacement.body.id}/accept`, { receivingGroups: [] })).body.code).toBe('forbidden');
      const before = await snapshot();
      const wrongGroup = await api('klara', 'POST', `/links/${replacement.body.id}/accept`, { receivingGroups: [{ siteId: site('biblioteket'), groupIds: [t.ids.group.vasaAll] }] });
      expect(wrongGroup.body.code).toBe('invalid_reference');
      expect((await api('klara', 'POST', `/links/${replacement.body.id}/accept`, { receivingGroups: [] })).body.code).toBe('validation_failed');
      expect(await snapshot()).toBe(before);

      const accepted = await api('klara', 'POST', `/links/${replacement.body.id}/accept`, { receivingGroups: [{ siteId: site('biblioteket'), groupIds: [t.ids.group.bibliotek] }] });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
      expect(accepted.body.status).toBe('active');
      expect((await api('admin', 'GET', `/links/${demoLink}`)).body.status).toBe('replaced');
      const threat = await raise('anna', 'vasaskolan', 'hot');
      expect(await crossings(threat)).toEqual([expect.objectContaining({ state: 'alerted' })]);

      for (const [who, organisationId] of [['admin', t.ids.org.utbildning], ['klara', t.ids.org.kultur]] as const) {
        const actions = (await api(who, 'GET', `/organisations/${organisationId}/audit-log`)).body.entries
          .filter((e: { entityType: string }) => e.entityType === 'link').map((e: { action: string; entityId: string }) => `${e.action} ${e.entityId}`);
        expect(actions).toEqual(expect.arrayContaining([
          `link.proposed ${replacement.body.id}`, `link.accepted ${replacement.body.id}`, `link.replaced ${demoLink}`,
          `link.alarm_crossed ${replacement.body.id}`,
        ]));
      }
      // Back to the demo link for the other tests.
      expect((await api('klara', 'POST', `/links/${replacement.body.id}/revoke`, {})).status).toBe(200);
    });

    it('staff and rektorer cannot propose or decide; sites are checked against the organisation named for each side', async () => {
      const proposal = (over: Record<string, unknown> = {}) => ({
        partnerOrganisationId: t.ids.org.kultur, pairs: [{ siteId: site('vasaskolan'), partnerSiteId: site('biblioteket') }],
        outgoingAlarmTypeIds: [type('hot')], incomingAlarmTypeIds: [], ...over,
      });
      const propose = (who: Who | 'third', body: unknown, organisationId = t.ids.org.utbildning) =>
        api(who, 'POST', `/organisations/${organisationId}/links`, body);
      const before = await snapshot();
      expect((await propose('anna', proposal())).body.code).toBe('forbidden');
      expect((await propose('rektor', proposal())).body.code).toBe('forbidden');
      expect((await propose('kris', proposal())).body.code).toBe('forbidden');
      // Forged: another organisation's site named as one's own, one's own (or a third organisation's) as the partner's.
      const forged = [
        proposal({ pairs: [{ siteId: site('biblioteket'), partnerSiteId: site('biblioteket') }] }),
        proposal({ pairs: [{ siteId: site('vasaskolan'), partnerSiteId: site('solrosen') }] }),
        proposal({ pairs: [{ siteId: site('vasaskolan'), partnerSiteId: third.siteId }] }),
        proposal({ partnerOrganisationId: t.ids.org.utbildning }),
        proposal({ partnerOrganisationId: randomUUID() }),
        proposal({ incomingAlarmTypeIds: [type('brand')], incomingReceivingGroups: [{ siteId: site('vasaskolan'), groupIds: [t.ids.group.bibliotek] }] }),
        proposal({ incomingAlarmTypeIds: [type('brand')], incomingReceivingGroups: [{ siteId: site('biblioteket'), groupIds: [t.ids.group.bibliotek] }] }),
        proposal({ replacesLinkId: randomUUID() }),
      ];
      for (const body of forged) {
        const res = await propose('admin', body);
        expect(res.body.code, JSON.stringify(body)).toBe('invalid_reference');
      }
      const bad = [
        proposal({ outgoingAlarmTypeIds: [] }),
        proposal({ incomingAlarmTypeIds: [type('brand')] }),
        proposal({ pairs: [] }),
        proposal({ reviewAt: '2001-01-01' }),
        proposal({ reviewAt: '2030-02-30' }),
        proposal({ sharePresserName: 'yes' }),
        proposal({ extra: true }),
      ];
      for (const body of bad) expect((await propose('admin', body)).body.code, JSON.stringify(body)).toBe('validation_failed');
      // Another organisation's links are not there to propose on.
      expect((await propose('klara', proposal())).status).toBe(404);
      expect(await snapshot()).toBe(before);
    });
  });

  describe('isolation: the other organisation sees only what the link shares, a third organisation nothing', () => {
    it('over HTTP, for every link endpoint', async () => {
      await raise('bo', 'biblioteket', 'inrymning');
      const fire = await raise('anna', 'vasaskolan', 'brand');
      const [held] = await crossings(fire);
      const before = await snapshot();
      const nonexistent = randomUUID();
      const calls: [Method, string, unknown?][] = [
        ['GET', `/links/${demoLink}`], ['POST', `/links/${demoLink}/accept`, { receivingGroups: [] }], ['POST', `/links/${demoLink}/decline`, {}],
        ['POST', `/links/${demoLink}/suspend`, {}], ['POST', `/links/${demoLink}/resume`, {}], ['POST', `/links/${demoLink}/revoke`, {}],
        ['POST', `/links/${demoLink}/test`, {}], ['GET', `/sites/${site('vasaskolan')}/link-reach`], ['GET', `/sites/${site('biblioteket')}/held-link-alarms`],
        ['POST', `/link-crossings/${held?.id}/confirm`], ['POST', `/link-crossings/${held?.id}/dismiss`, {}],
      ];
      for (const [method, path, body] of calls) {
        const res = await api('third', method, path, body);
        const missing = await api('third', method, path.replace(/[0-9a-f-]{36}/, nonexistent), body);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body, `${method} ${path}`).toEqual(missing.body);
      }
      expect((await api('third', 'GET', `/organisations/${third.organisationId}/links`)).body.links).toEqual([]);
      expect((await api('third', 'GET', `/organisations/${t.ids.org.utbildning}/links`)).status).toBe(404);
      expect((await api('klara', 'GET', `/organisations/${t.ids.org.utbildning}/links`)).status).toBe(404);
      // The source side cannot decide on what is held at the library.
      expect((await api('kris', 'POST', `/link-crossings/${held?.id}/confirm`)).status).toBe(404);
      expect((await api('admin', 'GET', `/sites/${site('biblioteket')}/held-link-alarms`)).status).toBe(404);
      // Staff see no links at all; the other side sees its own view.
      expect((await api('anna', 'GET', `/organisations/${t.ids.org.utbildning}/links`)).status).toBe(403);
      expect((await api('lisa', 'GET', `/links/${demoLink}`)).status).toBe(404);
      const partnerView = await api('klara', 'GET', `/links/${demoLink}`);
      expect(partnerView.body.side).toBe('partner');
      const toPartner = partnerView.body.directions.find((d: { direction: string }) => d.direction === 'to_partner');
      const toProposer = partnerView.body.directions.find((d: { direction: string }) => d.direction === 'to_proposer');
      expect(toPartner.receiving[0].groups).toEqual([{ id: t.ids.group.bibliotek, name: 'Bibliotekets personal' }]);
      expect(toProposer.receiving[0].groups).toBeNull();
      expect(await snapshot()).toBe(before);
    });

    it('over the socket: no event of one side\'s incident reaches the other side\'s devices, and naming the other side\'s site or incident is not found', async () => {
      const quiet = { autoReceipt: false };
      const [kim, lisa, bo] = [await device('kris', quiet), await device('lisa', quiet), await device('bo', quiet)];
      const source = await raise('anna', 'vasaskolan', 'brand');
      const linkedId = await linkedIncidentOf(source);
      await lisa.waitFor((d) => d.of('raised', linkedId).length === 1, 15_000, 'the linked alarm');
      await kim.waitFor((d) => d.of('raised', source).length === 1, 15_000, 'the source');
      const before = await snapshot();
      const receipt = await kim.emit('receipt', { incidentId: linkedId, kind: 'delivered' });
      expect(receipt).toMatchObject({ ok: false, error: { code: 'not_found' } });
      const foreign = await lisa.raise({ siteId: site('vasaskolan'), alarmTypeId: type('brand') });
      expect(foreign).toMatchObject({ ok: false, error: { code: 'not_found' } });
      expect(await snapshot()).toBe(before);
      expect(kim.events.filter((e) => e.incidentId === linkedId)).toEqual([]);
      expect(bo.events.filter((e) => e.incidentId === source)).toEqual([]);
      expect(lisa.events.filter((e) => e.incidentId === source)).toEqual([]);
      expect(kim.rollcalls.filter((r) => r.incidentId === linkedId)).toEqual([]);
      expect(bo.rollcalls.filter((r) => r.incidentId === source)).toEqual([]);
    });
  });

  describe('link tests and device health', () => {
    it('a link test is a drill over the link that the other side answers and the tester sees as counts', async () => {
      const kim = await device('kris');
      const before = await snapshot();
      expect((await api('bo', 'POST', `/links/${demoLink}/test`, {})).body.code).toBe('forbidden');
      expect((await api('klara', 'POST', `/links/${demoLink}/test`, { alarmTypeId: type('inrymning') })).body.code).toBe('invalid_reference');
      expect(await snapshot()).toBe(before);

      const sent = await api('klara', 'POST', `/links/${demoLink}/test`, { alarmTypeId: type('hot') });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      const [leg] = sent.body.sites;
      expect(leg).toMatchObject({ siteName: 'Vasaskolan', state: 'alerted' });
      await kim.waitFor((d) => d.of('raised', leg.linkedIncidentId).length === 1, 15_000, 'the test');
      const raised = kim.of('raised', leg.linkedIncidentId)[0];
      expect(raised?.drill).toBe(true);
      expect((raised?.data.incident as { linkedFrom: unknown }).linkedFrom).toMatchObject({ test: true, organisationName: 'Kulturförvaltningen', siteName: 'Vasastadens bibliotek', incidentId: null });
      expect((await api('kris', 'POST', `/incidents/${leg.linkedIncidentId}/responses`, { status: 'safe' })).status).toBe(200);
      const view = await api('klara', 'GET', `/links/${demoLink}`);
      expect(view.body.recent[0]).toMatchObject({ test: true, drill: true, toSiteName: 'Vasaskolan', state: 'active', counts: { targeted: 2, safe: 1 } });
      // A new test ends the one before; a busy site takes none.
      const again = await api('klara', 'POST', `/links/${demoLink}/test`, {});
      expect(again.body.sites[0].state).toBe('alerted');
      expect((await t.db.query('SELECT state::text FROM incidents WHERE id = $1', [leg.linkedIncidentId])).rows[0]?.state).toBe('resolved');
      await endAll();
      await raise('anna', 'vasaskolan', 'hot');
      expect((await api('klara', 'POST', `/links/${demoLink}/test`, {})).body.sites[0]).toMatchObject({ state: 'not_crossed', linkedIncidentId: null });
      expect((await api('admin', 'GET', `/organisations/${t.ids.org.utbildning}/audit-log`)).body.entries.map((e: { action: string }) => e.action)).toContain('link.test_sent');
    });

    it('both sides are warned while a receiving group has nobody who can receive alarms', async () => {
      const warnings = async (who: 'admin' | 'klara') => (await api(who, 'GET', `/links/${demoLink}`)).body.warnings;
      for (const who of ['admin', 'klara'] as const) {
        expect(await warnings(who)).toEqual(expect.arrayContaining([
          { code: 'nobody_can_receive', direction: 'to_partner', siteName: 'Vasastadens bibliotek' },
          { code: 'nobody_can_receive', direction: 'to_proposer', siteName: 'Vasaskolan' },
        ]));
      }
      // Lisa's phone subscribes to push: the library's receiving group can now be reached.
      await subscribePush('lisa');
      for (const who of ['admin', 'klara'] as const) {
        const now = await warnings(who);
        expect(now).not.toContainEqual(expect.objectContaining({ direction: 'to_partner' }));
        expect(now).toContainEqual({ code: 'nobody_can_receive', direction: 'to_proposer', siteName: 'Vasaskolan' });
      }
      expect((await api('klara', 'GET', `/links/${demoLink}`)).body.directions.find((d: { direction: string }) => d.direction === 'to_partner').receiving[0].ableToReceive).toBe(1);
      expect((await t.request({ method: 'DELETE', url: '/api/v1/me/device/push-subscription', token: token.lisa })).status).toBeLessThan(300);
    });
  });
});
