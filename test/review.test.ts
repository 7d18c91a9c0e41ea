import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/modules/review/canonical.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';
import { FakePushService, PUSH_SERVICE_CA } from './helpers/push-service.js';
import { capErrors, parseCsv, pdfPages } from './helpers/review-files.js';

/**
 * The post-incident review of a scripted incident on an injected clock: a lockdown raised by Anna,
 * receipts from some devices over the socket and push, an instruction, two answers, escalation
 * (reminders, then the escalation contacts), an answer from the crisis lead, all clear. Every figure
 * must equal what the script did, to the millisecond. Then the exports (CAP against the OASIS
 * schema, PDF text, CSV read back, canonical JSON), the review record's revisions, and who may see what.
 */

const EMAIL = {
  anna: 'anna@vasaskolan.example',
  bertil: 'bertil@vasaskolan.example',
  cecilia: 'cecilia@vasaskolan.example',
  kris: 'kris@utbildning.example',
  rektor: 'rektor@vasaskolan.example',
  admin: 'admin@utbildning.example',
  klara: 'admin@kultur.example',
  sara: 'rektor@solrosen.example',
} as const;

const FORMULA_NAME = '=HYPERLINK("http://evil.example/","Klicka här")';
const ASA = 'Åsa Ängström-Öberg';
// 10:41:07 in Stockholm (CET, +01:00).
const T0 = Date.parse('2025-03-12T09:41:07.000Z');
// Rendering PDFs, loading pdf.js and the XML validator take long on a busy two-core machine.
const SLOW = { timeout: 120_000 };

describe('the review of a scripted incident', () => {
  let t: TestApp;
  let service: FakePushService;
  let now = T0 - 60_000;
  const tokens = new Map<string, string>();
  let incidentId = '';
  let drillId = '';
  let reviewerToken = '';
  let url = '';

  const token = async (email: string) => {
    const known = tokens.get(email);
    if (known) return known;
    const fresh = await t.login(email);
    tokens.set(email, fresh);
    return fresh;
  };
  const api = async (who: string, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<Response> =>
    t.request({ method, url: `/api/v1${url}`, token: await token(who), body });
  const raw = async (who: string, url: string) => t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${await token(who)}` } });
  const at = (ms: number) => {
    now = T0 + ms;
  };
  const devices: TestDevice[] = [];
  /** A device of the person confirms at `ms` on the app's clock: over its socket, or as its service worker does after a push. */
  const receipt = async (who: keyof typeof EMAIL, kind: 'delivered' | 'acknowledged', channel: 'socket' | 'push', ms: number) => {
    at(ms);
    if (channel === 'push') {
      const res = await api(EMAIL[who], 'POST', `/incidents/${incidentId}/receipts`, { kind, deviceId: `device-${who}` });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return;
    }
    const device = await TestDevice.connect({ urls: [url], token: await token(EMAIL[who]), deviceId: `device-${who}`, autoReceipt: false });
    devices.push(device);
    expect(await device.emit('receipt', { incidentId, kind })).toMatchObject({ ok: true });
  };
  const person = (email: string) => t.ids.person[email] as string;

  beforeAll(async () => {
    service = await FakePushService.start();
    t = await startApp(
      { PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, DELIVERY_WORKER: 'false' },
      { clock: { now: () => new Date(now) } },
    );
    // Two more staff at Vasaskolan without any device: one with å, ä, ö, one whose name is a spreadsheet formula.
    const added = (await t.db.query<{ id: string }>(
      `INSERT INTO people (organisation_id, name, email) VALUES ($1, $2, 'asa@vasaskolan.example'), ($1, $3, 'formel@vasaskolan.example') RETURNING id`,
      [t.ids.org.utbildning, ASA, FORMULA_NAME],
    )).rows.map((r) => r.id);
    await t.db.query('INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])', [t.ids.group.vasaAll, added]);
    // Phones with push: Bertil, Cecilia, Kim and Rebecka (Anna presses; she is not pushed about her own alarm).
    for (const who of ['bertil', 'cecilia', 'kris', 'rektor'] as const) {
      const sub = service.subscribe();
      const res = await api(EMAIL[who], 'PUT', '/me/device/push-subscription', { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys });
      expect(res.status).toBe(200);
    }
    const admin = await token(EMAIL.admin);
    // The employer's organisation number and the workplace's kommun, for the report to Arbetsmiljöverket.
    expect((await t.request({ method: 'PATCH', url: `/api/v1/organisations/${t.ids.org.utbildning}`, token: admin, body: { organisationNumber: '212000-1234' } })).status).toBe(200);
    expect((await t.request({ method: 'PATCH', url: `/api/v1/sites/${t.ids.site.vasaskolan}`, token: admin, body: { municipality: 'Västerås', address: 'Vasagatan 12' } })).status).toBe(200);
    // A skyddsombud: a reviewer of Vasaskolan only.
    const created = await t.request({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.utbildning}/people`, token: admin,
      body: { name: 'Sofia Skyddsombud', email: 'sofia@vasaskolan.example', password: 'samlarm-demo', siteIds: [t.ids.site.vasaskolan], roles: [{ role: 'reviewer', siteId: t.ids.site.vasaskolan }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    reviewerToken = await t.login('sofia@vasaskolan.example');
    url = await t.listen();

    // The script.
    at(0);
    const raised = await api(EMAIL.anna, 'POST', '/alarms', {
      pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.inrymning, location: 'Sal 204',
    });
    expect(raised.status).toBe(201);
    incidentId = raised.body.incident.id;
    await t.app.delivery.worker.runUntilIdle();
    await receipt('cecilia', 'delivered', 'socket', 480);
    await receipt('rektor', 'delivered', 'push', 1200);
    await receipt('bertil', 'delivered', 'push', 2150);
    await receipt('cecilia', 'acknowledged', 'socket', 3000);
    await receipt('rektor', 'acknowledged', 'push', 4000);
    at(15_250);
    expect((await api(EMAIL.kris, 'POST', `/incidents/${incidentId}/messages`, { kind: 'instruction', body: 'Stanna i salen. Polisen är på väg.' })).status).toBe(200);
    at(20_000);
    expect((await api(EMAIL.rektor, 'POST', `/incidents/${incidentId}/responses`, { status: 'safe' })).status).toBe(200);
    at(33_500);
    expect((await api(EMAIL.cecilia, 'POST', `/incidents/${incidentId}/responses`, { status: 'need_help', text: 'Sal 108, en elev är skadad' })).status).toBe(200);
    at(60_000);
    await t.app.delivery.worker.runUntilIdle();
    at(75_000);
    expect((await api(EMAIL.kris, 'POST', `/incidents/${incidentId}/responses`, { status: 'safe' })).status).toBe(200);
    at(120_000);
    await t.app.delivery.worker.runUntilIdle();
    at(180_000);
    await t.app.delivery.worker.runUntilIdle();
    at(300_000);
    expect((await api(EMAIL.kris, 'POST', `/incidents/${incidentId}/resolve`, {})).status).toBe(200);
    await t.app.delivery.worker.runUntilIdle();

    // A fire drill afterwards, raised by the rektor, all clear after 90 s.
    at(600_000);
    const drill = await api(EMAIL.rektor, 'POST', '/alarms', {
      pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand, drill: true,
    });
    expect(drill.status).toBe(201);
    drillId = drill.body.incident.id;
    await t.app.delivery.worker.runUntilIdle();
    at(690_000);
    expect((await api(EMAIL.rektor, 'POST', `/incidents/${drillId}/resolve`, {})).status).toBe(200);
    await t.app.delivery.worker.runUntilIdle();
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
    await service?.close();
  });

  it('every figure equals what the script did, to the millisecond', SLOW, async () => {
    const res = await api(EMAIL.kris, 'GET', `/incidents/${incidentId}/review`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const r = res.body;
    expect(r.figures).toEqual({
      t0: '2025-03-12T09:41:07.000Z', pressToCommitMs: null,
      targeted: 7, pressers: 1, toReach: 6, reached: 4, acknowledged: 3, unreached: 2,
      firstDeviceMs: 480, reached50Ms: 2150, reached90Ms: null, allReachedMs: null,
      firstAcknowledgementMs: 3000, firstInstructionMs: 15_250, allClearMs: 300_000, cancelledMs: null,
      answers: { safe: 2, needHelp: 1, notOnSite: 0, none: 4 },
    });
    expect(r.channels).toEqual([
      { channel: 'socket', n: 1, p50Ms: 480, p90Ms: 480, maxMs: 480 },
      { channel: 'push', n: 2, p50Ms: 1200, p90Ms: 2150, maxMs: 2150 },
      // The push service accepted all four alarm pushes while the clock stood at the press.
      { channel: 'push_service', n: 4, p50Ms: 0, p90Ms: 0, maxMs: 0 },
      { channel: 'sms', n: 0, p50Ms: null, p90Ms: null, maxMs: null },
    ]);
    const p = (email: string) => (r.people as { personId: string }[]).find((x) => x.personId === person(email));
    expect(p(EMAIL.cecilia)).toMatchObject({
      deliveredMs: 480, deliveredChannel: 'socket', seenMs: 3000, acknowledgedMs: 3000, answer: 'need_help', answerText: 'Sal 108, en elev är skadad',
      answeredMs: 33_500, reminders: 0, unreachedReason: null,
    });
    expect(p(EMAIL.rektor)).toMatchObject({ deliveredMs: 1200, deliveredChannel: 'push', seenMs: 4000, acknowledgedMs: 4000, answer: 'safe', answeredMs: 20_000 });
    expect(p(EMAIL.bertil)).toMatchObject({ deliveredMs: 2150, deliveredChannel: 'push', seenMs: null, acknowledgedMs: null, answer: null, pushDevices: 1, pushAcceptedMs: 0 });
    // Kim's phone never confirmed: one reminder at 60 s; his answer at 75 s is what reached him.
    expect(p(EMAIL.kris)).toMatchObject({ deliveredMs: 75_000, deliveredChannel: 'response', acknowledgedMs: 75_000, answer: 'safe', reminders: 1, namedToContacts: false });
    expect(p(EMAIL.anna)).toMatchObject({ pressed: true, deliveredMs: null, unreachedReason: null });
    expect(r.unreached).toEqual(expect.arrayContaining([
      { personId: expect.any(String), name: ASA, reason: 'no_device' },
      { personId: expect.any(String), name: FORMULA_NAME, reason: 'no_device' },
    ]));
    expect(r.unreached).toHaveLength(2);
    expect((r.people as { name: string; namedToContacts: boolean }[]).filter((x) => x.namedToContacts).map((x) => x.name).sort()).toEqual([FORMULA_NAME, ASA].sort());

    const sortedContacts = (steps: { contacts: { name: string }[] }[]) =>
      steps.map((s) => ({ ...s, contacts: [...s.contacts].sort((a, b) => a.name.localeCompare(b.name)) }));
    expect(sortedContacts(r.escalation)).toEqual([
      { step: 'repush', round: 1, dueMs: 60_000, ranMs: 60_000, state: 'done', unreached: 3, pushes: 1, contacts: [] },
      { step: 'contacts', round: 1, dueMs: 120_000, ranMs: 120_000, state: 'done', unreached: 2, pushes: 1, contacts: [
        { name: 'Rebecka Rektor', group: 'Krisgrupp', sms: false }, { name: 'Vaktmästare Vasaskolan', group: 'Krisgrupp', sms: false },
      ] },
      { step: 'repush', round: 2, dueMs: 120_000, ranMs: 120_000, state: 'done', unreached: 2, pushes: 0, contacts: [] },
      { step: 'repush', round: 3, dueMs: 180_000, ranMs: 180_000, state: 'done', unreached: 2, pushes: 0, contacts: [] },
    ]);

    expect(r.instructions.map((i: { kind: string; offsetMs: number }) => [i.kind, i.offsetMs])).toEqual([
      ['alarm', 0], ['message', 15_250], ['all_clear', 300_000],
    ]);
    // The account is in time order, by the app's clock; delivery attempts are in it, marked.
    const account = r.account as { type: string; offsetMs: number; attempt: boolean; actor: string | null; details: Record<string, unknown> }[];
    expect(account.map((e) => e.offsetMs)).toEqual([...account.map((e) => e.offsetMs)].sort((a, b) => a - b));
    const main = account.filter((e) => !e.attempt).map((e) => [e.type, e.offsetMs]);
    expect(main).toEqual([
      ['raised', 0], ['recipients_computed', 0], ['delivered', 480], ['delivered', 1200], ['delivered', 2150], ['acknowledged', 3000],
      ['acknowledged', 4000], ['message', 15_250], ['responded', 20_000], ['responded', 33_500], ['repushed', 60_000],
      ['delivered', 75_000], ['acknowledged', 75_000], ['responded', 75_000], ['escalated', 120_000], ['repushed', 120_000],
      ['repushed', 180_000], ['resolved', 300_000],
    ].sort((a, b) => Number(a[1]) - Number(b[1])));
    expect(account.find((e) => e.type === 'responded' && e.offsetMs === 33_500)?.details).toMatchObject({ person: 'Cecilia Carlsson', status: 'need_help' });
    expect(account.filter((e) => e.attempt).every((e) => e.details.channel === 'push')).toBe(true);
    expect(account.filter((e) => e.attempt && e.details.kind === 'alarm').map((e) => e.offsetMs)).toEqual([0, 0, 0, 0]);

    expect(r.reachCurve.reached).toEqual([
      { ms: 480, share: 1 / 6 }, { ms: 1200, share: 2 / 6 }, { ms: 2150, share: 3 / 6 }, { ms: 75_000, share: 4 / 6 },
    ]);
    expect(r.reachCurve.markers).toEqual([{ ms: 15_250, kind: 'instruction' }, { ms: 300_000, kind: 'all_clear' }]);
    expect(r.rollCall).toEqual([
      { ms: 0, safe: 0, needHelp: 0, notOnSite: 0, none: 7 },
      { ms: 20_000, safe: 1, needHelp: 0, notOnSite: 0, none: 6 },
      { ms: 33_500, safe: 1, needHelp: 1, notOnSite: 0, none: 5 },
      { ms: 75_000, safe: 2, needHelp: 1, notOnSite: 0, none: 4 },
    ]);
    expect(r.charts.reach).toMatch(/^<svg [^>]*role="img"/);
    expect(r.charts.reach).toContain('Nådda över tid');
    expect(r.linked).toEqual([]);
    expect(r.cap.map((c: { msgType: string }) => c.msgType)).toEqual(['Alert', 'Update', 'Update']);
    expect(r.authorityReport).toMatchObject({
      title: 'Underlag för anmälan enligt 3 kap. 3 a § arbetsmiljölagen',
      employer: { name: 'Utbildningsförvaltningen', organisationNumber: '212000-1234' },
      workplace: { name: 'Vasaskolan', address: 'Vasagatan 12', municipality: 'Västerås' },
      occurredAt: '2025-03-12T09:41:07.000Z',
      place: { site: 'Vasaskolan', room: 'Sal 204', location: 'Sal 204' },
    });
    expect(r.record.draft.summary).toContain('Inrymning (PDV) vid Vasaskolan, larmat 2025-03-12 10:41:07 av Anna Andersson (plats: Sal 204).');
    expect(r.record.draft.summary).toContain('Instruktion efter 15,250 s: Stanna i salen. Polisen är på väg.');
  });

  it('the CAP export is a chain of Alert, Update and AllClear Update, each valid against the OASIS CAP 1.2 schema, referencing the earlier ones', SLOW, async () => {
    const messages: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const res = await raw(EMAIL.kris, `/incidents/${incidentId}/export/cap?message=${n}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/cap\+xml/);
      expect(await capErrors(res.body), res.body).toEqual([]);
      messages.push(res.body);
    }
    const tag = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);
    expect(messages.map((m) => tag(m, 'msgType')[0])).toEqual(['Alert', 'Update', 'Update']);
    expect(messages.every((m) => tag(m, 'status')[0] === 'Actual' && tag(m, 'scope')[0] === 'Restricted')).toBe(true);
    expect(tag(messages[0] as string, 'sent')).toEqual(['2025-03-12T10:41:07+01:00']);
    expect(tag(messages[2] as string, 'sent')).toEqual(['2025-03-12T10:46:07+01:00']);
    expect(tag(messages[2] as string, 'responseType')).toEqual(['AllClear', 'AllClear']);
    const triple = (xml: string) => `${tag(xml, 'sender')[0]},${tag(xml, 'identifier')[0]},${tag(xml, 'sent')[0]}`;
    expect(tag(messages[0] as string, 'references')).toEqual([]);
    expect(tag(messages[1] as string, 'references')).toEqual([triple(messages[0] as string)]);
    expect(tag(messages[2] as string, 'references')).toEqual([`${triple(messages[0] as string)} ${triple(messages[1] as string)}`]);
    // Without ?message: the newest; past the end: a 400 that names how many there are.
    expect((await raw(EMAIL.kris, `/incidents/${incidentId}/export/cap`)).body).toBe(messages[2]);
    const past = await raw(EMAIL.kris, `/incidents/${incidentId}/export/cap?message=4`);
    expect(past.statusCode).toBe(400);
    expect(JSON.parse(past.body)).toMatchObject({ code: 'validation_failed', details: { messages: 3 } });
  });

  it("a drill's CAP messages are status Exercise and valid; its PDF says ÖVNING on every page", SLOW, async () => {
    // All clear came before the worker ran the fire drill's escalation steps: they never ran.
    expect((await api(EMAIL.rektor, 'GET', `/incidents/${drillId}/review`)).body.escalation).toEqual([
      { step: 'repush', round: 1, dueMs: 30_000, ranMs: null, state: 'cancelled', unreached: null, pushes: null, contacts: [] },
      { step: 'contacts', round: 1, dueMs: 90_000, ranMs: null, state: 'cancelled', unreached: null, pushes: null, contacts: [] },
    ]);
    for (const n of [1, 2]) {
      const res = await raw(EMAIL.rektor, `/incidents/${drillId}/export/cap?message=${n}`);
      expect(await capErrors(res.body), res.body).toEqual([]);
      expect(res.body).toContain('<status>Exercise</status>');
      expect(res.body).toContain('ÖVNING');
    }
    const pdf = await raw(EMAIL.rektor, `/incidents/${drillId}/export/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-disposition']).toMatch(/filename="samlarm-OVNING-/);
    const pages = await pdfPages(pdf.rawPayload);
    expect(pages.length).toBeGreaterThan(1);
    for (const [n, text] of pages.entries()) {
      expect(text, `page ${n + 1}`).toContain('ÖVNING');
      expect(text, `page ${n + 1}`).toContain(`Sida ${n + 1} av ${pages.length}`);
    }
  });

  it('the PDF keeps å, ä, ö and carries the figures; a real alarm has no drill marking', SLOW, async () => {
    const pdf = await raw(EMAIL.kris, `/incidents/${incidentId}/export/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const text = (await pdfPages(pdf.rawPayload)).join('\n');
    for (const s of [
      'Händelserapport', 'Inrymning (PDV)', 'Vasaskolan', ASA, 'Stanna i salen. Polisen är på väg.', 'Sal 108, en elev är skadad',
      'Första enhet', '0,480 s', '50 % nådda', '2,150 s', 'Första kvittens', '3,000 s', 'Första instruktion', '15,250 s', 'Faran över', '300,000 s',
      'ingen enhet med push', 'Rebecka Rektor', 'Vaktmästare Vasaskolan',
    ]) expect(text).toContain(s);
    expect(text).not.toContain('ÖVNING');
  });

  it('the CSV of recipients reads back as the same rows, with a formula-like name neutralised; the timeline too', SLOW, async () => {
    const review = (await api(EMAIL.kris, 'GET', `/incidents/${incidentId}/review`)).body;
    const res = await raw(EMAIL.kris, `/incidents/${incidentId}/export/csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    const rows = parseCsv(res.body);
    expect(rows[0]?.slice(0, 6)).toEqual(['drill', 'name', 'lead', 'pressed', 'delivered_at', 'delivered_ms']);
    const s = (v: unknown) => (v === null ? '' : String(v));
    const expected = (review.people as Record<string, unknown>[]).map((p) => [
      '', p.name === FORMULA_NAME ? `'${FORMULA_NAME}` : p.name, p.lead, p.pressed, p.deliveredAt, p.deliveredMs, p.deliveredChannel, p.seenAt, p.seenMs,
      p.acknowledgedAt, p.acknowledgedMs, p.answer, p.answerText, p.answeredAt, p.answeredMs, p.answers, p.pushDevices, p.pushAcceptedMs, p.reminders,
      p.namedToContacts, p.unreachedReason,
    ].map(s));
    expect(rows.slice(1)).toEqual(expected);
    expect(res.body).toContain(`'=HYPERLINK(""http://evil.example/"",""Klicka här"")`);
    const comma = parseCsv((await raw(EMAIL.kris, `/incidents/${incidentId}/export/csv?separator=comma`)).body, ',');
    expect(comma.slice(1)).toEqual(expected);

    const timeline = parseCsv((await raw(EMAIL.kris, `/incidents/${incidentId}/export/csv?table=timeline`)).body);
    expect(timeline[0]).toEqual(['drill', 'at', 'offset_ms', 'type', 'delivery_attempt', 'actor', 'details']);
    expect(timeline.slice(1).map((row) => [row[3], Number(row[2])])).toEqual((review.account as { type: string; offsetMs: number }[]).map((e) => [e.type, e.offsetMs]));
  });

  it('the JSON export is canonical and versioned, and its SHA-256 is that of its content', SLOW, async () => {
    const res = await raw(EMAIL.kris, `/incidents/${incidentId}/export/json`);
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body);
    expect(doc).toMatchObject({ format: 'samlarm.incident-export', version: 1, exportedBy: person(EMAIL.kris) });
    expect(createHash('sha256').update(canonicalJson(doc.content)).digest('hex')).toBe(doc.sha256);
    expect(res.headers['x-content-sha256']).toBe(doc.sha256);
    expect(doc.content).toMatchObject({ format: 'samlarm.incident', version: 1, linked: [] });
    expect(doc.content.figures.firstDeviceMs).toBe(480);
    expect(doc.content.recipients).toHaveLength(7);
    // The same incident exported again has the same content.
    const again = JSON.parse((await raw(EMAIL.kris, `/incidents/${incidentId}/export/json`)).body);
    expect(again.sha256).toBe(doc.sha256);
  });

  it('every export is in the audit log: who, which format, when, its SHA-256', SLOW, async () => {
    const before = Number((await t.db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE action = 'incident.exported'")).rows[0]?.n);
    const res = await raw(EMAIL.kris, `/incidents/${incidentId}/export/csv?table=timeline`);
    const rows = (await t.db.query<{ actor_person_id: string; entity_id: string; after: Record<string, unknown> }>(
      "SELECT actor_person_id, entity_id, after FROM audit_log WHERE action = 'incident.exported' ORDER BY id DESC LIMIT 1",
    )).rows;
    expect(Number((await t.db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE action = 'incident.exported'")).rows[0]?.n)).toBe(before + 1);
    expect(rows[0]).toMatchObject({
      actor_person_id: person(EMAIL.kris), entity_id: incidentId,
      after: { format: 'csv', table: 'timeline', separator: 'semicolon', sha256: res.headers['x-content-sha256'], bytes: res.rawPayload.length },
    });
  });

  it('two people editing the record keep both revisions; a stale edit is refused with 409 review_stale and changes nothing', SLOW, async () => {
    const first = await api(EMAIL.kris, 'GET', `/incidents/${incidentId}/review/record`);
    expect(first.body).toMatchObject({ current: null, revisions: [], mayEdit: true });
    const draft = first.body.draft;
    const kim = await api(EMAIL.kris, 'PUT', `/incidents/${incidentId}/review/record`, {
      baseRevision: 0, status: 'open', record: { ...draft, causes: 'Okänd person i korridoren.' },
    });
    expect(kim.status, JSON.stringify(kim.body)).toBe(201);
    expect(kim.body).toMatchObject({ revision: 1, status: 'open', author: { name: 'Kim Krisledare' }, signedOffBy: null, at: new Date(T0 + 690_000).toISOString() });
    const before = await t.snapshot();
    const stale = await api(EMAIL.rektor, 'PUT', `/incidents/${incidentId}/review/record`, {
      baseRevision: 0, status: 'open', record: { ...draft, causes: 'Rektorns version.' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'review_stale', details: { currentRevision: 1, baseRevision: 0 } });
    expect(await t.snapshot()).toBe(before);
    const rektor = await api(EMAIL.rektor, 'PUT', `/incidents/${incidentId}/review/record`, {
      baseRevision: 1, status: 'open', record: { ...draft, causes: 'Okänd person i korridoren. Dörren till B-huset stod öppen.' },
    });
    expect(rektor.status).toBe(201);
    const both = await api(EMAIL.rektor, 'GET', `/incidents/${incidentId}/review/record`);
    expect(both.body.revisions.map((r: { revision: number; author: { name: string }; record: { causes: string } }) => [r.revision, r.author.name, r.record.causes])).toEqual([
      [2, 'Rebecka Rektor', 'Okänd person i korridoren. Dörren till B-huset stod öppen.'],
      [1, 'Kim Krisledare', 'Okänd person i korridoren.'],
    ]);
    // Two at once from the same base: one wins, the other is stale, never both.
    const racing = await Promise.all(['A', 'B'].map((x) => api(EMAIL.kris, 'PUT', `/incidents/${incidentId}/review/record`, {
      baseRevision: 2, status: 'open', record: { ...draft, causes: x },
    })));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('sign-off closes the record (after the reportability question), a closed record changes only by reopening, which is a new revision', SLOW, async () => {
    const current = (await api(EMAIL.kris, 'GET', `/incidents/${incidentId}/review/record`)).body.current;
    const base = current.revision as number;
    const undecided = await api(EMAIL.kris, 'PUT', `/incidents/${incidentId}/review/record`, { baseRevision: base, status: 'closed', record: current.record });
    expect(undecided.status).toBe(400);
    expect(undecided.body.code).toBe('validation_failed');
    const record = {
      ...current.record, reportable: 'yes',
      actions: [{ description: 'Byt lås på B-husets dörr', kind: 'planned', owner: 'Vaktmästaren', deadline: '2025-04-01', done: false }],
      safetyRepresentative: { informed: true, name: 'Sofia Skyddsombud', informedAt: '2025-03-12T10:30:00.000Z' },
      report: { ...current.record.report, eventType: 'serious_near_miss', affectedStaff: 6, affectedPupils: 24, injuries: true, contactName: 'Rebecka Rektor', contactPhone: '+46700000002' },
    };
    const closed = await api(EMAIL.kris, 'PUT', `/incidents/${incidentId}/review/record`, { baseRevision: base, status: 'closed', record });
    expect(closed.status).toBe(201);
    expect(closed.body).toMatchObject({ revision: base + 1, status: 'closed', signedOffBy: { name: 'Kim Krisledare' } });
    const again = await api(EMAIL.rektor, 'PUT', `/incidents/${incidentId}/review/record`, { baseRevision: base + 1, status: 'closed', record });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('review_closed');
    const reopened = await api(EMAIL.rektor, 'PUT', `/incidents/${incidentId}/review/record`, { baseRevision: base + 1, status: 'open', record });
    expect(reopened.body).toMatchObject({ revision: base + 2, status: 'open', signedOffBy: null });
    const review = (await api(EMAIL.kris, 'GET', `/incidents/${incidentId}/review`)).body;
    expect(review.authorityReport).toMatchObject({
      reportable: 'yes', eventType: 'serious_near_miss', affected: { staff: 6, pupils: 24, injuries: true },
      measuresPlanned: ['Byt lås på B-husets dörr (ansvarig: Vaktmästaren, senast 2025-04-01)'], missing: [],
    });
    const text = (await pdfPages((await raw(EMAIL.kris, `/incidents/${incidentId}/export/pdf`)).rawPayload)).join('\n');
    expect(text).toContain('Underlag för anmälan enligt 3 kap. 3 a § arbetsmiljölagen');
    expect(text).toContain('212000-1234');
    expect(text).toContain('Allvarligt tillbud');
    // Nothing was ever overwritten.
    const count = (await t.db.query<{ n: string }>('SELECT count(*) AS n FROM incident_review_revisions WHERE incident_id = $1', [incidentId])).rows[0]?.n;
    expect(Number(count)).toBe(base + 2);
    await expect(t.db.query('UPDATE incident_review_revisions SET status = $1 WHERE incident_id = $2', ['open', incidentId])).rejects.toThrow(/append-only/);
  });

  it('who sees what: leads and reviewers read, only leads write, staff are refused, other organisations and other sites learn nothing', SLOW, async () => {
    const reviewer = (method: 'GET' | 'PUT', url: string, body?: unknown) => t.request({ method, url: `/api/v1${url}`, token: reviewerToken, body });
    expect((await reviewer('GET', `/incidents/${incidentId}/review`)).body.record.mayEdit).toBe(false);
    expect((await reviewer('GET', `/incidents/${incidentId}/review/record`)).status).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${incidentId}/export/pdf`, headers: { authorization: `Bearer ${reviewerToken}` } })).statusCode).toBe(200);
    const current = (await reviewer('GET', `/incidents/${incidentId}/review/record`)).body.current;
    for (const who of [EMAIL.anna, EMAIL.sara, EMAIL.klara]) await token(who);
    const before = await t.snapshot();
    const write = await reviewer('PUT', `/incidents/${incidentId}/review/record`, { baseRevision: current.revision, status: 'open', record: current.record });
    expect(write.status).toBe(403);
    // Anna was alarmed by it but does not review: forbidden. The rektor of another site, and another organisation: not found.
    expect((await api(EMAIL.anna, 'GET', `/incidents/${incidentId}/review`)).body.code).toBe('forbidden');
    for (const who of [EMAIL.sara, EMAIL.klara]) {
      for (const url of [`/incidents/${incidentId}/review`, `/incidents/${incidentId}/review/record`, `/incidents/${incidentId}/export/json`, `/incidents/${incidentId}/export/cap`]) {
        const res = await api(who, 'GET', url);
        expect(res.status, `${who} ${url}`).toBe(404);
        expect(res.body.code).toBe('not_found');
      }
    }
    expect(await t.snapshot()).toBe(before);
  });

  it('statistics: per site, type and month, drills apart, with drill scores and device readiness; reviewers see their site only', SLOW, async () => {
    const res = await api(EMAIL.admin, 'GET', `/organisations/${t.ids.org.utbildning}/statistics?from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const s = res.body;
    const real = s.incidents.find((i: { id: string }) => i.id === incidentId);
    expect(real).toMatchObject({
      month: '2025-03', drill: false, toReach: 6, reached: 4, unreached: 2, acknowledged: 3, allReachedMs: null, firstAcknowledgementMs: 3000,
      reachedWithin10s: 3 / 6, reachedWithin60s: 3 / 6, acknowledgedWithin60s: 2 / 6, readiness: 4 / 6,
    });
    const lockdown = s.groups.find((g: { typeKey: string; drill: boolean }) => g.typeKey === 'inrymning' && !g.drill);
    expect(lockdown).toMatchObject({
      month: '2025-03', incidents: 1, allReached: { incidents: 0, medianMs: null, p90Ms: null },
      acknowledgement: { people: 3, medianMs: 4000, p90Ms: 75_000 }, unreachedRate: 2 / 6,
    });
    expect(s.groups.find((g: { typeKey: string; drill: boolean }) => g.typeKey === 'brand')).toMatchObject({ drill: true, incidents: 1 });
    expect(s.drills).toEqual([expect.objectContaining({ incidentId: drillId, earlier: null })]);
    expect(s.readiness).toEqual([{ month: '2025-03', incidents: 2, readiness: expect.any(Number) }]);
    expect(s.charts.drills).toMatch(/^<svg /);

    const mine = await t.request({ method: 'GET', url: `/api/v1/organisations/${t.ids.org.utbildning}/statistics?from=2025-01-01T00:00:00Z`, token: reviewerToken });
    expect(mine.status).toBe(200);
    const solrosen = await t.request({
      method: 'GET', url: `/api/v1/organisations/${t.ids.org.utbildning}/statistics?siteId=${t.ids.site.solrosen}`, token: reviewerToken,
    });
    expect(solrosen.status).toBe(403);
    expect((await api(EMAIL.anna, 'GET', `/organisations/${t.ids.org.utbildning}/statistics`)).status).toBe(403);
    expect((await api(EMAIL.klara, 'GET', `/organisations/${t.ids.org.utbildning}/statistics`)).status).toBe(404);
    const backwards = await api(EMAIL.admin, 'GET', `/organisations/${t.ids.org.utbildning}/statistics?from=2025-12-01T00:00:00Z&to=2025-01-01T00:00:00Z`);
    expect(backwards.body.code).toBe('validation_failed');
  });
});
