import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';

const METRICS_TOKEN = 'prometheus-scrapes-with-this-token';

describe('operations endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ METRICS_TOKEN, HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '4000' });
  });
  afterAll(() => t.close());

  const metrics = () => t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });

  it('healthz answers 200 without authentication', async () => {
    const res = await t.request({ method: 'GET', url: '/healthz' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('readyz answers 200 when Postgres and Redis answer', async () => {
    const res = await t.request({ method: 'GET', url: '/readyz' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.checks.postgres.ok).toBe(true);
    expect(res.body.checks.redis.ok).toBe(true);
  });

  it('metrics are served in the Prometheus text format and count requests by route', async () => {
    await t.request({ method: 'GET', url: '/healthz' });
    const res = await metrics();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/samlarm_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.body).toContain('samlarm_process_cpu_seconds_total');
  });

  it('metrics count the connected devices and the alarm events this node published', async () => {
    const anna = await t.login('anna@vasaskolan.example');
    const raised = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: anna,
      body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.hot },
    });
    expect(raised.status).toBe(201);
    await expect.poll(async () => (await metrics()).body, { timeout: 5000 })
      .toMatch(/samlarm_incident_events_published_total\{type="raised"\} 1/);
    expect((await metrics()).body).toMatch(/samlarm_connected_devices 0/);
  });

  it('metrics answer only Prometheus, with METRICS_TOKEN; without it, or without METRICS_TOKEN set, they are not served', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-of-some-length', `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN]) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.json().code).toBe('unauthenticated');
      expect(res.body).not.toContain('samlarm_');
    }
    const unset = await startApp();
    try {
      const res = await unset.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('not_found');
    } finally {
      await unset.close();
    }
  });

  it('connections that send their request a byte at a time (slowloris) are cut off, and the node keeps serving', async () => {
    const base = new URL(await t.listen());
    const slow = Array.from({ length: 30 }, (_, i) => {
      const socket = net.connect(Number(base.port), base.hostname);
      socket.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
      // Half never finish their headers; the other half never finish a body they announced.
      const start = i % 2 === 0
        ? 'GET /healthz HTTP/1.1\r\nHost: samlarm\r\nX-Slow: '
        : 'POST /api/v1/auth/login HTTP/1.1\r\nHost: samlarm\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{';
      socket.write(start);
      const drip = setInterval(() => socket.write('a'), 2000);
      return { socket, closed: closed.finally(() => clearInterval(drip)) };
    });
    const started = Date.now();
    try {
      const closedAt = await Promise.race([
        Promise.all(slow.map((s) => s.closed)),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('slow connections still open after 30 s')), 30_000)),
      ]);
      expect(closedAt.length).toBe(30);
      expect(Math.max(...closedAt) - started).toBeGreaterThan(1500);
      const res = await fetch(new URL('/healthz', base));
      expect(res.status).toBe(200);
    } finally {
      for (const s of slow) s.socket.destroy();
    }
  }, 45_000);

  it('the OpenAPI document lists every API route with response schemas', async () => {
    const res = await t.request({ method: 'GET', url: '/docs/json' });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(res.body.paths);
    expect(paths).toContain('/api/v1/auth/login');
    expect(paths).toContain('/api/v1/alarm-groups/{id}/members');
    for (const [path, operations] of Object.entries(res.body.paths as Record<string, Record<string, { responses?: object }>>)) {
      for (const [method, op] of Object.entries(operations)) {
        expect(op.responses, `${method} ${path} documents its responses`).toBeDefined();
      }
    }
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
  });

  it('an unknown route answers 404 with the stable not_found code', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });
});
