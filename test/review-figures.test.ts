import { describe, expect, it } from 'vitest';
import type { IncidentReviewData, ReviewDelivery, StatisticsIncident } from '../src/modules/alarms/review-data.js';
import type { AlarmTypeSnapshot } from '../src/modules/alarm-types/alarm-types.js';
import { canonicalJson } from '../src/modules/review/canonical.js';
import { escapeXml, reachChart } from '../src/modules/review/charts.js';
import { neutralise, toCsv } from '../src/modules/review/csv.js';
import { computeReview, eventTimes, percentile, timeToShare } from '../src/modules/review/figures.js';
import { capDateTime, seconds, stockholmDateTime } from '../src/modules/review/format.js';
import { drillScores, groupStats, incidentStats, readinessByMonth } from '../src/modules/review/statistics.js';

/** The review's figures as pure functions over plain rows: each rule of docs/review.md on small, hand-made data. */

const T0 = Date.parse('2025-06-02T08:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

const TYPE: AlarmTypeSnapshot = {
  id: '00000000-0000-4000-8000-0000000000a1', key: 'brand', label: { sv: 'Brand', en: 'Fire' }, instruction: { sv: 'Utrym.', en: 'Evacuate.' },
  colour: '#c62828', icon: 'flame', sound: 'loud', precedence: 500,
  cap: { category: 'Fire', event: 'Brand', responseType: 'Evacuate', severity: 'Severe', urgency: 'Immediate' },
  delivery: { pushTtlSeconds: 600, repushAfterSeconds: 30, maxRepushes: 3, contactsAfterSeconds: 90, smsToContacts: false, smsWhenNoPush: true },
};

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const INCIDENT = id(900);

function data(over: Partial<IncidentReviewData> = {}): IncidentReviewData {
  return {
    incident: {
      id: INCIDENT, organisationId: id(800), organisationName: 'Förvaltningen', organisationNumber: null, siteId: id(700), siteName: 'Skolan',
      siteAddress: null, siteMunicipality: null, type: TYPE, drill: false, state: 'resolved', location: null, message: null,
      raisedBy: { id: id(1), name: 'Presser' }, raisedAt: at(0), endedAt: at(100_000), endedBy: { id: id(2), name: 'Lead' }, endReason: null,
    },
    presses: [{ personId: id(1), name: 'Presser', pressedAt: at(0), location: null, message: null }],
    recipients: [], receipts: [], responses: [], messages: [], events: [], deliveries: [], escalationSteps: [], causes: [], deviceReports: [], people: [],
    ...over,
  };
}

const recipient = (n: number, deliveredMs: number | null, acknowledgedMs: number | null = null) => ({
  personId: id(n), name: `Person ${n}`, lead: false, viaGroups: [], deliveredAt: deliveredMs === null ? null : at(deliveredMs),
  acknowledgedAt: acknowledgedMs === null ? null : at(acknowledgedMs),
});
const push = (n: number, person: number, state: string, kind = 'alarm'): ReviewDelivery => ({
  id: String(n), personId: id(person), channel: 'push', kind, state, attempts: 1, createdAt: at(0), finishedAt: state === 'queued' ? null : at(10), lastStatus: null, lastError: null,
});

describe('percentiles and shares', () => {
  it('nearest rank: an observed value, never an interpolation', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([40, 10, 30, 20], 50)).toBe(20);
    expect(percentile([40, 10, 30, 20], 90)).toBe(40);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
  });

  it('the time to k % is when the ceil(k·n/100)-th person was reached; null when that many never were', () => {
    expect(timeToShare([300, 100, 200], 4, 50)).toBe(200);
    expect(timeToShare([300, 100, 200], 4, 100)).toBeNull();
    expect(timeToShare([300, 100, 200, 400], 4, 100)).toBe(400);
    expect(timeToShare([5], 10, 1)).toBe(5);
    expect(timeToShare([], 0, 50)).toBeNull();
  });
});

describe('computeReview', () => {
  it('counts only the people who did not press, and takes every time from the thing itself', () => {
    const review = computeReview(data({
      recipients: [recipient(1, null), recipient(2, 900, 5000), recipient(3, 250), recipient(4, null)],
      receipts: [
        { personId: id(2), deviceId: 'a', kind: 'delivered', channel: 'push', at: at(900) },
        { personId: id(2), deviceId: 'a', kind: 'acknowledged', channel: 'push', at: at(5000) },
        { personId: id(3), deviceId: 'b', kind: 'delivered', channel: 'socket', at: at(250) },
      ],
      messages: [{ id: id(50), authorId: id(2), authorName: 'Lead', kind: 'instruction', body: 'Gå ut.', at: at(7000) }],
    }), at(100_000));
    expect(review.figures).toMatchObject({
      targeted: 4, pressers: 1, toReach: 3, reached: 2, acknowledged: 1, unreached: 1, firstDeviceMs: 250, reached50Ms: 900,
      reached90Ms: null, allReachedMs: null, firstAcknowledgementMs: 5000, firstInstructionMs: 7000, allClearMs: 100_000, cancelledMs: null,
    });
    expect(review.channels.find((c) => c.channel === 'socket')).toEqual({ channel: 'socket', n: 1, p50Ms: 250, p90Ms: 250, maxMs: 250 });
    expect(review.people.find((p) => p.personId === id(2))).toMatchObject({ deliveredChannel: 'push', seenMs: 5000 });
    expect(review.reachCurve.reached).toEqual([{ ms: 250, share: 1 / 3 }, { ms: 900, share: 2 / 3 }]);
  });

  it('names why someone was not reached: no device, notifications blocked, subscription gone, push failed, accepted but never confirmed, never sent', () => {
    const review = computeReview(data({
      recipients: [2, 3, 4, 5, 6, 7].map((n) => recipient(n, null)),
      deviceReports: [{ personId: id(3), pushDenied: true }],
      deliveries: [push(1, 4, 'gone'), push(2, 5, 'failed'), push(3, 5, 'gone'), push(4, 6, 'sent'), push(5, 6, 'failed', 'reminder'), push(6, 7, 'cancelled')],
    }), at(100_000));
    expect(review.unreached.map((u) => [u.name, u.reason])).toEqual([
      ['Person 2', 'no_device'], ['Person 3', 'push_denied'], ['Person 4', 'push_gone'], ['Person 5', 'push_failed'],
      ['Person 6', 'push_not_confirmed'], ['Person 7', 'push_not_sent'],
    ]);
    expect(review.people.find((p) => p.personId === id(6))).toMatchObject({ pushAcceptedMs: 10, pushDevices: 1 });
  });

  it('an instruction change caused by another alarm is timed by that alarm: raised over this one, or ended under it', () => {
    const other = { id: id(901), typeLabel: { sv: 'Inrymning', en: 'Lockdown' }, drill: false, raisedAt: at(4000), endedAt: at(9000) };
    const event = (n: number, instructionIncident: string) => ({
      id: String(n), type: 'instruction_changed', audience: 'all', actorPersonId: null,
      data: { cause: other.id, instruction: { incidentId: instructionIncident, label: { sv: 'X', en: 'X' } } }, at: new Date(0),
    });
    const times = eventTimes(data({ causes: [other], events: [event(1, other.id), event(2, INCIDENT)] }));
    expect(times.get('1')).toBe(T0 + 4000);
    expect(times.get('2')).toBe(T0 + 9000);
  });

  it('each later press is the time of the join it made; a retried delivery attempt falls back to when it was stored', () => {
    const stored = new Date(T0 + 123);
    const times = eventTimes(data({
      presses: [
        { personId: id(1), name: 'A', pressedAt: at(0), location: null, message: null },
        { personId: id(2), name: 'B', pressedAt: at(1500), location: null, message: null },
        { personId: id(3), name: 'C', pressedAt: at(130_000), location: null, message: null },
      ],
      deliveries: [push(7, 2, 'queued')],
      events: [
        { id: '1', type: 'joined', audience: 'leads', actorPersonId: id(2), data: {}, at: new Date(0) },
        { id: '2', type: 'reraised', audience: 'all', actorPersonId: id(3), data: {}, at: new Date(0) },
        { id: '3', type: 'delivery_attempt', audience: 'review', actorPersonId: null, data: { deliveryId: '7', nextAttemptAt: at(2000).toISOString() }, at: stored },
      ],
    }));
    expect([times.get('1'), times.get('2'), times.get('3')]).toEqual([T0 + 1500, T0 + 130_000, T0 + 123]);
  });

  it('the roll call over time counts each person by their latest answer at each moment', () => {
    const review = computeReview(data({
      recipients: [recipient(2, 100, 100), recipient(3, 100, 100)],
      responses: [
        { id: '1', personId: id(2), status: 'need_help', text: null, location: null, at: at(1000) },
        { id: '2', personId: id(3), status: 'safe', text: null, location: null, at: at(2000) },
        { id: '3', personId: id(2), status: 'safe', text: null, location: null, at: at(3000) },
      ],
    }), at(100_000));
    expect(review.rollCall).toEqual([
      { ms: 0, safe: 0, needHelp: 0, notOnSite: 0, none: 2 },
      { ms: 1000, safe: 0, needHelp: 1, notOnSite: 0, none: 1 },
      { ms: 2000, safe: 1, needHelp: 1, notOnSite: 0, none: 0 },
      { ms: 3000, safe: 2, needHelp: 0, notOnSite: 0, none: 0 },
    ]);
  });
});

describe('formats', () => {
  it('CAP date-times are local with an offset, whole seconds, no Z: winter and summer time', () => {
    expect(capDateTime(new Date('2025-03-12T09:41:07.999Z'))).toBe('2025-03-12T10:41:07+01:00');
    expect(capDateTime(new Date('2025-06-02T08:00:00.000Z'))).toBe('2025-06-02T10:00:00+02:00');
    expect(capDateTime(new Date('2025-06-02T08:00:00.000Z'))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$/);
    expect(stockholmDateTime(new Date('2025-12-31T23:30:00.000Z'))).toBe('2026-01-01 00:30:00');
    expect(seconds(15_250)).toBe('15,250 s');
    expect(seconds(null)).toBe('–');
  });

  it('CSV: BOM, semicolons, quoting, and formula-like text neutralised (numbers left alone)', () => {
    expect(neutralise('=1+1')).toBe("'=1+1");
    expect(neutralise('+46700000000')).toBe("'+46700000000");
    expect(neutralise('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(neutralise('Åsa')).toBe('Åsa');
    expect(toCsv(['a', 'b'], [['x;y', -5], ['"q"', null], ['-2', true]], 'semicolon')).toBe('\uFEFFa;b\r\n"x;y";-5\r\n"""q""";\r\n\'-2;true\r\n');
  });

  it('canonical JSON sorts keys at every depth and is the same for the same content', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: new Date(0) }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[1,{"e":"1970-01-01T00:00:00.000Z","f":2}]},"b":1}');
  });

  it('charts escape every text they draw', () => {
    expect(escapeXml('<a & "b">')).toBe('&lt;a &amp; &quot;b&quot;&gt;');
    const svg = reachChart({ toReach: 0, untilMs: 0, reached: [], acknowledged: [], socket: [], push: [], markers: [] }, 'en');
    expect(svg).toContain('<title id="reach-t">Reached over time</title>');
  });
});

describe('statistics', () => {
  const incident = (n: number, siteId: string, drill: boolean, raisedAt: string, people: StatisticsIncident['people']): StatisticsIncident => ({
    id: id(n), siteId, siteName: siteId === id(700) ? 'Skolan' : 'Förskolan', typeKey: 'brand', typeLabel: { sv: 'Brand', en: 'Fire' }, drill,
    state: 'resolved', raisedAt: new Date(raisedAt), people,
  });
  const p = (raised: string, deliveredS: number | null, ackS: number | null, pushed = true) => ({
    deliveredAt: deliveredS === null ? null : new Date(Date.parse(raised) + deliveredS * 1000).toISOString(),
    acknowledgedAt: ackS === null ? null : new Date(Date.parse(raised) + ackS * 1000).toISOString(),
    pushed,
  });
  const r1 = '2025-01-10T09:00:00.000Z';
  const r2 = '2025-02-10T09:00:00.000Z';
  const r3 = '2025-02-20T09:00:00.000Z';
  const incidents = [
    incident(1, id(700), true, r1, [p(r1, 5, 30), p(r1, 50, null), p(r1, null, null, false), p(r1, 8, 70)]),
    incident(2, id(700), true, r2, [p(r2, 2, 10), p(r2, 4, 20), p(r2, 9, 61), p(r2, 12, 50)]),
    incident(3, id(700), false, r3, [p(r3, 1, 5), p(r3, 3, 9)]),
    incident(4, id(701), true, r3, [p(r3, 1, 1)]),
  ];

  it("each drill's shares within 10 s and 60 s and acknowledged within 60 s, against the mean of the same site's earlier drills", () => {
    expect(incidentStats(incidents[0] as StatisticsIncident)).toMatchObject({
      toReach: 4, reached: 3, unreached: 1, allReachedMs: null, reachedWithin10s: 0.5, reachedWithin60s: 0.75, acknowledgedWithin60s: 0.25, readiness: 0.75,
    });
    const scores = drillScores(incidents);
    expect(scores.map((s) => [s.incidentId, s.earlier?.drills ?? 0])).toEqual([[id(1), 0], [id(2), 1], [id(4), 0]]);
    expect(scores[1]).toMatchObject({
      score: { reachedWithin10s: 0.75, reachedWithin60s: 1, acknowledgedWithin60s: 0.75 },
      earlier: { drills: 1, reachedWithin10s: 0.5, reachedWithin60s: 0.75, acknowledgedWithin60s: 0.25 },
    });
  });

  it('groups per site, type and month with drills apart: median and p90 to all reached and to acknowledgement, unreached rate', () => {
    const groups = groupStats(incidents);
    expect(groups.map((g) => [g.siteName, g.month, g.drill, g.incidents])).toEqual([
      ['Skolan', '2025-01', true, 1], ['Förskolan', '2025-02', true, 1], ['Skolan', '2025-02', false, 1], ['Skolan', '2025-02', true, 1],
    ]);
    const february = groups.find((g) => g.siteName === 'Skolan' && g.month === '2025-02' && g.drill);
    expect(february).toMatchObject({
      allReached: { incidents: 1, medianMs: 12_000, p90Ms: 12_000 }, acknowledgement: { people: 4, medianMs: 20_000, p90Ms: 61_000 }, unreachedRate: 0,
    });
    expect(groups[0]?.unreachedRate).toBe(0.25);
    expect(readinessByMonth(incidents)).toEqual([{ month: '2025-01', incidents: 1, readiness: 0.75 }, { month: '2025-02', incidents: 3, readiness: 1 }]);
  });
});
