import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type IncidentAnswer } from './helpers/cluster.js';
import { TestDevice } from './helpers/device.js';
import { callNode, loginAt, type AppNode } from './helpers/nodes.js';
import { FakePushService, PUSH_SERVICE_CA } from './helpers/push-service.js';

/**
 * Deactivating a person, on two real nodes: their open sockets on every node close at once (the
 * realtime plugin's endSessions), their push subscriptions go with their sessions, they are no longer
 * among an alarm's recipients, and what they answered before stays in the review.
 */
describe('deactivating a person on a cluster', () => {
  let c: Cluster;
  let nodeA: AppNode;
  let nodeB: AppNode;
  let push: FakePushService;

  beforeAll(async () => {
    push = await FakePushService.start();
    c = await Cluster.start(2, { PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50' });
    [nodeA, nodeB] = c.nodes as [AppNode, AppNode];
  });
  afterAll(async () => {
    await c?.stop();
    await push?.close();
  });

  it('ends their sockets on both nodes and their push subscriptions at once, leaves them out of the next alarm, and keeps their past answer', async () => {
    // Bertil has a phone on node A and a laptop on node B, each its own session, the phone with push.
    const phoneToken = await loginAt(nodeA.url, 'bertil@vasaskolan.example');
    const laptopToken = await loginAt(nodeB.url, 'bertil@vasaskolan.example');
    const sub = push.subscribe();
    const registered = await callNode(nodeA.url, 'PUT', '/api/v1/me/device/push-subscription', { token: phoneToken, body: { endpoint: sub.endpoint, keys: sub.keys } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    const phone = await TestDevice.connect({ urls: [nodeA.url], token: phoneToken });
    const laptop = await TestDevice.connect({ urls: [nodeB.url], token: laptopToken });

    // An alarm he answers before he leaves.
    const before = await callNode<IncidentAnswer>(nodeA.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType.hot },
    });
    expect(before.status, JSON.stringify(before.body)).toBe(201);
    const earlier = before.body.incident.id;
    await push.waitFor((received) => received.some((r) => r.subscriptionId === sub.id && r.payload?.incidentId === earlier), 20_000);
    expect((await callNode(nodeB.url, 'POST', `/api/v1/incidents/${earlier}/responses`, { token: laptopToken, body: { status: 'safe' } })).status).toBe(200);
    await c.resolveAllActive(nodeA);

    // The admin deactivates him through node A: the laptop's socket on node B closes too.
    const off = await callNode(nodeA.url, 'PATCH', `/api/v1/people/${c.person.bertil}`, { token: c.token.admin, body: { active: false } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    await phone.waitFor((d) => d.endedByServer, 20_000, 'the phone on node A closed by the server');
    await laptop.waitFor((d) => d.endedByServer, 20_000, 'the laptop on node B closed by the server');
    expect(await c.query('SELECT 1 FROM push_subscriptions WHERE person_id = $1', [c.person.bertil])).toHaveLength(0);
    for (const [node, token] of [[nodeA, phoneToken], [nodeB, laptopToken]] as const) {
      expect((await callNode(node.url, 'GET', '/api/v1/me', { token })).status).toBe(401);
    }

    // The next alarm does not target him, and nothing is pushed to his old phone.
    const pushedBefore = push.for(sub.id).length;
    const after = await callNode<IncidentAnswer>(nodeB.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType.brand },
    });
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    const recipients = await c.query<{ person_id: string }>('SELECT person_id FROM incident_recipients WHERE incident_id = $1', [after.body.incident.id]);
    expect(recipients.map((r) => r.person_id)).not.toContain(c.person.bertil);
    expect(recipients.map((r) => r.person_id)).toContain(c.person.cecilia);
    const queued = await c.query('SELECT 1 FROM deliveries WHERE incident_id = $1 AND person_id = $2', [after.body.incident.id, c.person.bertil]);
    expect(queued).toHaveLength(0);
    expect(push.for(sub.id)).toHaveLength(pushedBefore);

    // His answer to the earlier alarm stays in its roll call.
    const rollcall = await callNode<{ people: { personId: string; status: string | null }[] }>(nodeB.url, 'GET', `/api/v1/incidents/${earlier}/rollcall`, { token: c.token.kris });
    expect(rollcall.body.people.find((p) => p.personId === c.person.bertil)?.status).toBe('safe');
  });
});

/**
 * A lost phone's session ended from the laptop through one node while the node that holds the phone's socket
 * stalls (a long pause, a starved host): the node hears of it when it resumes, however long it was away, and
 * closes the socket before anything more reaches it; where the inter-node stream no longer holds the message,
 * the node checks the sessions of all its sockets.
 */
describe('ending a session while the node that holds its socket stalls', () => {
  let c: Cluster;
  let nodeA: AppNode;
  let nodeB: AppNode;

  beforeAll(async () => {
    c = await Cluster.start(2);
    [nodeA, nodeB] = c.nodes as [AppNode, AppNode];
  });
  afterAll(() => c?.stop());

  /** Bertil's laptop on node A and his phone on node B. Node B stops, and only once any read it had waiting in Redis has timed out is the phone's session ended from the laptop; `meanwhile` runs before it resumes. */
  const endPhoneWhileBStalls = async (meanwhile: () => Promise<void> = async () => undefined): Promise<TestDevice> => {
    const laptopToken = await loginAt(nodeA.url, 'bertil@vasaskolan.example');
    const phoneToken = await loginAt(nodeB.url, 'bertil@vasaskolan.example');
    // A phone that only listens: it sends nothing a node could check its session by.
    const phone = await TestDevice.connect({ urls: [nodeB.url], token: phoneToken, syncEveryMs: 0, autoReceipt: false, answersHints: false });
    const sessions = await callNode<{ sessions: { id: string; current: boolean }[] }>(nodeB.url, 'GET', '/api/v1/auth/sessions', { token: phoneToken });
    const phoneSession = sessions.body.sessions.find((s) => s.current)?.id;
    nodeB.freeze();
    try {
      await new Promise((r) => setTimeout(r, 2500));
      const ended = await callNode(nodeA.url, 'DELETE', `/api/v1/auth/sessions/${phoneSession}`, { token: laptopToken });
      expect(ended.status, JSON.stringify(ended.body)).toBe(204);
      await meanwhile();
    } finally {
      nodeB.thaw();
    }
    return phone;
  };

  /** The phone was closed by the server, and an alarm raised afterwards does not reach it. */
  const phoneEnded = async (phone: TestDevice) => {
    await phone.waitFor((d) => d.endedByServer, 20_000, 'the phone on the stalled node closed by the server');
    const after = await callNode<IncidentAnswer>(nodeA.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType.brand },
    });
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    await c.resolveAllActive(nodeA);
    expect(phone.of('raised', after.body.incident.id)).toHaveLength(0);
    phone.close();
  };

  it('closes the phone\'s socket when its node resumes from a stall longer than a blocking read, and no later alarm reaches it', async () => {
    await phoneEnded(await endPhoneWhileBStalls());
  });

  it('closes it too when the stream was trimmed past where the stalled node was, the message with it', async () => {
    if (!c.redis) throw new Error('no redis');
    const admin = new Redis(c.redis.url);
    admin.on('error', () => undefined);
    try {
      await phoneEnded(await endPhoneWhileBStalls(async () => {
        expect(await admin.xtrim('samlarm:inter-node', 'MAXLEN', 0)).toBeGreaterThan(0);
      }));
    } finally {
      admin.disconnect();
    }
  });
});
