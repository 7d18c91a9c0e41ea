import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { TestDevice, type Envelope } from './helpers/device.js';
import { type Who } from './helpers/demo.js';

/**
 * The Socket.IO protocol on one node: handshake, tenant isolation of every socket event, bad
 * payloads, raising with an ack, catch-up by cursor, receipts and roll-call summaries
 * (invariants 2, 3, 4, 6, 7, 9).
 */

/** The demo people this file acts as. */
const PEOPLE: Who[] = ['admin', 'kris', 'anna', 'bertil', 'cecilia', 'lisa'];

interface ConnectError {
  message: string;
  data?: { code?: string };
}

type CatchUpData =
  | { kind: 'events'; cursor: string; events: Envelope[] }
  | { kind: 'resync'; cursor: string; reason: string; incidents: { incident: { id: string; siteId: string } }[] };

/** Opens a raw socket with this handshake and returns the refusal (fails if the server lets it in). */
function refusal(url: string, auth: Record<string, unknown>): Promise<ConnectError> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
    socket.once('connect', () => {
      socket.disconnect();
      reject(new Error(`handshake ${JSON.stringify(auth)} was accepted`));
    });
    socket.once('connect_error', (err) => {
      socket.disconnect();
      resolve(err as unknown as ConnectError);
    });
  });
}

describe('realtime protocol on one node', () => {
  let t: TestApp;
  let url: string;
  const token = {} as Record<Who, string>;
  const person = {} as Record<Who, string>;
  const devices: TestDevice[] = [];

  const device = async (who: Who | string, options: { deviceId?: string; cursor?: string | null; epoch?: string | null; autoReceipt?: boolean } = {}) => {
    const d = await TestDevice.connect({ urls: [url], token: who in token ? token[who as Who] : who, ...options });
    devices.push(d);
    await d.waitFor((x) => x.cursor !== null, 5000, 'initial catch-up');
    return d;
  };
  const raise = (who: Who, body: Record<string, unknown>): Promise<Response> => t.request({
    method: 'POST', url: '/api/v1/alarms', token: token[who],
    body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, ...body },
  });
  const raised = async (who: Who, body: Record<string, unknown>): Promise<string> => {
    const res = await raise(who, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id as string;
  };
  const count = async (sql: string, params: unknown[]) =>
    Number((await t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${sql}) x`, params)).rows[0]?.n);

  beforeAll(async () => {
    t = await startApp();
    url = await t.listen();
    for (const who of PEOPLE) {
      token[who] = await t.loginAs(who);
      person[who] = t.personId(who);
    }
  });

  afterEach(async () => {
    for (const d of devices.splice(0)) d.close();
    await t.settleDevices();
    await t.endActiveIncidents(token.admin);
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
  });

  describe('handshake', () => {
    it('refuses a handshake without a token, with a garbage or revoked token, or with a bad device id or cursor', async () => {
      const deviceId = 'phone-0123456789';
      const revoked = await t.loginAs('bertil');
      expect((await t.request({ method: 'POST', url: '/api/v1/auth/logout', token: revoked })).status).toBe(204);
      const lookalike = `${token.bertil.slice(0, -4)}${token.bertil.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      const cases: [Record<string, unknown>, string][] = [
        [{}, 'validation_failed'],
        [{ deviceId }, 'validation_failed'],
        [{ token: '', deviceId }, 'validation_failed'],
        [{ token: 12345, deviceId }, 'validation_failed'],
        [{ token: 'garbage', deviceId }, 'unauthenticated'],
        [{ token: lookalike, deviceId }, 'unauthenticated'],
        [{ token: revoked, deviceId }, 'unauthenticated'],
        [{ token: token.bertil }, 'validation_failed'],
        [{ token: token.bertil, deviceId: 'x' }, 'validation_failed'],
        [{ token: token.bertil, deviceId: 'phone with spaces' }, 'validation_failed'],
        [{ token: token.bertil, deviceId, cursor: 'latest' }, 'validation_failed'],
        [{ token: token.bertil, deviceId, cursor: -1 }, 'validation_failed'],
        [{ token: token.bertil, deviceId, cursor: '1', epoch: 'not-an-epoch' }, 'validation_failed'],
      ];
      for (const [auth, code] of cases) {
        const err = await refusal(url, auth);
        expect(err.data?.code, JSON.stringify(auth)).toBe(code);
        expect(typeof err.message).toBe('string');
      }
    });
  });

  describe('tenant isolation', () => {
    it('never sends another organisation\'s device Vasaskolan events, not live and not on sync', async () => {
      const lisaPhone = await device('lisa');
      const bertilPhone = await device('bertil');
      const startCursor = lisaPhone.cursor;
      const id = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
      expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/messages`, token: token.kris, body: { kind: 'instruction', body: 'Ut' } })).status).toBe(200);
      await bertilPhone.waitFor((d) => d.of('message', id).length === 1, 5000, 'Vasaskolan events arrive');

      for (const cursor of [startCursor, '0', null]) {
        const ack = await lisaPhone.emit<CatchUpData>('sync', { cursor, epoch: lisaPhone.epoch });
        if (!ack.ok) throw new Error(JSON.stringify(ack.error));
        const seen = ack.data.kind === 'events'
          ? ack.data.events.map((e) => e.siteId)
          : ack.data.incidents.map((i) => i.incident.siteId);
        expect(seen, `sync from ${cursor}`).not.toContain(t.ids.site.vasaskolan);
      }
      expect(lisaPhone.events.filter((e) => e.siteId === t.ids.site.vasaskolan || e.incidentId === id)).toEqual([]);
    });

    it('lets another organisation\'s device neither raise at Vasaskolan nor touch its incidents with receipts', async () => {
      const lisaPhone = await device('lisa');
      const id = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
      const before = await t.snapshot();

      const raiseAck = await lisaPhone.raise({ siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand, confirmContradiction: true });
      expect(raiseAck).toMatchObject({ ok: false, error: { code: 'not_found' } });
      const missingSite = await lisaPhone.raise({ siteId: randomUUID(), alarmTypeId: t.ids.alarmType.brand });
      expect(raiseAck).toEqual(missingSite);

      for (const kind of ['delivered', 'acknowledged']) {
        const receipt = await lisaPhone.emit('receipt', { incidentId: id, kind });
        const unknown = await lisaPhone.emit('receipt', { incidentId: randomUUID(), kind });
        // The same answer HTTP gives: never "committed" for a receipt that was not written.
        expect(receipt).toMatchObject({ ok: false, error: { code: 'not_found' } });
        expect(receipt, 'the answer tells nothing about whether the incident exists').toEqual(unknown);
      }
      await t.app.alarms.flushReceipts();
      expect(await t.snapshot()).toBe(before);
      expect(await count('SELECT 1 FROM incident_receipts WHERE person_id = $1', [person.lisa])).toBe(0);
    });
  });

  describe('bad payloads', () => {
    it('answers bad sync, receipt and raise payloads with validation_failed and changes nothing', async () => {
      const phone = await device('anna');
      const site = t.ids.site.vasaskolan;
      const type = t.ids.alarmType.brand;
      const raiseBody = { pressId: randomUUID(), siteId: site, alarmTypeId: type };
      const cases: [string, unknown][] = [
        ['sync', null], ['sync', 'latest'], ['sync', []], ['sync', {}], ['sync', { cursor: 'abc' }], ['sync', { cursor: 5 }],
        ['sync', { cursor: '-1' }], ['sync', { cursor: '9'.repeat(19) }], ['sync', { cursor: '1', extra: true }],
        ['sync', { cursor: '1', epoch: 'not-an-epoch' }], ['sync', { cursor: '1', epoch: 7 }],
        ['receipt', null], ['receipt', {}], ['receipt', { incidentId: 'x', kind: 'delivered' }],
        ['receipt', { incidentId: randomUUID(), kind: 'read' }], ['receipt', { incidentId: randomUUID(), kind: 'delivered', deviceId: 'other' }],
        ['raise', null], ['raise', {}], ['raise', { ...raiseBody, pressId: 'press-1' }], ['raise', { ...raiseBody, siteId: 'skolan' }],
        ['raise', { ...raiseBody, location: 'x'.repeat(201) }], ['raise', { ...raiseBody, message: 'x'.repeat(1001) }],
        ['raise', { ...raiseBody, drill: 'yes' }], ['raise', { ...raiseBody, extra: 1 }],
        ['raise', { ...raiseBody, location: 'Sal\u0000204' }], ['raise', { ...raiseBody, message: '\u0000' }],
      ];
      const before = await t.snapshot();
      for (const [name, payload] of cases) {
        const ack = await phone.emit(name, payload);
        expect(ack, `${name} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code: 'validation_failed', message: expect.any(String) } });
      }
      await t.app.alarms.flushReceipts();
      expect(await t.snapshot()).toBe(before);
      expect(phone.socket.connected).toBe(true);
    });
  });

  describe('raising over the socket', () => {
    it('makes one incident of the same press id sent over HTTP and over the socket, in either order', async () => {
      const phone = await device('anna');
      const viaHttpFirst = randomUUID();
      const http = await raise('anna', { pressId: viaHttpFirst, alarmTypeId: t.ids.alarmType.brand });
      expect(http.status).toBe(201);
      const socket = await phone.emit<{ outcome: string; incident: { id: string } }>('raise', {
        pressId: viaHttpFirst, siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand,
      });
      expect(socket).toMatchObject({ ok: true, data: { outcome: 'replayed', incident: { id: http.body.incident.id } } });

      const viaSocketFirst = randomUUID();
      const first = await phone.raise({ pressId: viaSocketFirst, siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.utrymning });
      if (!first.ok) throw new Error(JSON.stringify(first.error));
      expect(first.data).toMatchObject({ outcome: 'raised', incident: { drill: false }, instruction: { typeKey: 'brand' } });
      const again = await raise('anna', { pressId: viaSocketFirst, alarmTypeId: t.ids.alarmType.utrymning });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ outcome: 'replayed', incident: { id: first.data.incident.id } });

      for (const pressId of [viaHttpFirst, viaSocketFirst]) {
        expect(await count('SELECT 1 FROM incident_presses WHERE press_id = $1', [pressId])).toBe(1);
      }
      expect(await count("SELECT 1 FROM incidents WHERE state = 'active'", [])).toBe(2);
    });

    it('makes one incident of one press id sent at once to two sites, over the socket and over HTTP', async () => {
      const phone = await device('kris', { autoReceipt: false });
      const sites = [t.ids.site.vasaskolan, t.ids.site.solrosen];
      const viaSocket = randomUUID();
      const acks = await Promise.all(sites.map((siteId) => phone.emit<{ outcome: string; incident: { id: string } }>('raise', {
        pressId: viaSocket, siteId, alarmTypeId: t.ids.alarmType.hot,
      })));
      const outcomes = acks.map((a) => (a.ok ? a.data : a.error));
      expect(outcomes.map((o) => ('outcome' in o ? o.outcome : o.code)).sort()).toEqual(['raised', 'replayed']);
      expect(new Set(outcomes.map((o) => ('incident' in o ? o.incident.id : null))).size).toBe(1);

      const viaHttp = randomUUID();
      const answers = await Promise.all(sites.map((siteId) => t.request({
        method: 'POST', url: '/api/v1/alarms', token: token.kris, body: { pressId: viaHttp, siteId, alarmTypeId: t.ids.alarmType.brand, confirmContradiction: true },
      })));
      expect(answers.map((a) => a.body.outcome).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual(['raised', 'replayed']);
      expect(answers[0]?.body.incident.id).toBe(answers[1]?.body.incident.id);
      for (const pressId of [viaSocket, viaHttp]) expect(await count('SELECT 1 FROM incident_presses WHERE press_id = $1', [pressId])).toBe(1);
      expect(await count("SELECT 1 FROM incidents WHERE state = 'active'", [])).toBe(2);
    });

    it('refuses over the socket what HTTP refuses: a contradiction without confirmation, a staff drill, a reused press id', async () => {
      const phone = await device('bertil', { autoReceipt: false });
      const pressId = randomUUID();
      await raised('anna', { pressId, alarmTypeId: t.ids.alarmType.inrymning });
      const before = await t.snapshot();
      const contradiction = await phone.raise({ siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand });
      expect(contradiction).toMatchObject({ ok: false, error: { code: 'contradicts_instruction', details: { current: { typeKey: 'inrymning' } } } });
      const drill = await phone.raise({ siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.hot, drill: true });
      expect(drill).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      const reused = await phone.raise({ pressId, siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.inrymning });
      expect(reused).toMatchObject({ ok: false, error: { code: 'conflict' } });
      expect(await t.snapshot()).toBe(before);

      const confirmed = await phone.raise({ siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand, confirmContradiction: true });
      expect(confirmed).toMatchObject({ ok: true, data: { outcome: 'raised', instruction: { typeKey: 'inrymning', activeIncidents: 2 } } });
    });
  });

  describe('catch-up', () => {
    it('gives a device that was offline while three alarms were raised all three on reconnect, in cursor order', async () => {
      const phone = await device('bertil', { autoReceipt: false });
      const offlineAt = phone.cursor;
      phone.goOffline();
      const ids: string[] = [];
      for (const type of [t.ids.alarmType.brand, t.ids.alarmType.hot, t.ids.alarmType.inrymning]) {
        ids.push(await raised('anna', { alarmTypeId: type, confirmContradiction: true }));
      }
      expect(phone.events.filter((e) => ids.includes(e.incidentId))).toEqual([]);

      await phone.comeBack();
      await phone.waitFor((d) => ids.every((id) => d.of('raised', id).length === 1), 5000, 'three alarms after reconnect');
      expect(phone.resyncs).toHaveLength(1);
      expect(phone.events.filter((e) => e.type === 'raised').map((e) => e.incidentId)).toEqual(ids);
      expect(phone.cursor).toBe(phone.events.at(-1)?.id);

      const ack = await phone.emit<CatchUpData>('sync', { cursor: offlineAt, epoch: phone.epoch });
      if (!ack.ok || ack.data.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(ack)}`);
      const cursors = ack.data.events.map((e) => BigInt(e.id));
      expect(cursors).toEqual([...cursors].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(new Set(cursors).size).toBe(cursors.length);
      expect(ack.data.events.filter((e) => e.type === 'raised').map((e) => e.incidentId)).toEqual(ids);
      // The threat contradicts the fire but the fire still rules, and the fire's people are told of the threat;
      // the lockdown takes over, and the fire's and the threat's people are told too. Each new alarm's own
      // people learn of the change in its `raised` event.
      const [fire, threat, lockdown] = ids;
      expect(ack.data.events.filter((e) => e.type === 'instruction_changed').map((e) => e.incidentId)).toEqual([fire, fire, threat]);
      expect(ack.data.events.find((e) => e.type === 'raised' && e.incidentId === lockdown)?.data).toMatchObject({ contradiction: true, previous: { typeKey: 'brand' } });
      expect(ack.data.cursor).toBe(ack.data.events.at(-1)?.id);
    });

    it('gives a device without a cursor, or with one the server never issued, an explicit resync of the active incidents', async () => {
      const ids = [
        await raised('anna', { alarmTypeId: t.ids.alarmType.brand }),
        await raised('anna', { alarmTypeId: t.ids.alarmType.hot, confirmContradiction: true }),
      ];
      const fresh = await device('bertil');
      expect(fresh.resyncs).toHaveLength(1);
      expect(fresh.resyncs[0]).toMatchObject({ kind: 'resync', reason: 'no_cursor' });
      expect(fresh.resyncs[0]?.incidents?.map((i) => i.incident.id)).toEqual(ids);

      const lost = await device('bertil', { cursor: '999999999', epoch: fresh.epoch });
      await lost.waitFor((d) => d.resyncs.length === 1, 5000, 'resync');
      expect(lost.resyncs[0]).toMatchObject({ kind: 'resync', reason: 'unknown_cursor' });
      expect(lost.resyncs[0]?.incidents?.map((i) => i.incident.id)).toEqual(ids);
      expect(BigInt(lost.cursor ?? '0')).toBeLessThan(999_999_999n);

      const ack = await fresh.emit<CatchUpData>('sync', { cursor: '999999999', epoch: fresh.epoch });
      expect(ack).toMatchObject({ ok: true, data: { kind: 'resync', reason: 'unknown_cursor' } });
    });
  });

  describe('receipts', () => {
    it('records a receipt per device but one delivered event per person, and never moves delivered_at', async () => {
      const phone = await device('bertil', { deviceId: 'bertil-phone-1' });
      const laptop = await device('bertil', { deviceId: 'bertil-laptop-1' });
      const id = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
      await Promise.all([phone, laptop].map((d) => d.waitFor((x) => x.of('raised', id).length === 1, 5000, 'alarm arrives')));

      const receipts = 'SELECT device_id FROM incident_receipts WHERE incident_id = $1 AND person_id = $2';
      await expect.poll(() => count(receipts, [id, person.bertil]), { timeout: 5000 }).toBe(2);
      const delivered = "SELECT 1 FROM incident_events WHERE incident_id = $1 AND type = 'delivered' AND actor_person_id = $2";
      expect(await count(delivered, [id, person.bertil])).toBe(1);
      const deliveredAt = async () => (await t.db.query<{ delivered_at: Date | null }>(
        'SELECT delivered_at FROM incident_recipients WHERE incident_id = $1 AND person_id = $2', [id, person.bertil],
      )).rows[0]?.delivered_at?.toISOString();
      const first = await deliveredAt();
      expect(first).toEqual(expect.any(String));

      const tablet = await device('bertil', { deviceId: 'bertil-tablet-1', autoReceipt: false });
      expect(await tablet.emit('receipt', { incidentId: id, kind: 'delivered' })).toEqual({ ok: true, data: null });
      expect(await phone.emit('receipt', { incidentId: id, kind: 'delivered' })).toEqual({ ok: true, data: null });
      expect(await count(receipts, [id, person.bertil])).toBe(3);
      expect(await count(delivered, [id, person.bertil])).toBe(1);
      expect(await deliveredAt()).toBe(first);
    });

    it('takes an acknowledgement as delivery too', async () => {
      const id = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
      const phone = await device('cecilia', { autoReceipt: false });
      expect(await phone.emit('receipt', { incidentId: id, kind: 'acknowledged' })).toEqual({ ok: true, data: null });
      const row = (await t.db.query<{ delivered_at: Date | null; acknowledged_at: Date | null }>(
        'SELECT delivered_at, acknowledged_at FROM incident_recipients WHERE incident_id = $1 AND person_id = $2', [id, person.cecilia],
      )).rows[0];
      expect(row?.delivered_at).toBeInstanceOf(Date);
      expect(row?.acknowledged_at).toBeInstanceOf(Date);
      const events = (await t.db.query<{ type: string }>(
        'SELECT type FROM incident_events WHERE incident_id = $1 AND actor_person_id = $2 ORDER BY id', [id, person.cecilia],
      )).rows.map((r) => r.type);
      expect(events).toEqual(['delivered', 'acknowledged']);
    });

    it('sends a crisis lead\'s device roll-call summaries as receipts and responses arrive, the presser\'s too, and other staff none', async () => {
      const kimPhone = await device('kris', { autoReceipt: false });
      const bertilPhone = await device('bertil');
      const annaPhone = await device('anna', { autoReceipt: false });
      const id = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
      // Whoever pressed sees the alarm arrive: counts only, as the raise screen shows them.
      await annaPhone.waitFor((d) => d.rollcalls.some((r) => r.incidentId === id && r.summary.delivered === 1), 5000, 'roll call to the presser');
      expect(Object.keys(annaPhone.rollcalls[0] ?? {}).sort()).toEqual(['at', 'incidentId', 'summary']);
      await kimPhone.waitFor((d) => d.rollcalls.some((r) => r.incidentId === id && r.summary.delivered === 1), 5000, 'roll call after the receipt');

      const answer = await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/responses`, token: token.anna, body: { status: 'need_help' } });
      expect(answer.status).toBe(200);
      await kimPhone.waitFor((d) => d.rollcalls.some((r) => r.incidentId === id && r.summary.needHelp === 1), 5000, 'roll call after the response');
      // Anna's answer proves she saw the alarm, so it also counts as delivered.
      expect(kimPhone.rollcalls.at(-1)?.summary).toMatchObject({ targeted: 5, delivered: 2, needHelp: 1, noAnswer: 4 });
      expect(bertilPhone.rollcalls).toEqual([]);

      // A changed answer counts once, as the latest; the live counts are the roll call's own.
      await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/responses`, token: token.anna, body: { status: 'safe' } });
      await kimPhone.waitFor((d) => d.rollcalls.some((r) => r.incidentId === id && r.summary.safe === 1), 5000, 'roll call after the changed answer');
      const page = await t.request({ method: 'GET', url: `/api/v1/incidents/${id}/rollcall`, token: token.kris });
      expect(kimPhone.rollcalls.at(-1)?.summary).toEqual({ targeted: 5, delivered: 2, acknowledged: 1, safe: 1, needHelp: 0, notOnSite: 0, noAnswer: 4 });
      expect(page.body.summary).toEqual(kimPhone.rollcalls.at(-1)?.summary);
    });

    it('asks the devices of every alarm to hold their receipts until it should have reached everyone, then to spread them: a few milliseconds for five people, longer for hundreds more', async () => {
      const phone = await device('bertil');
      // Five recipients: their receipts wait 5 / 10,000 s, then may take 5 / 2,500 s (ADR 039).
      const small = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
      await phone.waitFor((d) => d.of('raised', small).length === 1, 5000, 'the alarm to five');
      expect(phone.of('raised', small)[0]).toMatchObject({ data: { incident: { recipients: 5 } }, receiptAfterMs: 1, receiptWithinMs: 2 });
      await t.endActiveIncidents(token.admin);

      // 600 more staff in Vasaskolan's group: 605 recipients, whose receipts wait 605 / 10,000 s, then may take 605 / 2,500 s.
      const added = (await t.db.query<{ id: string }>(
        `INSERT INTO people (organisation_id, name, email)
         SELECT $1, 'Vikarie ' || g, 'spread' || g || '@vasaskolan.example' FROM generate_series(1, 600) g RETURNING id`, [t.ids.org.utbildning],
      )).rows.map((r) => r.id);
      await t.db.query('INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])', [t.ids.group.vasaAll, added]);
      try {
        const large = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
        await phone.waitFor((d) => d.of('raised', large).length === 1, 5000, 'the alarm to 605');
        expect(phone.of('raised', large)[0]).toMatchObject({ receiptAfterMs: 61, receiptWithinMs: 242 });
        // The timeline holds the event itself: the spread is for its live delivery only.
        const timeline = await t.request({ method: 'GET', url: `/api/v1/incidents/${large}/timeline?types=raised`, token: token.kris });
        expect(timeline.status).toBe(200);
        expect(timeline.body.events).toHaveLength(1);
        expect(timeline.body.events[0]).not.toHaveProperty('receiptWithinMs');
        expect(timeline.body.events[0]).not.toHaveProperty('receiptAfterMs');
      } finally {
        await t.endActiveIncidents(token.admin);
        await t.db.query('DELETE FROM alarm_group_members WHERE person_id = ANY($1::uuid[])', [added]);
      }
    });
  });

  describe('revoked sessions', () => {
    it('acts with the session\'s current rights: a rektor demoted to staff cannot start a drill over a socket opened before', async () => {
      const rektorToken = await t.login('rektor@vasaskolan.example');
      const tablet = await device(rektorToken, { deviceId: 'rektor-tablet-1' });
      const rektorId = t.ids.person['rektor@vasaskolan.example'];
      const demoted = await t.request({
        method: 'PATCH', url: `/api/v1/people/${rektorId}`, token: token.admin, body: { roles: [{ role: 'staff', siteId: null }] },
      });
      expect(demoted.status, JSON.stringify(demoted.body)).toBe(200);
      try {
        const before = await t.snapshot();
        const ack = await tablet.raise({ siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.inrymning, drill: true });
        expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
        expect(await t.snapshot()).toBe(before);
      } finally {
        await t.request({
          method: 'PATCH', url: `/api/v1/people/${rektorId}`, token: token.admin,
          body: { roles: [{ role: 'staff', siteId: null }, { role: 'site_admin', siteId: t.ids.site.vasaskolan }] },
        });
      }
    });

    it('closes the sockets of a session the moment it is signed out, even on a device that only listens, and no others', async () => {
      const session = await t.loginAs('bertil');
      const other = await t.loginAs('bertil');
      const phone = await device(session, { deviceId: 'bertil-phone-3' });
      const laptop = await device(session, { deviceId: 'bertil-laptop-3' });
      const tablet = await device(other, { deviceId: 'bertil-tablet-3' });
      expect((await t.request({ method: 'POST', url: '/api/v1/auth/logout', token: session })).status).toBe(204);
      await phone.waitFor((d) => d.endedByServer, 5000, 'closed by the server');
      await laptop.waitFor((d) => d.endedByServer, 5000, 'closed by the server');

      const seenByPhone = phone.events.length;
      const id = await raised('anna', { alarmTypeId: t.ids.alarmType.hot });
      await tablet.waitFor((d) => d.of('raised', id).length === 1, 5000, 'the other session still receives');
      expect(tablet.endedByServer).toBe(false);
      expect(phone.events.length).toBe(seenByPhone);
      await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token: token.kris, body: {} });
    });

    it('closes every socket of a person who signs out everywhere', async () => {
      const first = await t.loginAs('bertil');
      const second = await t.loginAs('bertil');
      const phone = await device(first, { deviceId: 'bertil-phone-4' });
      const laptop = await device(second, { deviceId: 'bertil-laptop-4' });
      expect((await t.request({ method: 'POST', url: '/api/v1/auth/logout-all', token: first })).status).toBe(204);
      await phone.waitFor((d) => d.endedByServer, 5000, 'closed by the server');
      await laptop.waitFor((d) => d.endedByServer, 5000, 'closed by the server');
    });

    it('closes every socket of a person an admin deactivates, and refuses their reconnect', async () => {
      const session = await t.loginAs('cecilia');
      const phone = await device(session, { deviceId: 'cecilia-phone-5' });
      const res = await t.request({ method: 'PATCH', url: `/api/v1/people/${person.cecilia}`, token: token.admin, body: { active: false } });
      expect(res.status).toBe(200);
      await phone.waitFor((d) => d.endedByServer, 5000, 'closed by the server');
      const refused = await refusal(url, { token: session, deviceId: 'cecilia-phone-5' });
      expect(refused.data?.code).toBe('unauthenticated');
      await t.request({ method: 'PATCH', url: `/api/v1/people/${person.cecilia}`, token: token.admin, body: { active: true } });
    });

    it('stops a socket whose session ended behind its back (expired) at its next action, and lets it change nothing', async () => {
      const session = await t.loginAs('bertil');
      const phone = await device(session, { deviceId: 'bertil-phone-2' });
      const laptop = await device(session, { deviceId: 'bertil-laptop-2' });
      expect(await phone.emit('sync', { cursor: phone.cursor, epoch: phone.epoch })).toMatchObject({ ok: true });
      await t.db.query(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = (SELECT id FROM sessions WHERE person_id = $1 ORDER BY created_at DESC LIMIT 1)",
        [person.bertil],
      );

      const before = await t.snapshot();
      expect(await phone.emit('sync', { cursor: null })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
      const raiseAck = await laptop.raise({ siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand });
      expect(raiseAck).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
      expect(await t.snapshot()).toBe(before);
      await phone.waitFor((d) => !d.socket.connected, 5000, 'socket closed');
      await laptop.waitFor((d) => !d.socket.connected, 5000, 'socket closed');
    });

    it('takes no receipt through a socket whose session ended behind its back: unauthenticated, nothing written, the socket closed; a live session\'s counts', async () => {
      const ended = await t.loginAs('bertil');
      const phone = await device(ended, { deviceId: 'bertil-phone-3', autoReceipt: false });
      const id = await raised('anna', { alarmTypeId: t.ids.alarmType.brand });
      await phone.waitFor((d) => d.of('raised', id).length === 1, 5000, 'the alarm');
      await t.db.query(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = (SELECT id FROM sessions WHERE person_id = $1 ORDER BY created_at DESC LIMIT 1)",
        [person.bertil],
      );
      const bertilsReceipts = 'SELECT 1 FROM incident_receipts WHERE incident_id = $1 AND person_id = $2';
      const reached = 'SELECT 1 FROM incident_recipients WHERE incident_id = $1 AND person_id = $2 AND delivered_at IS NOT NULL';

      expect(await phone.emit('receipt', { incidentId: id, kind: 'delivered' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
      expect(await count(bertilsReceipts, [id, person.bertil])).toBe(0);
      expect(await count(reached, [id, person.bertil])).toBe(0);
      await phone.waitFor((d) => !d.socket.connected, 5000, 'socket closed');

      const live = await device(await t.loginAs('bertil'), { deviceId: 'bertil-phone-4', autoReceipt: false });
      expect(await live.emit('receipt', { incidentId: id, kind: 'delivered' })).toMatchObject({ ok: true });
      expect(await count(bertilsReceipts, [id, person.bertil])).toBe(1);
      expect(await count(reached, [id, person.bertil])).toBe(1);
    });
  });

  describe('one contract with HTTP', () => {
    // Earlier tests sign some people out everywhere: these sign in afresh.
    const signedIn = async (who: Who, options: { autoReceipt?: boolean } = {}) => device(await t.loginAs(who), options);
    it('marks every event of a drill as a drill, answers and receipts included, live and on catch-up', async () => {
      const kimPhone = await signedIn('kris');
      const bertilPhone = await signedIn('bertil', { autoReceipt: false });
      const drill = await raised('kris', { alarmTypeId: t.ids.alarmType.brand, drill: true });
      await bertilPhone.waitFor((d) => d.of('raised', drill).length === 1, 10_000, 'drill arrives');
      expect((await bertilPhone.emit('receipt', { incidentId: drill, kind: 'acknowledged' })).ok).toBe(true);
      const answer = await t.request({ method: 'POST', url: `/api/v1/incidents/${drill}/responses`, token: await t.loginAs('bertil'), body: { status: 'safe' } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      await kimPhone.waitFor((d) => d.of('responded', drill).length === 1, 10_000, 'answer reaches the lead');
      const sync = await kimPhone.emit<CatchUpData>('sync', { cursor: '0', epoch: kimPhone.epoch });
      if (!sync.ok || sync.data.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(sync)}`);
      const ofDrill = sync.data.events.filter((e) => e.incidentId === drill);
      expect(ofDrill.map((e) => e.type)).toEqual(expect.arrayContaining(['raised', 'delivered', 'acknowledged', 'responded']));
      expect(ofDrill.every((e) => e.drill === true)).toBe(true);
      expect(kimPhone.events.filter((e) => e.incidentId === drill).every((e) => e.drill === true)).toBe(true);
      const timeline = await t.request({ method: 'GET', url: `/api/v1/incidents/${drill}/timeline`, token: token.kris });
      expect(timeline.body.events.length).toBeGreaterThan(3);
      expect(timeline.body.events.every((e: { drill: boolean }) => e.drill)).toBe(true);
    });

    it('stamps an alarm\'s raised event with the incident\'s own raise time', async () => {
      const res = await raise('anna', { alarmTypeId: t.ids.alarmType.hot });
      const timeline = await t.request({ method: 'GET', url: `/api/v1/incidents/${res.body.incident.id}/timeline`, token: token.admin });
      const raisedEvent = timeline.body.events.find((e: { type: string }) => e.type === 'raised');
      expect(raisedEvent.at).toBe(res.body.incident.raisedAt);
    });

    it('tells a socket raise that met a deadlock to try again, as HTTP does, and the same press then succeeds', async () => {
      const phone = await signedIn('anna');
      const other = await t.db.connect();
      const pressId = randomUUID();
      const body = { pressId, siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand };
      try {
        await other.query('BEGIN');
        // This side waits longest before looking for a deadlock, so Postgres ends the raise's transaction.
        await other.query("SET LOCAL deadlock_timeout = '20s'");
        await other.query('LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE');
        const raising = phone.emit('raise', body);
        await new Promise((r) => setTimeout(r, 300));
        const crossing = other.query("SELECT pg_advisory_xact_lock(hashtextextended('site:' || $1::text, 0))", [t.ids.site.vasaskolan]);
        expect(await raising).toMatchObject({ ok: false, error: { code: 'try_again' } });
        await crossing;
        await other.query('ROLLBACK');
      } finally {
        other.release();
      }
      expect(await phone.emit('raise', body)).toMatchObject({ ok: true, data: { outcome: 'raised' } });
    });

    it('tells each person why, in their own language, over HTTP and the socket alike', async () => {
      const annaPhone = await signedIn('anna');
      const ceciliaPhone = await signedIn('cecilia');
      const drill = { siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand, drill: true };
      const sv = await annaPhone.raise(drill);
      const en = await ceciliaPhone.raise(drill);
      expect(sv).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'Bara krisledare och rektorer får starta övningar.' } });
      expect(en).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'Only crisis leads and rektorer may start drills.' } });
      const overHttp = await t.request({
        method: 'POST', url: '/api/v1/alarms', token: await t.loginAs('cecilia'),
        body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand, drill: true },
      });
      expect(overHttp.body).toEqual((en as { error: unknown }).error);
      // Signed out, the client's Accept-Language decides; Swedish when it says nothing.
      const anonymous = await t.request({ method: 'GET', url: '/api/v1/me' });
      expect(anonymous.body).toEqual({ code: 'unauthenticated', message: 'Logga in först.' });
      const english = await t.request({ method: 'GET', url: '/api/v1/me', headers: { 'accept-language': 'en-GB,en;q=0.8' } });
      expect(english.body).toEqual({ code: 'unauthenticated', message: 'Sign in first.' });
    });

    it('answers an event sent without a payload, and refuses a flood from one device without starving its raise', async () => {
      const phone = await signedIn('bertil');
      expect(await phone.emitBare('sync')).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
      const answers = await Promise.all(Array.from({ length: 120 }, () => phone.emit('sync', { cursor: phone.cursor, epoch: phone.epoch })));
      const limited = answers.filter((a) => !a.ok && (a as { error: { code: string } }).error.code === 'rate_limited');
      expect(limited.length).toBeGreaterThan(0);
      expect(await phone.raise({ siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.hot })).toMatchObject({ ok: true });
    });
  });
});
