import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Cluster, hasEvents, sleep, type EventsAnswer, type IncidentAnswer, type TypeKey } from './helpers/cluster.js';
import { callNode, type AppNode } from './helpers/nodes.js';

interface RollCallAnswer {
  summary: Record<string, number>;
  people: { personId: string; deliveredAt: string | null; status: string | null }[];
}
interface ReadyAnswer { status?: string; failing?: string[] }

describe('several nodes on one Redis and one Postgres', () => {
  let c: Cluster;
  let nodeA: AppNode;
  let nodeB: AppNode;

  /** Anna raises an alarm at Vasaskolan through `node`; returns the incident and its 'raised' event (a cursor). */
  const raiseThrough = async (node: AppNode, type: TypeKey): Promise<{ incidentId: string; eventId: string }> => {
    const res = await callNode<IncidentAnswer>(node.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna,
      body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType[type], confirmContradiction: true },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { incidentId: res.body.incident.id, eventId: await c.raisedEventId(res.body.incident.id) };
  };

  const resolveThrough = async (node: AppNode, incidentId: string): Promise<void> => {
    const res = await callNode(node.url, 'POST', `/api/v1/incidents/${incidentId}/resolve`, { token: c.token.kris, body: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  beforeAll(async () => {
    c = await Cluster.start(2);
    [nodeA, nodeB] = c.nodes as [AppNode, AppNode];
  });

  afterAll(() => c?.stop());

  beforeEach(async () => {
    // Every test starts with no active alarm, so each raise makes a new incident.
    await c.resolveAllActive(nodeA);
  });

  afterEach(() => c.closeDevices());

  it('an alarm raised through node A, over HTTP and with a socket raise, reaches a device connected to node B', async () => {
    const bertil = await c.connect('bertil', [nodeB.url]);
    const anna = await c.connect('anna', [nodeA.url]);

    const viaHttp = await raiseThrough(nodeA, 'inrymning');
    await bertil.waitFor(hasEvents([viaHttp.eventId]), 5000, 'the alarm raised over HTTP on A');

    const ack = await anna.raise({ siteId: c.vasaskolan, alarmTypeId: c.alarmType.brand, confirmContradiction: true });
    if (!ack.ok) throw new Error(`socket raise refused: ${JSON.stringify(ack.error)}`);
    expect(ack.data.outcome).toBe('raised');
    const viaSocket = await c.raisedEventId(ack.data.incident.id);
    await bertil.waitFor(hasEvents([viaSocket]), 5000, 'the alarm raised with a socket raise on A');

    expect(bertil.of('raised').map((e) => e.incidentId)).toEqual([viaHttp.incidentId, ack.data.incident.id]);
    // The fire's own people see the change in its raised event; the lockdown's people, on the lockdown.
    expect(bertil.of('raised', ack.data.incident.id)[0]?.data.contradiction).toBe(true);
    await bertil.waitFor((d) => d.of('instruction_changed', viaHttp.incidentId).length === 1, 5000, 'the change of instruction');
    expect(bertil.of('instruction_changed', viaHttp.incidentId)[0]?.data.contradiction).toBe(true);
  });

  it("a node delivers another node's new alarm, and the answers made through it, without reading the recipients from the database: they come with the alarm", async () => {
    const metricsToken = 'scraped-with-this-long-token';
    const nodeC = await c.launch({ env: { METRICS_TOKEN: metricsToken } });
    try {
      const bertil = await c.connect('bertil', [nodeC.url]);
      const kris = await c.connect('kris', [nodeC.url]);
      const { incidentId, eventId } = await raiseThrough(nodeA, 'inrymning');
      await bertil.waitFor(hasEvents([eventId]), 5000, 'the alarm raised on A');
      // An answer made through C is published by C, to the incident's leads: C needs the incident's audience.
      const answered = await callNode<EventsAnswer>(nodeC.url, 'POST', `/api/v1/incidents/${incidentId}/responses`, {
        token: c.token.bertil, body: { status: 'safe' },
      });
      expect(answered.status, JSON.stringify(answered.body)).toBe(200);
      const responded = answered.body.events.filter((e) => e.type === 'responded').map((e) => e.id);
      await kris.waitFor(hasEvents(responded), 5000, "bertil's answer, published by C");
      const res = await fetch(`${nodeC.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(/^samlarm_audience_reads_total (\d+)$/m.exec(await res.text())?.[1]).toBe('0');
    } finally {
      await c.closeDevices();
      await nodeC.stop();
    }
  });

  it('a response made on node B reaches the crisis lead on node A, and the roll call on A counts a receipt sent on B', async () => {
    const kris = await c.connect('kris', [nodeA.url], { autoReceipt: false });
    const bertil = await c.connect('bertil', [nodeB.url], { autoReceipt: false });
    const { incidentId, eventId } = await raiseThrough(nodeA, 'hot');
    await bertil.waitFor(hasEvents([eventId]), 5000, 'the alarm');

    const rollCall = async () =>
      (await callNode<RollCallAnswer>(nodeA.url, 'GET', `/api/v1/incidents/${incidentId}/rollcall`, { token: c.token.kris })).body;
    const bertilIn = (r: RollCallAnswer) => r.people.find((p) => p.personId === c.person.bertil);
    expect(bertilIn(await rollCall())?.deliveredAt).toBeNull();

    const receipt = await bertil.emit('receipt', { incidentId, kind: 'delivered' });
    expect(receipt.ok).toBe(true);
    // Receipts reach the leads live as roll-call summaries (the per-person 'delivered' events stay in the timeline).
    await kris.waitFor((d) => d.rollcalls.some((r) => r.incidentId === incidentId && r.summary.delivered === 1), 5000, "bertil's receipt");
    const afterReceipt = await rollCall();
    expect(afterReceipt.summary.delivered).toBe(1);
    expect(bertilIn(afterReceipt)?.deliveredAt).not.toBeNull();

    const response = await callNode<EventsAnswer>(nodeB.url, 'POST', `/api/v1/incidents/${incidentId}/responses`, {
      token: c.token.bertil, body: { status: 'need_help', text: 'Inlåst i sal 12' },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const responded = response.body.events.find((e) => e.type === 'responded');
    if (!responded) throw new Error('no responded event in the answer');
    await kris.waitFor(hasEvents([responded.id]), 5000, "bertil's response");
    expect(kris.events.find((e) => e.id === responded.id)?.data).toMatchObject({ personId: c.person.bertil, status: 'need_help' });
    await kris.waitFor((d) => d.rollcalls.some((r) => r.incidentId === incidentId && r.summary.needHelp === 1), 5000, 'a roll-call update');
    const afterResponse = await rollCall();
    expect(afterResponse.summary.needHelp).toBe(1);
    expect(bertilIn(afterResponse)?.status).toBe('need_help');
  });

  it('a device that connects to node B after an alarm was raised on A catches up on connect', async () => {
    const before = await c.connect('cecilia', [nodeB.url]);
    await before.waitFor((d) => d.cursor !== null, 5000, 'a first cursor');
    const cursor = before.cursor;
    before.close();

    const { incidentId, eventId } = await raiseThrough(nodeA, 'utrymning');

    const again = await c.connect('cecilia', [nodeB.url], { deviceId: before.deviceId, cursor, epoch: before.epoch });
    await again.waitFor(hasEvents([eventId]), 5000, 'the alarm in the catch-up');
    expect(again.resyncs).toEqual([]);
    expect(BigInt(again.cursor ?? '0')).toBeGreaterThanOrEqual(BigInt(eventId));

    const fresh = await c.connect('cecilia', [nodeB.url]);
    await fresh.waitFor((d) => d.resyncs.length === 1, 5000, 'a resync for a device without a cursor');
    expect(fresh.resyncs[0]?.incidents?.map((i) => i.incident.id)).toContain(incidentId);
  });

  it('on SIGTERM a node drains: readiness says draining, its devices move to the other node and miss no alarm raised meanwhile (even one raised through the draining node), and it exits 0', async () => {
    const nodeC = await c.launch({ env: { SHUTDOWN_DRAIN_MS: '3000' } });
    const moving = await Promise.all([c.connect('bertil', [nodeC.url, nodeA.url]), c.connect('cecilia', [nodeC.url, nodeA.url])]);
    const kris = await c.connect('kris', [nodeA.url]);
    await Promise.all(moving.map((d) => d.waitFor((x) => x.cursor !== null, 5000, 'a first cursor')));

    const raised: string[] = [];
    const raisedAfterExit: string[] = [];
    let exited = false;
    let stopRaising = false;
    const raising = (async () => {
      // Alarms keep coming while the devices move: raise, all clear, raise again.
      while (!stopRaising) {
        const startedAfterExit = exited;
        const { incidentId, eventId } = await raiseThrough(nodeA, 'inrymning');
        raised.push(eventId);
        if (startedAfterExit) raisedAfterExit.push(eventId);
        await resolveThrough(nodeA, incidentId);
        await sleep(100);
      }
    })();

    let countAtExit = 0;
    const readiness: { status: number; body: ReadyAnswer }[] = [];
    try {
      await sleep(300);
      const exitCode = nodeC.stop();
      // Readiness is read from the signal until the node is gone, beside the raise below (on a busy
      // machine the raise may take much of the drain time).
      const polling = (async () => {
        for (;;) {
          const res = await callNode<ReadyAnswer>(nodeC.url, 'GET', '/readyz').catch(() => undefined);
          if (!res) return;
          readiness.push(res);
          await sleep(100);
        }
      })();
      await sleep(100);
      // A request that reaches the node while it drains is still served, and its alarm still goes out.
      raised.push((await raiseThrough(nodeC, 'hot')).eventId);
      await polling;
      expect(await exitCode).toBe(0);
      countAtExit = raised.length;
      exited = true;
      // The loop goes on until an alarm raised wholly after the node left has been answered (on a busy
      // machine one raise can take longer than any fixed pause).
      for (let waited = 0; raisedAfterExit.length === 0 && waited < 30_000; waited += 100) await sleep(100);
    } finally {
      stopRaising = true;
      await raising;
    }

    // From the moment the node drains, readiness fails and says why. Answers before the signal is handled
    // do not count; the last ones, while the server closes, may be Fastify's own 503 without our body.
    const sinceDrain = readiness.slice(readiness.findIndex((r) => r.body.failing?.includes('draining') === true));
    expect(sinceDrain.map((r) => r.status)).toEqual(sinceDrain.map(() => 503));
    expect(sinceDrain.filter((r) => r.body.failing?.includes('draining')).length).toBeGreaterThan(3);
    expect(sinceDrain.filter((r) => r.body.failing && !r.body.failing.includes('draining'))).toEqual([]);
    expect(countAtExit).toBeGreaterThan(1);
    expect(raisedAfterExit.length).toBeGreaterThan(0);
    for (const device of [...moving, kris]) await device.waitFor(hasEvents(raised), 10_000, 'every alarm raised during the drain');
    for (const device of moving) {
      expect(device.url).toBe(nodeA.url);
      expect(device.socket.connected).toBe(true);
      // Dropped, not told to go away: a real client would give up after "io server disconnect".
      expect(device.disconnectReasons).toEqual(['transport close']);
    }
  }, 120_000);
});
