import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type IncidentAnswer } from './helpers/cluster.js';
import { callNode, type AppNode } from './helpers/nodes.js';

/**
 * ADR 027 across nodes: a site's instruction and an organisation admin's live list reach devices
 * connected to another node than the one that committed the change.
 */
describe('the instruction at your site across nodes', () => {
  let c: Cluster;
  let nodeA: AppNode;
  let nodeB: AppNode;

  beforeAll(async () => {
    c = await Cluster.start(2);
    [nodeA, nodeB] = c.nodes as [AppNode, AppNode];
    // Bertil works at Vasaskolan in no group: no alarm targets him.
    await c.query('DELETE FROM alarm_group_members WHERE person_id = $1', [c.person.bertil]);
  });
  afterAll(() => c?.stop());

  it('a lockdown raised through node A reaches Bertil and the organisation admin on node B, and so does its all clear', async () => {
    const bertil = await c.connect('bertil', [nodeB.url]);
    const admin = await c.connect('admin', [nodeB.url]);
    await bertil.waitFor((d) => d.siteInstructions.some((n) => n.siteId === c.vasaskolan), 10_000, 'the instruction on connect');

    const res = await callNode<IncidentAnswer>(nodeA.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType.inrymning },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const lockdown = res.body.incident.id;
    const latest = () => bertil.siteInstructions.filter((n) => n.siteId === c.vasaskolan).at(-1);
    await bertil.waitFor(() => latest()?.instruction?.incidentId === lockdown, 10_000, 'the lockdown from node A');
    expect(latest()).toMatchObject({ silent: true, instruction: { typeKey: 'inrymning' } });
    await admin.waitFor((d) => d.orgIncidents.some((n) => n.incident.id === lockdown), 10_000, 'the new incident in the admin\'s list');
    expect(bertil.events.filter((e) => e.incidentId === lockdown)).toEqual([]);

    await c.resolveAllActive(nodeA);
    await bertil.waitFor(() => latest()?.instruction === null, 10_000, 'back to normal from node A');
    await admin.waitFor((d) => d.orgIncidents.some((n) => n.incident.id === lockdown && n.incident.state === 'resolved'), 10_000, 'the all clear');
  });
});
