import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Cluster, sleep, type IncidentAnswer } from './helpers/cluster.js';
import { callNode, type AppNode } from './helpers/nodes.js';
import { FakePushService, PUSH_SERVICE_CA, type Received } from './helpers/push-service.js';

/**
 * The outbox on several real app processes: two nodes' workers claim from the same table with
 * FOR UPDATE SKIP LOCKED, so together they send every row once; and a node killed while its pushes
 * hang at the push service leaves nothing stuck: once its claims' leases end, the other node sends
 * what it held.
 */

// A request may take up to 10 s (a slow machine must not turn slow answers into retries); a claim lasts
// 3 s unless its node renews it, which it does while it sends.
const PUSH_TIMEOUT_MS = 10_000;
const PUSH_CLAIM_LEASE_MS = 3000;
/** Subscriptions per recipient: Anna raises, and her four colleagues at Vasaskolan each have this many devices. */
const DEVICES_PER_PERSON = 60;
const RECIPIENTS = ['bertil', 'cecilia', 'rektor', 'kris'] as const;
const SUBSCRIPTIONS = DEVICES_PER_PERSON * RECIPIENTS.length;
/** A push service that takes a moment per request keeps each node's per-origin slots busy, so both nodes must claim. */
const PER_ORIGIN = 16;

interface DeliveryRow { id: string; state: string; attempts: number; claimed_by: string | null }

const deliveryIdOf = (r: Received): string | null => (typeof r.payload?.deliveryId === 'string' ? r.payload.deliveryId : null);

describe('the push outbox on two nodes', () => {
  let c: Cluster;
  let service: FakePushService;
  let nodeA: AppNode;
  let nodeB: AppNode;
  let slowDown: NodeJS.Timeout | undefined;
  const subscriptionIds: string[] = [];

  const rows = (incidentId: string) => c.query<DeliveryRow>(
    "SELECT id::text, state::text, attempts, claimed_by FROM deliveries WHERE incident_id = $1 AND kind = 'alarm' ORDER BY id", [incidentId],
  );

  const raiseThrough = async (node: AppNode): Promise<string> => {
    const res = await callNode<IncidentAnswer>(node.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType.hot },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id;
  };

  /** The all clear of the previous test's alarm is out before the next test starts. */
  const outboxDrained = () => expect.poll(async () => (await c.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM deliveries WHERE state IN ('queued', 'sending')",
  ))[0]?.n, { timeout: 20_000, interval: 100 }).toBe(0);

  const ofIncident = (incidentId: string) => (r: Received) => r.payload?.incidentId === incidentId && r.payload.kind === 'alarm';

  beforeAll(async () => {
    service = await FakePushService.start();
    c = await Cluster.start(1);
    // The cluster's first node has no push configuration; it only signed the demo people in.
    await (c.nodes[0] as AppNode).kill();
    const env = {
      PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA, PUSH_POLL_MS: '50',
      PUSH_TIMEOUT_MS: String(PUSH_TIMEOUT_MS), PUSH_CLAIM_LEASE_MS: String(PUSH_CLAIM_LEASE_MS),
      PUSH_CONCURRENCY_PER_ORIGIN: String(PER_ORIGIN),
    };
    [nodeA, nodeB] = await Promise.all([c.launch({ env }), c.launch({ env })]) as [AppNode, AppNode];

    // Hundreds of devices without hundreds of sign-ins: a session and a subscription per device, straight into Postgres.
    const people: string[] = [];
    const endpoints: string[] = [];
    const p256dh: string[] = [];
    const auth: string[] = [];
    for (const who of RECIPIENTS) {
      for (let i = 0; i < DEVICES_PER_PERSON; i++) {
        const sub = service.subscribe();
        subscriptionIds.push(sub.id);
        people.push(c.person[who]);
        endpoints.push(sub.endpoint);
        p256dh.push(sub.keys.p256dh);
        auth.push(sub.keys.auth);
      }
    }
    await c.query(`
      WITH device AS (
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS d(person_id, endpoint, p256dh, auth, n)
      ), session AS (
        INSERT INTO sessions (person_id, token_hash, kind, label, expires_at)
        SELECT person_id, sha256(convert_to(endpoint, 'UTF8')), 'device', 'phone ' || n, now() + interval '30 days' FROM device
        RETURNING id, person_id, label
      )
      INSERT INTO push_subscriptions (person_id, session_id, endpoint, origin, p256dh, auth)
      SELECT d.person_id, s.id, d.endpoint, $5, d.p256dh, d.auth FROM device d JOIN session s ON s.label = 'phone ' || d.n`,
    [people, endpoints, p256dh, auth, service.origin]);
  });

  beforeEach(async () => {
    // A push service that answers at once, and no alarm active: each raise makes a new incident.
    clearInterval(slowDown);
    service.releaseHanging();
    service.defaultAnswer = { status: 201 };
    await c.resolveAllActive(nodeB);
  });

  afterAll(async () => {
    clearInterval(slowDown);
    await c?.stop();
    service?.releaseHanging();
    await service?.close();
  });

  it(`two nodes running workers send each of an alarm's ${SUBSCRIPTIONS} outbox rows exactly once, and both take part`, async () => {
    // Every request waits up to 25 ms: while one node's slots for the service are full, the other claims.
    service.defaultAnswer = 'hang';
    slowDown = setInterval(() => service.releaseHanging(), 25);
    const incidentId = await raiseThrough(nodeA);
    await service.waitFor((r) => new Set(r.filter(ofIncident(incidentId)).map(deliveryIdOf)).size >= SUBSCRIPTIONS, 20_000);
    // Whatever is still on its way would show up now.
    await expect.poll(async () => (await rows(incidentId)).filter((r) => r.state !== 'sent').length, { timeout: 5000, interval: 100 }).toBe(0);
    await sleep(300);

    const outbox = await rows(incidentId);
    expect(outbox).toHaveLength(SUBSCRIPTIONS);
    const received = service.received.filter(ofIncident(incidentId));
    const perDelivery = new Map<string | null, number>();
    for (const r of received) perDelivery.set(deliveryIdOf(r), (perDelivery.get(deliveryIdOf(r)) ?? 0) + 1);
    expect(received).toHaveLength(SUBSCRIPTIONS);
    expect([...perDelivery.values()].every((n) => n === 1)).toBe(true);
    expect([...perDelivery.keys()].sort()).toEqual(outbox.map((r) => r.id).sort());
    // One request per row: no row was claimed by both nodes (attempts counts claims).
    expect(outbox.every((r) => r.state === 'sent' && r.attempts === 1)).toBe(true);
    expect(new Set(received.map((r) => r.subscriptionId)).size).toBe(SUBSCRIPTIONS);
    const byNode = new Map<string, number>();
    for (const r of outbox) byNode.set(r.claimed_by ?? 'none', (byNode.get(r.claimed_by ?? 'none') ?? 0) + 1);
    expect(byNode.size, JSON.stringify([...byNode])).toBe(2);
    expect(byNode.has('none')).toBe(false);
  });

  it('a push that takes longer than its claim\'s lease is sent once: its node renews the claim while it waits for the answer', async () => {
    await outboxDrained();
    // A few devices' push requests hang for twice the lease; the others are answered at once, so both nodes have
    // free slots and would take over any claim that ran out.
    const slow = subscriptionIds.slice(0, 4);
    for (const id of slow) service.script(id, ['hang']);
    const incidentId = await raiseThrough(nodeA);
    const slowRequests = () => service.received.filter((r) => ofIncident(incidentId)(r) && slow.includes(r.subscriptionId));
    await service.waitFor(() => slowRequests().length >= slow.length, 10_000);
    await sleep(PUSH_CLAIM_LEASE_MS * 2);
    const waiting = (await rows(incidentId)).filter((r) => r.state === 'sending');
    expect(waiting).toHaveLength(slow.length);
    // Nobody took over a claim still being renewed: each was claimed once, and the service was asked once.
    expect(waiting.every((r) => r.attempts === 1)).toBe(true);
    expect(slowRequests()).toHaveLength(slow.length);

    service.releaseHanging();
    await expect.poll(async () => (await rows(incidentId)).filter((r) => r.state !== 'sent').length, { timeout: 20_000, interval: 100 }).toBe(0);
    expect((await rows(incidentId)).every((r) => r.attempts === 1)).toBe(true);
    const received = service.received.filter(ofIncident(incidentId)).map(deliveryIdOf);
    expect(received).toHaveLength(SUBSCRIPTIONS);
    expect(new Set(received).size).toBe(SUBSCRIPTIONS);
  });

  it('escalation steps due while both nodes poll run once: one round of reminders to every unreached device, one alert to the contacts', async () => {
    // A threat policy short enough to wait for: push again after 5 s (once), contacts after 6 s.
    await c.query("UPDATE alarm_types SET repush_after_seconds = 5, max_repushes = 1, contacts_after_seconds = 6 WHERE organisation_id IS NULL AND key = 'hot'");
    try {
      const incidentId = await raiseThrough(nodeB);
      const ofKind = (kind: string) => (r: Received) => r.payload?.incidentId === incidentId && r.payload.kind === kind;
      await service.waitFor((r) => r.filter(ofKind('escalation')).length >= DEVICES_PER_PERSON, 15_000);
      await expect.poll(async () => (await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM escalation_steps WHERE incident_id = $1 AND state <> 'done'", [incidentId],
      ))[0]?.n, { timeout: 5000, interval: 100 }).toBe(0);
      await sleep(500);

      const events = await c.query<{ type: string }>(
        "SELECT type FROM incident_events WHERE incident_id = $1 AND type IN ('repushed', 'escalated') ORDER BY id", [incidentId],
      );
      expect(events.map((e) => e.type)).toEqual(['repushed', 'escalated']);
      const reminders = service.received.filter(ofKind('reminder'));
      expect(reminders).toHaveLength(SUBSCRIPTIONS);
      expect(new Set(reminders.map(deliveryIdOf)).size).toBe(SUBSCRIPTIONS);
      // The Krisgrupp's contact with devices is the rektor: each of her devices is told once.
      const escalations = service.received.filter(ofKind('escalation'));
      expect(escalations).toHaveLength(DEVICES_PER_PERSON);
      expect(new Set(escalations.map((r) => r.subscriptionId)).size).toBe(DEVICES_PER_PERSON);
    } finally {
      await c.query("UPDATE alarm_types SET repush_after_seconds = 120, max_repushes = 3, contacts_after_seconds = 300 WHERE organisation_id IS NULL AND key = 'hot'");
    }
  });

  it('a node killed while its pushes hang at the push service leaves no row stuck: the other node sends every row once their leases end', async () => {
    await outboxDrained();

    service.defaultAnswer = 'hang';
    const incidentId = await raiseThrough(nodeA);
    // Both nodes have pushes hanging at the service.
    let inFlight: DeliveryRow[] = [];
    await expect.poll(async () => {
      inFlight = (await rows(incidentId)).filter((r) => r.state === 'sending');
      return new Set(inFlight.map((r) => r.claimed_by)).size;
    }, { timeout: 5000, interval: 20 }).toBe(2);
    await service.waitFor((r) => r.filter(ofIncident(incidentId)).length >= PER_ORIGIN * 2, 5000);

    await nodeA.kill();
    // The service recovers: what is asked of it from now on is accepted.
    service.defaultAnswer = { status: 201 };
    const holders = [...new Set(inFlight.map((r) => r.claimed_by))];

    // The killed node's rows wait out their lease; the survivor's own hung requests time out and are retried.
    await expect.poll(async () => (await rows(incidentId)).filter((r) => r.state !== 'sent').length, {
      timeout: PUSH_CLAIM_LEASE_MS + PUSH_TIMEOUT_MS + 20_000, interval: 50,
    }).toBe(0);
    const outbox = await rows(incidentId);
    expect(outbox).toHaveLength(SUBSCRIPTIONS);
    // Every row ended with the surviving node, including the ones the killed node held.
    const survivors = new Set(outbox.map((r) => r.claimed_by));
    expect(survivors.size).toBe(1);
    const [survivor] = [...survivors];
    const killedNode = holders.find((h) => h !== survivor);
    const heldByKilled = inFlight.filter((r) => r.claimed_by === killedNode).map((r) => r.id);
    expect(heldByKilled.length).toBeGreaterThan(0);
    const finished = new Map(outbox.map((r) => [r.id, r]));
    for (const id of heldByKilled) {
      expect(finished.get(id)?.state).toBe('sent');
      expect(finished.get(id)?.attempts).toBeGreaterThan(1);
    }

    // Every row reached the push service and was accepted (2xx) once; before that, some hung.
    const accepted = service.received.filter((r) => ofIncident(incidentId)(r) && r.status === 201).map(deliveryIdOf);
    expect(accepted).toHaveLength(SUBSCRIPTIONS);
    expect([...new Set(accepted)].sort()).toEqual(outbox.map((r) => r.id).sort());
    expect(service.received.some((r) => ofIncident(incidentId)(r) && r.status === 'hang')).toBe(true);
  });
});
