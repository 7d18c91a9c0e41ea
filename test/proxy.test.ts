import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, hasEvents, sleep, type IncidentAnswer, type Who } from './helpers/cluster.js';
import type { TestDevice } from './helpers/device.js';
import { DEMO_PASSWORD } from '../src/seed/demo.js';
import { callNode, type AppNode } from './helpers/nodes.js';
import { startProxy, type Proxy } from './helpers/proxy.js';

const METRICS_TOKEN = 'metrics-token-for-the-proxy-test';

/**
 * The topology of docker-compose.yml: Debian's nginx running deploy/nginx.conf in front of two real
 * nodes on one Redis and one Postgres (issue 15, item 5). Devices know only the proxy's address.
 */
describe('two nodes behind deploy/nginx.conf', () => {
  let c: Cluster;
  let proxy: Proxy;

  /** Socket.IO connections open on a node, from its own /metrics (reached directly, as Prometheus does). */
  const connectedTo = async (node: AppNode): Promise<number> => {
    const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const line = (await res.text()).split('\n').find((l) => l.startsWith('samlarm_connected_devices '));
    return Number(line?.split(' ')[1]);
  };

  /** Anna raises an alarm at Vasaskolan through the proxy; returns its 'raised' event id. */
  const raiseThroughProxy = async (type: 'inrymning' | 'brand'): Promise<string> => {
    const res = await callNode<IncidentAnswer>(proxy.url, 'POST', '/api/v1/alarms', {
      token: c.token.anna, body: { pressId: randomUUID(), siteId: c.vasaskolan, alarmTypeId: c.alarmType[type], confirmContradiction: true },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return c.raisedEventId(res.body.incident.id);
  };

  beforeAll(async () => {
    // As in docker-compose.yml: the nodes trust exactly one proxy hop.
    c = await Cluster.start(2, { TRUST_PROXY: '1', METRICS_TOKEN });
    proxy = await startProxy(c.nodes.map((node) => node.port));
  });

  afterAll(async () => {
    await proxy?.stop();
    await c?.stop();
  });

  afterEach(() => c.closeDevices());

  it('devices connect through the proxy over a websocket, a node is killed behind it, and they come back through it with every alarm', async () => {
    const people: Who[] = ['anna', 'bertil', 'cecilia', 'rektor'];
    const devices: TestDevice[] = [];
    for (const who of [...people, ...people]) devices.push(await c.connect(who, [proxy.url]));
    // One more phone that is away (no signal) from before the first alarm until after the node died.
    const away = await c.connect('bertil', [proxy.url]);
    for (const device of [...devices, away]) {
      await device.waitFor((d) => d.cursor !== null, 5000, 'a first cursor');
      // Only the websocket transport is offered, so a connection at all means nginx passed the upgrade on.
      expect(device.socket.io.engine.transport.name).toBe('websocket');
    }
    away.goOffline();

    const [first, second] = c.nodes as [AppNode, AppNode];
    let [onFirst, onSecond] = [0, 0];
    for (let i = 0; i < 100; i += 1) {
      [onFirst, onSecond] = await Promise.all([connectedTo(first), connectedTo(second)]);
      if (onFirst + onSecond === devices.length) break;
      await sleep(50);
    }
    expect(onFirst + onSecond, 'every device is connected to a node through the proxy').toBe(devices.length);

    const before = await raiseThroughProxy('inrymning');
    for (const device of devices) await device.waitFor(hasEvents([before]), 5000, 'the alarm raised before the kill');

    // Kill the node with more devices (at least half of them), as a crash would.
    const [victim, survivor] = onFirst >= onSecond ? [first, second] : [second, first];
    const onVictim = Math.max(onFirst, onSecond);
    await victim.kill();
    // Raised at once: nginx finds the dead node refusing connections and passes the request to the survivor.
    const during = await raiseThroughProxy('brand');
    await away.comeBack([proxy.url]);

    for (const device of [...devices, away]) {
      await device.waitFor(hasEvents([before, during]), 10_000, 'both alarms, back through the proxy');
      expect(device.socket.connected).toBe(true);
      expect(device.socket.io.engine.transport.name).toBe('websocket');
      // The one resync is the first connection's, which had no cursor yet: since then, catch-up from the cursor.
      expect(device.resyncs.map((r) => r.reason), 'caught up from its cursor, not told to resync').toEqual(['no_cursor']);
    }
    expect(devices.filter((d) => d.disconnectReasons.length > 0), "the killed node's devices lost their connection").toHaveLength(onVictim);
    // nginx logs a request when it ends: the killed node's websockets are there, upgraded (101) by the proxy.
    const upgraded = proxy.output().match(/"GET \/socket\.io\/\?EIO=4&transport=websocket HTTP\/1\.1" 101 /g) ?? [];
    expect(upgraded.length).toBeGreaterThanOrEqual(onVictim);
    for (let i = 0; i < 100 && (await connectedTo(survivor)) !== devices.length + 1; i += 1) await sleep(50);
    expect(await connectedTo(survivor), 'every device is back, on the survivor').toBe(devices.length + 1);
  });

  it('a client cannot forge its address with X-Forwarded-For, and /metrics is not served to the outside', async () => {
    const res = await fetch(`${proxy.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify({ email: 'cecilia@vasaskolan.example', password: DEMO_PASSWORD }),
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    // The address the node recorded for the session (and rate-limits sign-in by) is the proxy's peer, not the forged one.
    const [session] = await c.query<{ ip: string }>("SELECT ip FROM sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))", [token]);
    expect(session?.ip).toBe('127.0.0.1');

    const metrics = await fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(404);
  });
});
