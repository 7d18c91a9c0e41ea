import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';

describe('operations endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

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
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
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
    await expect.poll(async () => (await t.app.inject({ method: 'GET', url: '/metrics' })).body, { timeout: 5000 })
      .toMatch(/samlarm_incident_events_published_total\{type="raised"\} 1/);
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/samlarm_connected_devices 0/);
  });

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
