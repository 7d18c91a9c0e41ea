import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { migrate } from '../src/db/migrate.js';
import { DEMO_PASSWORD, seedDemo } from '../src/seed/demo.js';
import { demoEmail, type Who } from './helpers/demo.js';
import { TestDevice } from './helpers/device.js';
import { startTestPostgres, startTestRedis, type PostgresServer, type RedisServer } from './helpers/services.js';

type App = Awaited<ReturnType<typeof buildApp>>;
const METRICS_TOKEN = 'readiness-test-scrape-token';

/**
 * Readiness against services of this file's own, so they can be stopped without disturbing the
 * other test files.
 */
describe('readiness when a part is down', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let app: App;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startTestPostgres(), startTestRedis()]);
    const url = postgres.adminUrl.replace(/\/postgres$/, '/samlarm');
    const pool = new pg.Pool({ connectionString: url });
    await migrate(pool, pino({ level: 'silent' }));
    await seedDemo(pool, { links: false });
    await pool.end();
    const config = loadConfig({
      LOG_LEVEL: 'silent', DATABASE_URL: url, REDIS_URL: redis.url, DATABASE_CONNECT_TIMEOUT_MS: '500', METRICS_TOKEN,
      DELIVERY_WORKER: 'false', RETENTION_JOB: 'false',
    });
    app = await buildApp({ config, connectionString: url });
    await app.ready();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await postgres?.remove();
  });

  const login = async (who: Who): Promise<string> => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: demoEmail(who), password: DEMO_PASSWORD } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ token: string }>().token;
  };
  const redisUp = async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    return /^samlarm_redis_up (\d)$/m.exec(res.body)?.[1];
  };

  const readyz = async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    return { status: res.statusCode, body: res.json() };
  };

  it('answers 503 naming postgres while Postgres is stopped, and 200 again once it is back', async () => {
    expect((await readyz()).status).toBe(200);

    await postgres.stop();
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.code).toBe('not_ready');
    expect(down.body.failing).toEqual(['postgres']);
    expect(down.body.checks.postgres.ok).toBe(false);
    expect(down.body.checks.redis.ok).toBe(true);
    expect(down.body.degraded).toEqual([]);

    await postgres.start();
    await expect.poll(async () => (await readyz()).status, { timeout: 15_000, interval: 200 }).toBe(200);
  });

  it('an API call while Postgres is stopped gets 503 database_unavailable at once, not a 500 or a hang', async () => {
    await postgres.stop();
    try {
      const started = Date.now();
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'anna@vasaskolan.example', password: 'x' } });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('database_unavailable');
      expect(res.json().message).toContain('112');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await postgres.start();
    }
  });

  it('stays ready while Redis is stopped, reporting it degraded in the body and the metrics, and raises to its own devices', async () => {
    await expect.poll(async () => (await readyz()).status, { timeout: 15_000, interval: 200 }).toBe(200);
    expect((await readyz()).body.degraded).toEqual([]);
    expect(await redisUp()).toBe('1');
    const [anna, bertil] = [await login('anna'), await login('bertil')];
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const device = await TestDevice.connect({ urls: [url], token: bertil, syncEveryMs: 0 });
    try {
      await device.waitFor((d) => d.cursor !== null, 5000, 'initial catch-up');

      await redis.stop();
      const down = await readyz();
      expect(down.status).toBe(200);
      expect(down.body.status).toBe('ready');
      expect(down.body.failing).toEqual([]);
      expect(down.body.degraded).toEqual(['redis']);
      expect(down.body.checks.redis.ok).toBe(false);
      expect(await redisUp()).toBe('0');

      const siteId = (await app.db.query<{ id: string }>("SELECT id FROM sites WHERE name = 'Vasaskolan'")).rows[0]?.id;
      const alarmTypeId = (await app.db.query<{ id: string }>("SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = 'brand'")).rows[0]?.id;
      const raised = await app.inject({
        method: 'POST', url: '/api/v1/alarms', headers: { authorization: `Bearer ${anna}` }, payload: { pressId: randomUUID(), siteId, alarmTypeId },
      });
      expect(raised.statusCode, raised.body).toBe(201);
      const incidentId = raised.json<{ incident: { id: string } }>().incident.id;
      await device.waitFor((d) => d.of('raised', incidentId).length === 1, 5000, 'the alarm on a device of the raising node without Redis');
    } finally {
      device.close();
      await redis.start();
    }
    await expect.poll(async () => (await readyz()).body.degraded, { timeout: 15_000, interval: 200 }).toEqual([]);
  });

  it('a node shuts down within moments while Redis is away and its connections are still trying to reconnect', async () => {
    const other = await buildApp({ config: app.config, connectionString: postgres.adminUrl.replace(/\/postgres$/, '/samlarm') });
    await other.ready();
    await redis.stop();
    try {
      // Long enough for every connection to have lost Redis and be waiting for its next attempt.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const closing = other.close().then(() => 'closed' as const);
      const outcome = await Promise.race([closing, new Promise<'still closing'>((resolve) => setTimeout(() => resolve('still closing'), 20_000))]);
      expect(outcome).toBe('closed');
    } finally {
      await redis.start();
    }
  });

  it('answers 503 naming draining once shutdown has begun', async () => {
    app.lifecycle.draining = true;
    try {
      const res = await readyz();
      expect(res.status).toBe(503);
      expect(res.body.failing).toEqual(['draining']);
    } finally {
      app.lifecycle.draining = false;
    }
  });
});
