import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../src/lib/clock.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';
import { type Who } from './helpers/demo.js';

/**
 * The alarm path over HTTP on one node: persist before acknowledging, frozen recipients,
 * idempotent and joining presses, one instruction per site, drills, responses, messages, roll
 * call, ending an incident, listing, the timeline, and bad input (invariants 1, 4-9).
 */

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

/** The demo people this file acts as. */
const PEOPLE: Who[] = ['admin', 'rektor', 'kris', 'anna', 'bertil', 'cecilia', 'solrosRektor', 'frida', 'lisa', 'bo', 'klara'];

const EXTRA_PASSWORD = 'vikarie-lösenord-1';
const VASA_ALL_MEMBERS: Who[] = ['rektor', 'kris', 'anna', 'bertil', 'cecilia'];

interface Harness {
  t: TestApp;
  token: Record<Who, string>;
  person: Record<Who, string>;
  api(who: Who | string, method: Method, url: string, body?: unknown): Promise<Response>;
  raise(who: Who | string, body: Record<string, unknown>): Promise<Response>;
}

async function harness(t: TestApp): Promise<Harness> {
  const entries = await Promise.all((PEOPLE).map(async (who) => [who, await t.loginAs(who)] as const));
  const token = Object.fromEntries(entries) as Record<Who, string>;
  const person = Object.fromEntries((PEOPLE).map((who) => [who, t.personId(who)])) as Record<Who, string>;
  const bearer = (who: Who | string) => (who in token ? token[who as Who] : who);
  const api: Harness['api'] = (who, method, url, body) => t.request({ method, url: `/api/v1${url}`, token: bearer(who), body });
  const raise: Harness['raise'] = (who, body) => api(who, 'POST', '/alarms', { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, ...body });
  return { t, token, person, api, raise };
}

async function timelineRows(t: TestApp, incidentId: string) {
  return (await t.db.query<{ id: string; type: string; audience: string; actor_person_id: string | null; data: unknown }>(
    'SELECT id::text, type, audience::text, actor_person_id, data FROM incident_events WHERE incident_id = $1 ORDER BY id', [incidentId],
  )).rows;
}

async function count(t: TestApp, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${sql}) x`, params)).rows[0]?.n);
}

const sorted = <T>(list: T[]): T[] => [...list].sort();

describe('the alarm path over HTTP', () => {
  let h: Harness;
  let t: TestApp;
  let url: string;
  let kitchenCook: string;
  const substitutes: { id: string; token: string }[] = [];
  const devices: TestDevice[] = [];

  const device = async (who: Who, options: { autoReceipt?: boolean } = {}) => {
    const d = await TestDevice.connect({ urls: [url], token: h.token[who], ...options });
    devices.push(d);
    await d.waitFor((x) => x.cursor !== null, 5000, 'initial catch-up');
    return d;
  };
  const brand = () => t.ids.alarmType.brand;
  const inrymning = () => t.ids.alarmType.inrymning;
  const setVasaAllMembers = (ids: string[]) =>
    h.api('rektor', 'PUT', `/alarm-groups/${t.ids.group.vasaAll}/members`, { personIds: ids });
  const instructionAtVasa = async () => (await h.api('anna', 'GET', `/sites/${t.ids.site.vasaskolan}/instruction`)).body.instruction;

  beforeAll(async () => {
    t = await startApp();
    url = await t.listen();
    h = await harness(t);
    const org = t.ids.org.utbildning;
    const create = (name: string, email: string) => h.api('admin', 'POST', `/organisations/${org}/people`, {
      name, email, password: EXTRA_PASSWORD, siteIds: [t.ids.site.vasaskolan], roles: [{ role: 'staff', siteId: null }],
    });
    const cook = await create('Karl Kock', 'kock@vasaskolan.example');
    expect(cook.status, JSON.stringify(cook.body)).toBe(201);
    kitchenCook = cook.body.id;
    const kitchen = await h.api('admin', 'POST', `/sites/${t.ids.site.vasaskolan}/alarm-groups`, {
      name: 'Köket', memberIds: [kitchenCook], alarmTypes: [{ alarmTypeId: t.ids.alarmType.hot, receives: true, mayRaise: false }],
    });
    expect(kitchen.status, JSON.stringify(kitchen.body)).toBe(201);
    for (let i = 0; i < 10; i += 1) {
      const email = `vikarie${i}@vasaskolan.example`;
      const created = await create(`Vikarie ${i}`, email);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const login = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email, password: EXTRA_PASSWORD } });
      expect(login.status).toBe(200);
      substitutes.push({ id: created.body.id, token: login.body.token });
    }
  });

  afterEach(async () => {
    for (const d of devices.splice(0)) d.close();
    await t.settleDevices();
    // Each test starts from a quiet site: end whatever is still active.
    await t.endActiveIncidents(h.token.admin);
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
  });

  describe('persisting and targeting', () => {
    it('answers 201 only once the incident, its recipients and its first timeline events are committed', async () => {
      const res = await h.raise('anna', { alarmTypeId: brand(), location: 'Sal 204', message: 'Rök i korridoren' });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.outcome).toBe('raised');
      const id: string = res.body.incident.id;

      const incident = (await t.db.query('SELECT state, site_id, raised_by, drill, location, message FROM incidents WHERE id = $1', [id])).rows[0];
      expect(incident).toEqual({
        state: 'active', site_id: t.ids.site.vasaskolan, raised_by: h.person.anna, drill: false, location: 'Sal 204', message: 'Rök i korridoren',
      });
      const recipients = (await t.db.query<{ person_id: string; lead: boolean }>(
        'SELECT person_id, lead FROM incident_recipients WHERE incident_id = $1 ORDER BY person_id', [id],
      )).rows;
      const expected = VASA_ALL_MEMBERS.map((who) => ({ person_id: h.person[who], lead: who === 'rektor' || who === 'kris' }))
        .sort((a, b) => a.person_id.localeCompare(b.person_id));
      expect(recipients).toEqual(expected);
      expect(res.body.incident.recipients).toBe(5);
      expect((await timelineRows(t, id)).map((e) => [e.type, e.audience])).toEqual([['raised', 'all'], ['recipients_computed', 'leads']]);
      expect(await count(t, 'SELECT 1 FROM incident_presses WHERE incident_id = $1 AND person_id = $2', [id, h.person.anna])).toBe(1);
    });

    it('targets exactly the group members who receive the type, the site\'s crisis leads and rektor, and whoever pressed', async () => {
      const res = await h.raise('admin', { alarmTypeId: t.ids.alarmType.hot });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const recipients = (await t.db.query<{ person_id: string }>(
        'SELECT person_id FROM incident_recipients WHERE incident_id = $1', [res.body.incident.id],
      )).rows.map((r) => r.person_id);
      // The kitchen group receives threats but not fires; the organisation admin is there only as the presser;
      // substitutes at the school but in no group, the preschool and the library are not.
      expect(sorted(recipients)).toEqual(sorted([...VASA_ALL_MEMBERS.map((w) => h.person[w]), kitchenCook, h.person.admin]));
    });

    it('freezes the recipients: changing the group afterwards does not change an existing incident\'s recipients', async () => {
      const res = await h.raise('anna', { alarmTypeId: brand() });
      expect(res.status).toBe(201);
      const id: string = res.body.incident.id;
      const before = await t.db.query('SELECT * FROM incident_recipients WHERE incident_id = $1 ORDER BY person_id', [id]);
      const newcomer = substitutes[0];
      if (!newcomer) throw new Error('no substitute');

      const changed = await setVasaAllMembers([...VASA_ALL_MEMBERS.filter((w) => w !== 'bertil').map((w) => h.person[w]), newcomer.id]);
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      try {
        const after = await t.db.query('SELECT * FROM incident_recipients WHERE incident_id = $1 ORDER BY person_id', [id]);
        expect(after.rows).toEqual(before.rows);
        expect((await h.api('bertil', 'GET', `/incidents/${id}`)).status).toBe(200);
        expect((await h.api(newcomer.token, 'GET', `/incidents/${id}`)).status).toBe(404);
        expect((await h.api('kris', 'GET', `/incidents/${id}`)).body.incident.recipients).toBe(5);
      } finally {
        expect((await setVasaAllMembers(VASA_ALL_MEMBERS.map((w) => h.person[w]))).status).toBe(200);
      }
    });
  });

  describe('idempotent and joining presses', () => {
    it('makes one incident and one press of a press id sent three times in a row', async () => {
      const incidentsBefore = await count(t, 'SELECT 1 FROM incidents');
      const body = { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: inrymning() };
      const answers: Response[] = [];
      for (let i = 0; i < 3; i += 1) answers.push(await h.api('anna', 'POST', '/alarms', body));
      expect(answers.map((a) => a.status)).toEqual([201, 200, 200]);
      expect(answers.map((a) => a.body.outcome)).toEqual(['raised', 'replayed', 'replayed']);
      expect(new Set(answers.map((a) => a.body.incident.id)).size).toBe(1);
      expect(await count(t, 'SELECT 1 FROM incidents')).toBe(incidentsBefore + 1);
      expect(await count(t, 'SELECT 1 FROM incident_presses WHERE press_id = $1', [body.pressId])).toBe(1);
      expect((await timelineRows(t, answers[0]?.body.incident.id)).map((e) => e.type)).toEqual(['raised', 'recipients_computed']);
    });

    it('makes one incident and one press of a press id sent three times at once', async () => {
      const incidentsBefore = await count(t, 'SELECT 1 FROM incidents');
      const body = { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: inrymning() };
      const answers = await Promise.all([1, 2, 3].map(() => h.api('anna', 'POST', '/alarms', body)));
      expect(sorted(answers.map((a) => a.status))).toEqual([200, 200, 201]);
      expect(sorted(answers.map((a) => a.body.outcome))).toEqual(['raised', 'replayed', 'replayed']);
      expect(new Set(answers.map((a) => a.body.incident.id)).size).toBe(1);
      expect(await count(t, 'SELECT 1 FROM incidents')).toBe(incidentsBefore + 1);
      expect(await count(t, 'SELECT 1 FROM incident_presses WHERE press_id = $1', [body.pressId])).toBe(1);
    });

    it('refuses a press id already used by another person with 409 and changes nothing', async () => {
      const pressId = randomUUID();
      expect((await h.raise('anna', { pressId, alarmTypeId: brand() })).status).toBe(201);
      const before = await t.snapshot();
      const same = await h.raise('bertil', { pressId, alarmTypeId: brand() });
      const other = await h.raise('bertil', { pressId, alarmTypeId: t.ids.alarmType.hot, confirmContradiction: true });
      expect(await t.snapshot()).toBe(before);
      for (const res of [same, other]) {
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('conflict');
      }
    });

    it('joins ten staff pressing lockdown at once into one incident and records every presser', async () => {
      const group = await setVasaAllMembers([...VASA_ALL_MEMBERS.map((w) => h.person[w]), ...substitutes.map((s) => s.id)]);
      expect(group.status, JSON.stringify(group.body)).toBe(200);
      try {
        const incidentsBefore = await count(t, 'SELECT 1 FROM incidents');
        const answers = await Promise.all(substitutes.map((s) => h.raise(s.token, { alarmTypeId: inrymning(), location: 'Entrén' })));
        for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBeLessThan(300);
        expect(sorted(answers.map((a) => a.body.outcome))).toEqual(['raised', ...Array<string>(9).fill('joined')].sort());
        expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
        const ids = new Set(answers.map((a) => a.body.incident.id as string));
        expect(ids.size).toBe(1);
        const [id] = [...ids];
        expect(await count(t, 'SELECT 1 FROM incidents')).toBe(incidentsBefore + 1);
        const pressers = (await t.db.query<{ person_id: string }>('SELECT person_id FROM incident_presses WHERE incident_id = $1', [id])).rows;
        expect(sorted(pressers.map((p) => p.person_id))).toEqual(sorted(substitutes.map((s) => s.id)));
        expect((await h.api('kris', 'GET', `/incidents/${id}`)).body.incident.pressers).toHaveLength(10);
        const types = (await timelineRows(t, id as string)).map((e) => e.type);
        expect(types.filter((x) => x === 'raised')).toHaveLength(1);
        expect(types.filter((x) => x === 'joined')).toHaveLength(9);
      } finally {
        expect((await setVasaAllMembers(VASA_ALL_MEMBERS.map((w) => h.person[w]))).status).toBe(200);
      }
    });
  });

  describe('one authoritative instruction per site', () => {
    it('refuses a fire during a lockdown without confirmation, and with it tells everyone of the change while the lockdown still rules', async () => {
      const bertilPhone = await device('bertil', { autoReceipt: false });
      const lockdown = await h.raise('anna', { alarmTypeId: inrymning() });
      expect(lockdown.status).toBe(201);

      const before = await t.snapshot();
      const refused = await h.raise('bertil', { alarmTypeId: brand() });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('contradicts_instruction');
      expect(refused.body.details.current).toMatchObject({ typeKey: 'inrymning', incidentId: lockdown.body.incident.id, drill: false });
      expect(await t.snapshot()).toBe(before);

      const fire = await h.raise('bertil', { alarmTypeId: brand(), confirmContradiction: true });
      expect(fire.status, JSON.stringify(fire.body)).toBe(201);
      const fireId: string = fire.body.incident.id;
      expect(fire.body.instruction).toMatchObject({ typeKey: 'inrymning', activeIncidents: 2 });
      // The fire's own people learn of the change in its `raised` event; the lockdown's people get
      // `instruction_changed` on the lockdown. Bertil, in both, sees the change once in each, never twice alike.
      expect((await timelineRows(t, fireId)).filter((e) => e.type === 'instruction_changed')).toEqual([]);
      await bertilPhone.waitFor((d) => d.of('raised', fireId).length === 1 && d.of('instruction_changed', lockdown.body.incident.id).length === 1,
        5000, 'the fire and the change arrive');
      expect(bertilPhone.of('raised', fireId)[0]?.data).toMatchObject({
        contradiction: true, previous: { typeKey: 'inrymning' }, instruction: { typeKey: 'inrymning' },
      });
      expect(bertilPhone.of('instruction_changed', lockdown.body.incident.id)[0]?.data).toMatchObject({
        contradiction: true, cause: fireId, previous: { typeKey: 'inrymning' }, instruction: { typeKey: 'inrymning' },
      });
      expect(bertilPhone.events.filter((e) => e.type === 'instruction_changed')).toHaveLength(1);
      expect(await instructionAtVasa()).toMatchObject({ typeKey: 'inrymning', incidentId: lockdown.body.incident.id });

      expect((await h.api('kris', 'POST', `/incidents/${lockdown.body.incident.id}/resolve`, {})).status).toBe(200);
      expect(await instructionAtVasa()).toMatchObject({ typeKey: 'brand', incidentId: fireId, activeIncidents: 1 });
      expect((await h.api('kris', 'POST', `/incidents/${fireId}/resolve`, {})).status).toBe(200);
      expect(await instructionAtVasa()).toBeNull();
    });

    it('tells the people of every active incident at the site when the instruction changes, also those the other alarm did not target', async () => {
      const cookToken = (await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'kock@vasaskolan.example', password: EXTRA_PASSWORD } })).body.token;
      const cookPhone = await TestDevice.connect({ urls: [url], token: cookToken });
      devices.push(cookPhone);
      await cookPhone.waitFor((d) => d.cursor !== null, 5000, 'initial catch-up');

      const threat = await h.raise('anna', { alarmTypeId: t.ids.alarmType.hot });
      const threatId: string = threat.body.incident.id;
      await cookPhone.waitFor((d) => d.of('raised', threatId).length === 1, 5000, 'threat arrives');
      const lockdown = await h.raise('anna', { alarmTypeId: inrymning(), confirmContradiction: true });
      expect(lockdown.status, JSON.stringify(lockdown.body)).toBe(201);
      const lockdownId: string = lockdown.body.incident.id;
      expect(await count(t, 'SELECT 1 FROM incident_recipients WHERE incident_id = $1 AND person_id = $2', [lockdownId, kitchenCook])).toBe(0);

      await cookPhone.waitFor((d) => d.of('instruction_changed', threatId).length === 1, 5000, 'the lockdown reaches the threat\'s people');
      expect(cookPhone.of('instruction_changed', threatId)[0]?.data).toMatchObject({
        previous: { typeKey: 'hot' }, instruction: { typeKey: 'inrymning' }, cause: lockdownId,
      });
      expect(cookPhone.events.filter((e) => e.incidentId === lockdownId)).toEqual([]);

      expect((await h.api('kris', 'POST', `/incidents/${lockdownId}/resolve`, {})).status).toBe(200);
      await cookPhone.waitFor((d) => d.of('instruction_changed', threatId).length === 2, 5000, 'the all clear reaches the threat\'s people');
      expect(cookPhone.of('instruction_changed', threatId)[1]?.data).toMatchObject({
        previous: { typeKey: 'inrymning' }, instruction: { typeKey: 'hot', incidentId: threatId }, cause: lockdownId,
      });
      expect(await instructionAtVasa()).toMatchObject({ typeKey: 'hot' });
    });

    it('lets a real alarm outrank an active drill without confirmation', async () => {
      const drill = await h.raise('rektor', { alarmTypeId: inrymning(), drill: true });
      expect(drill.status, JSON.stringify(drill.body)).toBe(201);
      expect(await instructionAtVasa()).toMatchObject({ typeKey: 'inrymning', drill: true });

      const fire = await h.raise('anna', { alarmTypeId: brand() });
      expect(fire.status, JSON.stringify(fire.body)).toBe(201);
      expect(fire.body.instruction).toMatchObject({ typeKey: 'brand', drill: false, incidentId: fire.body.incident.id });
      expect(await instructionAtVasa()).toMatchObject({ typeKey: 'brand', drill: false });
      // The drill's people are told of the change on the drill; the fire's, in its `raised` event.
      const changes = (await timelineRows(t, drill.body.incident.id)).filter((e) => e.type === 'instruction_changed');
      expect(changes.map((e) => e.audience)).toEqual(['all']);
      const raised = (await timelineRows(t, fire.body.incident.id)).find((e) => e.type === 'raised');
      expect(raised?.data).toMatchObject({ previous: { typeKey: 'inrymning', drill: true }, instruction: { typeKey: 'brand', drill: false } });
    });
  });

  describe('announcing contradictions', () => {
    it('tells the people of the site\'s other alarms about a confirmed contradicting alarm, even when their instruction stays', async () => {
      const lockdown = await h.raise('anna', { alarmTypeId: inrymning() });
      expect(lockdown.status).toBe(201);
      const fire = await h.raise('bertil', { alarmTypeId: brand(), confirmContradiction: true });
      expect(fire.status).toBe(201);
      const rows = await timelineRows(t, lockdown.body.incident.id);
      const change = rows.find((r) => r.type === 'instruction_changed');
      expect(change?.audience).toBe('all');
      const data = (await t.db.query<{ data: { cause: string; contradiction: boolean; instruction: { typeKey: string } } }>(
        'SELECT data FROM incident_events WHERE id = $1', [change?.id],
      )).rows[0]?.data;
      expect(data).toMatchObject({ cause: fire.body.incident.id, contradiction: true, instruction: { typeKey: 'inrymning' } });
    });

    it('answers a retried press with its alarm even after the type was archived or the presser left the group', async () => {
      const created = await h.api('admin', 'POST', `/organisations/${t.ids.org.utbildning}/alarm-types`, {
        key: 'medicinskt', label: { sv: 'Medicinskt larm', en: 'Medical emergency' },
        instruction: { sv: 'Ring 112.', en: 'Call 112.' }, colour: '#1565c0', icon: 'heart', sound: 'loud', precedence: 50,
        cap: { category: 'Health', event: 'Medicinskt', responseType: 'Execute', severity: 'Severe', urgency: 'Immediate' },
      });
      expect(created.status).toBe(201);
      const pressId = randomUUID();
      const body = { pressId, siteId: t.ids.site.vasaskolan, alarmTypeId: created.body.id };
      const first = await h.api('rektor', 'POST', '/alarms', body);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect((await h.api('admin', 'PATCH', `/alarm-types/${created.body.id}`, { archived: true })).status).toBe(200);
      const retry = await h.api('rektor', 'POST', '/alarms', body);
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ outcome: 'replayed', incident: { id: first.body.incident.id } });
    });
  });

  describe('joining an incident under way', () => {
    it('sends someone who becomes part of an incident by pressing its current state, with the instructions given before', async () => {
      const adminPhone = await device('admin');
      const lockdown = await h.raise('anna', { alarmTypeId: inrymning() });
      expect(lockdown.status).toBe(201);
      const id: string = lockdown.body.incident.id;
      expect((await h.api('kris', 'POST', `/incidents/${id}/messages`, { kind: 'instruction', body: 'Stanna i klassrummen' })).status).toBe(200);
      const joined = await h.raise('admin', { alarmTypeId: inrymning() });
      expect(joined.body.outcome).toBe('joined');

      const resyncWith = (d: TestDevice) => d.resyncs.find((r) => r.reason === 'joined_incident' && r.incidents?.some((i) => i.incident.id === id));
      await adminPhone.waitFor((d) => resyncWith(d) !== undefined, 5000, 'a resync with the incident');
      const state = resyncWith(adminPhone)?.incidents?.find((i) => i.incident.id === id) as { messages?: { body: string }[] } | undefined;
      expect(state?.messages?.map((m) => m.body)).toEqual(['Stanna i klassrummen']);
    });
  });

  describe('drills', () => {
    it('refuses staff a drill and marks a rektor\'s drill as exercise in every event', async () => {
      const before = await t.snapshot();
      const refused = await h.raise('bertil', { alarmTypeId: inrymning(), drill: true });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('forbidden');
      expect(await t.snapshot()).toBe(before);

      const bertilPhone = await device('bertil');
      const drill = await h.raise('rektor', { alarmTypeId: inrymning(), drill: true });
      expect(drill.status).toBe(201);
      const id: string = drill.body.incident.id;
      expect(drill.body.incident.drill).toBe(true);
      expect(drill.body.instruction.drill).toBe(true);
      await bertilPhone.waitFor((d) => d.of('raised', id).length === 1, 5000, 'drill arrives');
      expect(bertilPhone.of('raised', id)[0]?.data).toMatchObject({ incident: { drill: true }, instruction: { drill: true } });
      await expect.poll(() => count(t, "SELECT 1 FROM incident_events WHERE incident_id = $1 AND type = 'delivered'", [id]), { timeout: 5000 }).toBe(1);
      expect((await h.api('rektor', 'POST', `/incidents/${id}/resolve`, {})).status).toBe(200);

      const events = (await h.api('kris', 'GET', `/incidents/${id}/timeline`)).body.events as { type: string; data: Record<string, { drill?: boolean } | null> }[];
      expect(events.map((e) => e.type)).toEqual(['raised', 'recipients_computed', 'delivered', 'resolved']);
      const summaries = events.filter((e) => e.data.incident !== undefined);
      expect(summaries.length).toBeGreaterThanOrEqual(2);
      for (const e of summaries) expect(e.data.incident?.drill, e.type).toBe(true);
      for (const e of events.filter((x) => x.type === 'raised' || x.type === 'recipients_computed')) {
        expect(e.data.instruction?.drill, e.type).toBe(true);
      }
    });

    it('refuses a drill while a real alarm is active at the site, so it cannot drown out the real one', async () => {
      const real = await h.raise('anna', { alarmTypeId: brand() });
      expect(real.status).toBe(201);
      const before = await t.snapshot();
      const drill = await h.raise('rektor', { alarmTypeId: inrymning(), drill: true, confirmContradiction: true });
      expect(drill.status).toBe(409);
      expect(drill.body.code).toBe('real_alarm_active');
      expect(drill.body.details.current).toMatchObject({ typeKey: 'brand', drill: false });
      expect(await t.snapshot()).toBe(before);
    });
  });

  describe('during an incident', () => {
    it('keeps every response change and shows the latest in the roll call', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      const answer = (who: Who, body: Record<string, unknown>) => h.api(who, 'POST', `/incidents/${id}/responses`, body);
      expect((await answer('anna', { status: 'safe' })).status).toBe(200);
      const changed = await answer('anna', { status: 'need_help', text: 'Fast i trapphuset', location: 'Trapphus B' });
      expect(changed.status).toBe(200);
      expect(changed.body.events[0]).toMatchObject({ type: 'responded', data: { status: 'need_help' } });
      expect((await answer('bertil', { status: 'not_on_site' })).status).toBe(200);

      const kept = (await t.db.query<{ status: string }>(
        'SELECT status FROM incident_responses WHERE incident_id = $1 AND person_id = $2 ORDER BY id', [id, h.person.anna],
      )).rows.map((r) => r.status);
      expect(kept).toEqual(['safe', 'need_help']);
      await expect(t.db.query('UPDATE incident_responses SET status = \'safe\' WHERE incident_id = $1', [id])).rejects.toThrow();

      const roll = await h.api('kris', 'GET', `/incidents/${id}/rollcall`);
      expect(roll.status).toBe(200);
      const byName = new Map((roll.body.people as { name: string; status: string | null; text: string | null }[]).map((p) => [p.name, p]));
      expect(byName.get('Anna Andersson')).toMatchObject({ status: 'need_help', text: 'Fast i trapphuset' });
      expect(byName.get('Bertil Berg')).toMatchObject({ status: 'not_on_site' });
      expect(byName.get('Cecilia Carlsson')).toMatchObject({ status: null });
      expect(roll.body.summary).toMatchObject({ targeted: 5, safe: 0, needHelp: 1, notOnSite: 1, noAnswer: 3 });
      expect(roll.body.people[0].name).toBe('Anna Andersson');

      const outsider = await h.api('frida', 'POST', `/incidents/${id}/responses`, { status: 'safe' });
      expect(outsider.status).toBe(404);
    });

    it('lets staff reply but not instruct, and brings a crisis lead\'s instruction to staff devices', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      const [bertilPhone, ceciliaPhone, kimPhone] = [await device('bertil'), await device('cecilia'), await device('kris')];
      const say = (who: Who, kind: string, body: string) => h.api(who, 'POST', `/incidents/${id}/messages`, { kind, body });

      const before = await t.snapshot();
      const refused = await say('bertil', 'instruction', 'Alla ut!');
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('forbidden');
      expect(await t.snapshot()).toBe(before);

      const reply = await say('bertil', 'reply', 'Klass 7B är ute');
      expect(reply.status).toBe(200);
      expect(reply.body.events[0]).toMatchObject({ type: 'reply', data: { body: 'Klass 7B är ute' } });
      const instruction = await say('kris', 'instruction', 'Samling vid fotbollsplanen');
      expect(instruction.status).toBe(200);

      for (const phone of [bertilPhone, ceciliaPhone]) {
        await phone.waitFor((d) => d.of('message', id).length === 1, 5000, 'instruction arrives');
        expect(phone.of('message', id)[0]?.data).toMatchObject({ body: 'Samling vid fotbollsplanen', authorId: h.person.kris, authorName: 'Kim Krisledare' });
      }
      await kimPhone.waitFor((d) => d.of('reply', id).length === 1, 5000, 'reply reaches the lead');
      // The reply was published before the instruction: a colleague who has the instruction would have had it.
      expect(ceciliaPhone.of('reply', id)).toEqual([]);
      expect(await count(t, 'SELECT 1 FROM incident_messages WHERE incident_id = $1', [id])).toBe(2);
    });

    it('gives the leads a roll call of names with delivery, acknowledgement and status (an answer counts as seen), and refuses it to staff', async () => {
      const bertilPhone = await device('bertil');
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      await bertilPhone.waitFor((d) => d.of('raised', id).length === 1, 5000, 'alarm arrives');
      const ack = await bertilPhone.emit('receipt', { incidentId: id, kind: 'acknowledged' });
      expect(ack).toEqual({ ok: true, data: null });
      expect((await h.api('cecilia', 'POST', `/incidents/${id}/responses`, { status: 'safe' })).status).toBe(200);

      await expect.poll(async () => (await h.api('kris', 'GET', `/incidents/${id}/rollcall`)).body.summary.delivered, { timeout: 5000 }).toBe(2);
      const roll = await h.api('kris', 'GET', `/incidents/${id}/rollcall`);
      expect(roll.body.summary).toEqual({ targeted: 5, delivered: 2, acknowledged: 2, safe: 1, needHelp: 0, notOnSite: 0, noAnswer: 4 });
      const byName = new Map((roll.body.people as { name: string }[]).map((p) => [p.name, p]));
      expect(sorted([...byName.keys()])).toEqual(sorted(['Anna Andersson', 'Bertil Berg', 'Cecilia Carlsson', 'Kim Krisledare', 'Rebecka Rektor']));
      expect(byName.get('Bertil Berg')).toMatchObject({ deliveredAt: expect.any(String), acknowledgedAt: expect.any(String), status: null, lead: false });
      expect(byName.get('Cecilia Carlsson')).toMatchObject({ deliveredAt: expect.any(String), acknowledgedAt: expect.any(String), status: 'safe' });
      expect(byName.get('Kim Krisledare')).toMatchObject({ lead: true });

      for (const lead of ['rektor', 'admin'] as const) expect((await h.api(lead, 'GET', `/incidents/${id}/rollcall`)).status).toBe(200);
      for (const staff of ['anna', 'bertil'] as const) {
        const refused = await h.api(staff, 'GET', `/incidents/${id}/rollcall`);
        expect(refused.status).toBe(403);
        expect(refused.body.code).toBe('forbidden');
      }
    });
  });

  describe('ending an incident', () => {
    it('does not let whoever raised an alarm cancel it: another lead must', async () => {
      const threat = await h.raise('kris', { alarmTypeId: t.ids.alarmType.hot });
      expect(threat.status).toBe(201);
      const id: string = threat.body.incident.id;
      const before = await t.snapshot();
      const own = await h.api('kris', 'POST', `/incidents/${id}/cancel`, { reason: 'Felaktigt larm' });
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('forbidden');
      expect(await t.snapshot()).toBe(before);
      expect((await h.api('rektor', 'POST', `/incidents/${id}/cancel`, { reason: 'Felaktigt larm' })).status).toBe(200);
    });

    it('lets only the site\'s leads resolve or cancel, and a cancel needs a reason', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      const before = await t.snapshot();
      for (const who of ['anna', 'bertil'] as const) {
        for (const [action, body] of [['resolve', {}], ['cancel', { reason: 'Falsklarm' }]] as const) {
          const refused = await h.api(who, 'POST', `/incidents/${id}/${action}`, body);
          expect(refused.status, `${who} ${action}`).toBe(403);
          expect(refused.body.code).toBe('forbidden');
        }
      }
      const otherSite = await h.api('solrosRektor', 'POST', `/incidents/${id}/resolve`, {});
      expect(otherSite.status).toBe(404);
      for (const body of [{}, { reason: '   ' }]) {
        const noReason = await h.api('rektor', 'POST', `/incidents/${id}/cancel`, body);
        expect(noReason.status).toBe(400);
        expect(noReason.body.code).toBe('validation_failed');
      }
      expect(await t.snapshot()).toBe(before);

      const cancelled = await h.api('rektor', 'POST', `/incidents/${id}/cancel`, { reason: 'Brandlarmet löste ut av matos' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.events[0]).toMatchObject({ type: 'cancelled', data: { reason: 'Brandlarmet löste ut av matos', instruction: null } });
      expect((await h.api('kris', 'GET', `/incidents/${id}`)).body.incident).toMatchObject({
        state: 'cancelled', endReason: 'Brandlarmet löste ut av matos', endedBy: { id: h.person.rektor },
      });

      for (const lead of ['kris', 'admin'] as const) {
        const next = await h.raise('anna', { alarmTypeId: brand() });
        const resolved = await h.api(lead, 'POST', `/incidents/${next.body.incident.id}/resolve`, { note: 'Faran över' });
        expect(resolved.status, lead).toBe(200);
        expect(resolved.body.events[0].type).toBe('resolved');
      }
    });

    it('never lets an ended incident be ended, answered or messaged again, nor become active', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      expect((await h.api('kris', 'POST', `/incidents/${id}/resolve`, {})).status).toBe(200);

      const before = await t.snapshot();
      const attempts = [
        await h.api('kris', 'POST', `/incidents/${id}/resolve`, {}),
        await h.api('rektor', 'POST', `/incidents/${id}/cancel`, { reason: 'Ångrar' }),
        await h.api('anna', 'POST', `/incidents/${id}/responses`, { status: 'safe' }),
        await h.api('kris', 'POST', `/incidents/${id}/messages`, { kind: 'instruction', body: 'Tillbaka in' }),
        await h.api('bertil', 'POST', `/incidents/${id}/messages`, { kind: 'reply', body: 'Okej' }),
      ];
      for (const res of attempts) {
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('incident_ended');
      }
      expect(await t.snapshot()).toBe(before);

      await expect(t.db.query("UPDATE incidents SET state = 'active', ended_at = NULL WHERE id = $1", [id])).rejects.toThrow(/cannot become active/);
      await expect(t.db.query("UPDATE incidents SET state = 'cancelled' WHERE id = $1", [id])).rejects.toThrow(/cannot become cancelled/);
      expect((await h.api('kris', 'GET', `/incidents/${id}`)).body.incident.state).toBe('resolved');

      const again = await h.raise('anna', { alarmTypeId: brand() });
      expect(again.status).toBe(201);
      expect(again.body.outcome).toBe('raised');
      expect(again.body.incident.id).not.toBe(id);
    });

    it('ends an incident once when two leads end it at the same moment', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      const answers = await Promise.all([
        h.api('kris', 'POST', `/incidents/${id}/resolve`, {}),
        h.api('rektor', 'POST', `/incidents/${id}/cancel`, { reason: 'Falsklarm' }),
      ]);
      expect(sorted(answers.map((a) => a.status))).toEqual([200, 409]);
      const endings = (await timelineRows(t, id)).filter((e) => e.type === 'resolved' || e.type === 'cancelled');
      expect(endings).toHaveLength(1);
    });
  });

  describe('who sees what', () => {
    it('has one lead rule: whoever the API lets lead an incident is alerted as its lead or is an organisation admin, and a system admin leads no other organisation\'s', async () => {
      const incident = (await h.raise('anna', { alarmTypeId: t.ids.alarmType.hot })).body.incident.id as string;
      const leadsByRecipients = new Set((await t.db.query<{ person_id: string }>(
        'SELECT person_id FROM incident_recipients WHERE incident_id = $1 AND lead', [incident],
      )).rows.map((r) => r.person_id));
      const orgAdmins = new Set((await t.db.query<{ person_id: string }>(
        "SELECT person_id FROM role_assignments WHERE role = 'org_admin'",
      )).rows.map((r) => r.person_id));
      const candidates: Who[] = ['admin', 'rektor', 'kris', 'anna', 'bertil', 'cecilia', 'solrosRektor', 'frida', 'lisa', 'bo', 'klara'];
      for (const who of candidates) {
        const rollCall = await h.api(who, 'GET', `/incidents/${incident}/rollcall`);
        const leadsByApi = rollCall.status === 200;
        const byRule = leadsByRecipients.has(h.person[who]) || (orgAdmins.has(h.person[who]) && who !== 'klara');
        expect(leadsByApi, who).toBe(byRule);
      }
      expect([...leadsByRecipients].sort()).toEqual([h.person.kris, h.person.rektor].sort());
      const operator = await t.loginAs('system');
      for (const path of ['', '/rollcall', '/timeline']) {
        expect((await t.request({ method: 'GET', url: `/api/v1/incidents/${incident}${path}`, token: operator })).status, path).toBe(404);
      }
      const resolve = await t.request({ method: 'POST', url: `/api/v1/incidents/${incident}/resolve`, token: operator, body: {} });
      expect(resolve.status).toBe(404);
      expect((await h.api('admin', 'POST', `/incidents/${incident}/resolve`, {})).status).toBe(200);
    });

    it('lists active and all incidents for recipients and leads, never for another organisation or site', async () => {
      const first = await h.raise('anna', { alarmTypeId: brand() });
      const ended: string = first.body.incident.id;
      expect((await h.api('kris', 'POST', `/incidents/${ended}/resolve`, {})).status).toBe(200);
      const second = await h.raise('anna', { alarmTypeId: t.ids.alarmType.hot });
      const active: string = second.body.incident.id;
      const list = async (who: Who, query: string) =>
        ((await h.api(who, 'GET', `/incidents${query}`)).body.incidents as { id: string }[]).map((i) => i.id);

      for (const who of ['bertil', 'kris', 'rektor', 'admin'] as const) {
        const activeList = await list(who, '?state=active');
        expect(activeList, who).toContain(active);
        expect(activeList, who).not.toContain(ended);
        expect(await list(who, '?state=all'), who).toEqual(expect.arrayContaining([active, ended]));
      }
      const byDefault = await list('bertil', '');
      expect(byDefault).toContain(active);
      expect(byDefault).not.toContain(ended);

      for (const who of ['lisa', 'bo', 'klara', 'frida', 'solrosRektor'] as const) {
        for (const query of ['?state=active', '?state=all']) {
          const seen = await list(who, query);
          expect(seen, `${who} ${query}`).not.toContain(active);
          expect(seen, `${who} ${query}`).not.toContain(ended);
        }
        for (const id of [active, ended]) {
          const res = await h.api(who, 'GET', `/incidents/${id}`);
          expect(res.status, who).toBe(404);
          expect(res.body.code).toBe('not_found');
        }
      }
    });

    it('shows leads the whole timeline and staff only what went to everyone and their own actions', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      const post = (who: Who, what: string, body: unknown) => h.api(who, 'POST', `/incidents/${id}/${what}`, body);
      expect((await post('anna', 'responses', { status: 'need_help' })).status).toBe(200);
      expect((await post('bertil', 'responses', { status: 'safe' })).status).toBe(200);
      expect((await post('bertil', 'messages', { kind: 'reply', body: 'Jag är vid entrén' })).status).toBe(200);
      expect((await post('kris', 'messages', { kind: 'instruction', body: 'Stanna där ni är' })).status).toBe(200);

      const rows = await timelineRows(t, id);
      const ids = async (who: Who) => ((await h.api(who, 'GET', `/incidents/${id}/timeline`)).body.events as { id: string }[]).map((e) => e.id);
      expect(await ids('kris')).toEqual(rows.map((r) => r.id));
      expect(await ids('admin')).toEqual(rows.map((r) => r.id));
      const bertilSees = rows.filter((r) => r.audience === 'all' || r.actor_person_id === h.person.bertil);
      expect(await ids('bertil')).toEqual(bertilSees.map((r) => r.id));
      const types = (await h.api('bertil', 'GET', `/incidents/${id}/timeline`)).body.events.map((e: { type: string }) => e.type);
      expect(types).toEqual(['raised', 'delivered', 'acknowledged', 'responded', 'reply', 'message']);
      expect(rows.some((r) => r.type === 'responded' && r.actor_person_id === h.person.anna)).toBe(true);
    });

    it('keeps the timeline append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      const before = await timelineRows(t, id);
      await expect(t.db.query("UPDATE incident_events SET type = 'resolved' WHERE incident_id = $1", [id])).rejects.toThrow();
      await expect(t.db.query('DELETE FROM incident_events WHERE incident_id = $1', [id])).rejects.toThrow();
      await expect(t.db.query('TRUNCATE incident_events CASCADE')).rejects.toThrow();
      expect(await timelineRows(t, id)).toEqual(before);
    });
  });

  describe('bad input', () => {
    it('answers timestamps PostgreSQL cannot hold with 400, not 500', async () => {
      const cases: [string, number][] = [
        ['0000-01-01T00:00:00Z', 400], ['0000-12-31T23:59:59.999Z', 400], ['0001-01-01T00:00:00+14:00', 200],
        ['9999-12-31T23:59:59-14:00', 200], ['2024-02-30T00:00:00Z', 400], ['2024-01-01T00:00:60Z', 400],
      ];
      for (const [before, status] of cases) {
        const res = await h.api('anna', 'GET', `/incidents?state=all&before=${encodeURIComponent(before)}`);
        expect(res.status, `${before}: ${JSON.stringify(res.body)}`).toBe(status);
        if (status === 400) expect(res.body.code).toBe('validation_failed');
      }
    });

    it('never surfaces a database error as a 500, and a refused request changes nothing', async () => {
      const fire = await h.raise('anna', { alarmTypeId: brand() });
      const id: string = fire.body.incident.id;
      const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 260 }), fc.string({ unit: 'grapheme', maxLength: 60 }));
      const timestamp = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z'),
      );
      const calls = fc.oneof(
        text.map((s) => ({ method: 'POST' as const, url: '/alarms', body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: brand(), location: s, message: s } })),
        text.map((s) => ({ method: 'POST' as const, url: `/incidents/${id}/responses`, body: { status: 'safe', text: s, location: s } })),
        text.map((s) => ({ method: 'POST' as const, url: `/incidents/${id}/messages`, body: { kind: 'reply', body: s } })),
        timestamp.map((s) => ({ method: 'GET' as const, url: `/incidents?state=all&before=${encodeURIComponent(s)}`, body: undefined })),
        fc.string({ maxLength: 40 }).map((s) => ({ method: 'GET' as const, url: `/incidents/${encodeURIComponent(s)}/timeline`, body: undefined })),
      );
      await fc.assert(fc.asyncProperty(calls, async (call) => {
        const before = await t.snapshot();
        const res = await h.api('anna', call.method, call.url, call.body);
        expect(res.status, `${call.method} ${call.url} ${JSON.stringify(call.body)}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(typeof res.body.code).toBe('string');
          expect(await t.snapshot()).toBe(before);
        }
      }), { numRuns: 60 });
    });

    it('a raise that meets another transaction in a deadlock answers 503 try_again, writes nothing, and succeeds when sent again', async () => {
      const before = await t.snapshot();
      const other = await t.db.connect();
      const pressId = randomUUID();
      try {
        await other.query('BEGIN');
        // This side waits longest before looking for a deadlock, so Postgres ends the raise's transaction.
        await other.query("SET LOCAL deadlock_timeout = '20s'");
        await other.query('LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE');
        const raising = h.api('anna', 'POST', '/alarms', { pressId, siteId: t.ids.site.vasaskolan, alarmTypeId: brand() });
        // The raise holds the site's lock and waits for the table; this side then waits for the site's lock.
        await new Promise((r) => setTimeout(r, 300));
        const crossing = other.query("SELECT pg_advisory_xact_lock(hashtextextended('site:' || $1::text, 0))", [t.ids.site.vasaskolan]);
        const res = await raising;
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        expect(res.body.code).toBe('try_again');
        await crossing;
        await other.query('ROLLBACK');
      } finally {
        other.release();
      }
      expect(await t.snapshot()).toBe(before);
      const again = await h.api('anna', 'POST', '/alarms', { pressId, siteId: t.ids.site.vasaskolan, alarmTypeId: brand() });
      expect(again.status).toBe(201);
    });

    it('refuses alarms at sites and of types the caller may not use, without writing anything', async () => {
      const before = await t.snapshot();
      const cases: [Who, Record<string, unknown>, number, string][] = [
        ['anna', { siteId: t.ids.site.biblioteket, alarmTypeId: brand() }, 404, 'not_found'],
        ['anna', { siteId: t.ids.site.solrosen, alarmTypeId: brand() }, 403, 'forbidden'],
        ['anna', { alarmTypeId: randomUUID() }, 400, 'invalid_reference'],
        ['lisa', { alarmTypeId: brand() }, 404, 'not_found'],
        ['lisa', { siteId: t.ids.site.biblioteket, alarmTypeId: inrymning() }, 403, 'forbidden'],
      ];
      for (const [who, body, status, code] of cases) {
        const res = await h.raise(who, body);
        expect(res.status, `${who} ${JSON.stringify(body)}`).toBe(status);
        expect(res.body.code).toBe(code);
      }
      expect(await t.snapshot()).toBe(before);
    });
  });

  it('a lockdown raised by one teacher reaches a colleague\'s device with the instruction, and the receipt reaches the roll call', async () => {
    const bertilPhone = await device('bertil');
    const res = await h.raise('anna', { alarmTypeId: inrymning(), location: 'Sal 204' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.outcome).toBe('raised');
    expect(res.body.instruction.typeKey).toBe('inrymning');
    const incidentId: string = res.body.incident.id;
    await bertilPhone.waitFor((d) => d.of('raised', incidentId).length === 1, 5000, 'alarm arrives');
    expect(bertilPhone.of('raised', incidentId)[0]?.data.instruction).toMatchObject({ typeKey: 'inrymning', sound: 'silent' });
    await expect.poll(async () => (await h.api('kris', 'GET', `/incidents/${incidentId}/rollcall`)).body.summary?.delivered, { timeout: 5000 }).toBe(1);
  });
});

describe('the join window, on an injected clock', () => {
  let t: TestApp;
  let h: Harness;
  let now = Date.now();
  const clock: Clock = { now: () => new Date(now) };

  beforeAll(async () => {
    // No delivery worker: advancing this clock past escalation times would otherwise add escalation to the timelines asserted here.
    t = await startApp({ ALARM_JOIN_WINDOW_SECONDS: '60', DELIVERY_WORKER: 'false' }, { clock });
    h = await harness(t);
  });
  afterAll(() => t?.close());

  it('joins a press within the window for the leads, and re-raises one after it to everyone', async () => {
    const lockdown = { alarmTypeId: t.ids.alarmType.inrymning };
    const first = await h.raise('anna', lockdown);
    expect(first.status).toBe(201);
    const id: string = first.body.incident.id;

    now += 30_000;
    const joined = await h.raise('bertil', lockdown);
    expect(joined.status).toBe(200);
    expect(joined.body.outcome).toBe('joined');
    expect(joined.body.incident.id).toBe(id);

    now += 61_000;
    const reraised = await h.raise('cecilia', lockdown);
    expect(reraised.status).toBe(200);
    expect(reraised.body.outcome).toBe('reraised');
    expect(reraised.body.incident.id).toBe(id);

    const rows = await timelineRows(t, id);
    expect(rows.map((r) => [r.type, r.audience])).toEqual([['raised', 'all'], ['recipients_computed', 'leads'], ['joined', 'leads'], ['reraised', 'all']]);
    const staffSees = ((await h.api('cecilia', 'GET', `/incidents/${id}/timeline`)).body.events as { type: string }[]).map((e) => e.type);
    expect(staffSees).toEqual(['raised', 'reraised']);
    const incident = (await h.api('kris', 'GET', `/incidents/${id}`)).body.incident;
    expect(incident.pressers.map((p: { personId: string }) => p.personId)).toEqual([h.person.anna, h.person.bertil, h.person.cecilia]);
    expect(Date.parse(incident.lastPressedAt)).toBe(now);
  });

  it('refuses to alert everyone again with a drill while a real alarm is active, and asks to confirm a contradicting re-alert', async () => {
    const kris = (path: string) => h.api('kris', 'POST', path, {});
    for (const { id } of (await t.db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows) await kris(`/incidents/${id}/resolve`);
    const fireDrill = await h.raise('rektor', { alarmTypeId: t.ids.alarmType.brand, drill: true });
    expect(fireDrill.status).toBe(201);
    const lockdown = await h.raise('anna', { alarmTypeId: t.ids.alarmType.inrymning });
    expect(lockdown.status).toBe(201);

    now += 5 * 60_000;
    const before = await t.snapshot();
    const drillAgain = await h.raise('rektor', { alarmTypeId: t.ids.alarmType.brand, drill: true });
    expect(drillAgain.status).toBe(409);
    expect(drillAgain.body.code).toBe('real_alarm_active');
    expect(await t.snapshot()).toBe(before);

    const fire = await h.raise('anna', { alarmTypeId: t.ids.alarmType.brand, confirmContradiction: true });
    expect(fire.status).toBe(201);
    now += 5 * 60_000;
    const fireAgain = await h.raise('bertil', { alarmTypeId: t.ids.alarmType.brand });
    expect(fireAgain.status).toBe(409);
    expect(fireAgain.body.code).toBe('contradicts_instruction');
    expect(fireAgain.body.details.current).toMatchObject({ typeKey: 'inrymning' });
    const confirmed = await h.raise('bertil', { alarmTypeId: t.ids.alarmType.brand, confirmContradiction: true });
    expect(confirmed.body.outcome).toBe('reraised');
  });
});
