import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedDemoLinks } from '../src/seed/demo.js';
import { Cluster, type IncidentAnswer } from './helpers/cluster.js';
import { TestDevice } from './helpers/device.js';
import { callNode, loginAt, type AppNode } from './helpers/nodes.js';
import { FakePushService, PUSH_SERVICE_CA } from './helpers/push-service.js';

/**
 * The demo link (Vasagatan 12) on two real app processes, one Redis and one Postgres: Anna raises a
 * fire at Vasaskolan through one node; Lisa at the library gets the library's linked alarm on the other
 * node, live, from her cursor after being offline, and by push in her pocket; her answer reaches the
 * library's lead by name and Vasaskolan's lead only as a count.
 */
describe('links across two nodes', () => {
  let c: Cluster;
  let service: FakePushService;
  let nodeA: AppNode;
  let nodeB: AppNode;
  const token: Record<'lisa' | 'bo', string> = { lisa: '', bo: '' };
  const devices: TestDevice[] = [];
  let library = '';

  const connect = async (who: string, urls: string[]) => {
    const d = await TestDevice.connect({ urls, token: who });
    devices.push(d);
    await d.waitFor((x) => x.cursor !== null, 15_000, 'initial catch-up');
    return d;
  };

  const raiseFire = async (node: AppNode, extra: Record<string, unknown> = {}): Promise<{ source: string; linked: string }> => {
    const res = await callNode<IncidentAnswer>(node.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType.brand, location: 'Sal 204', ...extra },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [crossing] = await c.query<{ linked_incident_id: string }>('SELECT linked_incident_id FROM link_crossings WHERE source_incident_id = $1', [res.body.incident.id]);
    expect(crossing?.linked_incident_id).toBeTruthy();
    return { source: res.body.incident.id, linked: crossing?.linked_incident_id as string };
  };

  /** Kim's all clear for every alarm raised at Vasaskolan: their linked incidents at the library end with them. */
  const endAll = async () => {
    for (const { id } of await c.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active' AND linked_from IS NULL")) {
      const res = await callNode(nodeA.url, 'POST', `/api/v1/incidents/${id}/resolve`, { token: c.token.kris, body: {} });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  };

  beforeAll(async () => {
    service = await FakePushService.start();
    c = await Cluster.start(1);
    const pool = new pg.Pool({ connectionString: c.database.url, max: 1 });
    await seedDemoLinks(pool);
    await pool.end();
    // The first node only migrated and signed the demo people in; these two deliver pushes too.
    await (c.nodes[0] as AppNode).kill();
    const env = { PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50' };
    [nodeA, nodeB] = await Promise.all([c.launch({ env }), c.launch({ env })]) as [AppNode, AppNode];
    [library] = (await c.query<{ id: string }>("SELECT id FROM sites WHERE name = 'Vasastadens bibliotek'")).map((r) => r.id) as [string];
    token.lisa = await loginAt(nodeB.url, 'lisa@biblioteket.example');
    token.bo = await loginAt(nodeA.url, 'chef@biblioteket.example');
  });

  beforeEach(async () => {
    for (const d of devices.splice(0)) d.close();
    await endAll();
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await c?.stop();
    await service?.close();
  });

  it("Anna's fire through one node reaches Lisa's device on the other as the library's alarm; her answer reaches Bo by name and Kim as a count", async () => {
    const lisa = await connect(token.lisa, [nodeB.url]);
    const bo = await connect(token.bo, [nodeA.url]);
    const kim = await connect(c.token.kris, [nodeB.url]);
    const { source, linked } = await raiseFire(nodeA);

    await lisa.waitFor((d) => d.of('raised', linked).length === 1, 20_000, 'the linked alarm on the other node');
    const raised = lisa.of('raised', linked)[0];
    expect(raised?.siteId).toBe(library);
    expect((raised?.data.incident as { linkedFrom: unknown }).linkedFrom).toMatchObject({ organisationName: 'Utbildningsförvaltningen', siteName: 'Vasaskolan' });
    expect((raised?.data.incident as { location: string }).location).toBe('Vasaskolan, Sal 204');

    const answer = await callNode(nodeB.url, 'POST', `/api/v1/incidents/${linked}/responses`, { token: token.lisa, body: { status: 'need_help' } });
    expect(answer.status).toBe(200);
    await bo.waitFor((d) => d.of('responded', linked).length === 1, 20_000, "Lisa's answer at the library's lead");
    expect(bo.of('responded', linked)[0]?.data).toMatchObject({ status: 'need_help' });

    await expect.poll(async () => (await callNode<{ linked: { counts: { needHelp: number } | null }[] }>(
      nodeA.url, 'GET', `/api/v1/incidents/${source}/rollcall`, { token: c.token.kris },
    )).body.linked[0]?.counts?.needHelp, { timeout: 20_000, interval: 200 }).toBe(1);
    const roll = await callNode<{ linked: unknown[]; people: { name: string }[] }>(nodeA.url, 'GET', `/api/v1/incidents/${source}/rollcall`, { token: c.token.kris });
    expect(roll.body.people.map((p) => p.name)).not.toContain('Lisa Bibliotekarie');
    await kim.waitFor((d) => d.of('linked', source).length === 1, 20_000, 'the note that it crossed');
    expect(JSON.stringify(kim.events)).not.toContain('Lisa');
    expect(kim.events.filter((e) => e.incidentId === linked)).toEqual([]);
  });

  it("Lisa's device, offline during the raise, gets the linked alarm from its cursor on the other node", async () => {
    const lisa = await connect(token.lisa, [nodeA.url]);
    lisa.goOffline();
    const { linked } = await raiseFire(nodeA);
    await lisa.comeBack([nodeB.url]);
    await lisa.waitFor((d) => d.of('raised', linked).length === 1, 20_000, 'the linked alarm on catch-up');
    expect(lisa.url).toBe(nodeB.url);
  });

  it("Lisa's phone in a pocket gets the linked alarm by push, a drill marked as one", async () => {
    const sub = service.subscribe();
    const registered = await callNode(nodeB.url, 'PUT', '/api/v1/me/device/push-subscription', { token: token.lisa, body: { endpoint: sub.endpoint, expirationTime: null, keys: sub.keys } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const { linked } = await raiseFire(nodeA);
    await service.waitFor((r) => r.some((x) => x.subscriptionId === sub.id && x.payload?.incidentId === linked && x.payload.kind === 'alarm'), 20_000);
    const push = service.for(sub.id).find((x) => x.payload?.incidentId === linked)?.payload;
    expect(push).toMatchObject({ kind: 'alarm', drill: false, title: 'Brand – Vasastadens bibliotek', site: { id: library, name: 'Vasastadens bibliotek' } });
    expect(String(push?.body)).toMatch(/^Larm från Vasaskolan, Utbildningsförvaltningen\n/);
    expect(String(push?.body)).toContain('Plats: Vasaskolan, Sal 204');
    await endAll();

    const drill = await callNode<IncidentAnswer>(nodeA.url, 'POST', '/api/v1/alarms', {
      token: c.token.kris, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType.brand, drill: true },
    });
    expect(drill.status).toBe(201);
    const [crossing] = await c.query<{ linked_incident_id: string }>('SELECT linked_incident_id FROM link_crossings WHERE source_incident_id = $1', [drill.body.incident.id]);
    await service.waitFor((r) => r.some((x) => x.subscriptionId === sub.id && x.payload?.incidentId === crossing?.linked_incident_id), 20_000);
    const drillPush = service.for(sub.id).find((x) => x.payload?.incidentId === crossing?.linked_incident_id)?.payload;
    expect(drillPush).toMatchObject({ drill: true, title: 'ÖVNING – Brand – Vasastadens bibliotek' });
  });
});
