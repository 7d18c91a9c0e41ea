import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { migrate } from '../src/db/migrate.js';
import { startTestPostgres, startTestRedis, type PostgresServer, type RedisServer } from './helpers/services.js';

type App = Awaited<ReturnType<typeof buildApp>>;

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
    await pool.end();
    const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: url, REDIS_URL: redis.url, DATABASE_CONNECT_TIMEOUT_MS: '500' });
    app = await buildApp({ config, connectionString: url });
    await app.ready();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await postgres?.remove();
  });

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

  it('answers 503 naming redis while Redis is stopped, and 200 again once it is back', async () => {
    await expect.poll(async () => (await readyz()).status, { timeout: 15_000, interval: 200 }).toBe(200);
    await redis.stop();
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.failing).toEqual(['redis']);

    await redis.start();
    await expect.poll(async () => (await readyz()).status, { timeout: 15_000, interval: 200 }).toBe(200);
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
