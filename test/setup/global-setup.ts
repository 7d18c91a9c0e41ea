import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.js';
import { seedDemo } from '../../src/seed/demo.js';
import { startTestPostgres, startTestRedis } from '../helpers/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    templateDatabase: string;
    redisUrl: string;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Starts the real services every test file shares: PostgreSQL (embedded, or TEST_DATABASE_URL)
 * with a migrated and seeded template database, and Redis (redis-server, or REDIS_URL). Each test
 * file then clones the template into a database of its own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const external = process.env.TEST_DATABASE_URL;
  const postgres = external ? undefined : await startTestPostgres();
  const adminUrl = external ?? (postgres as { adminUrl: string }).adminUrl;

  const template = `samlarm_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, template), max: 2 });
  await migrate(pool, pino({ level: 'warn' }));
  // Without the demo link: most test files are about one organisation; link tests add it (seedDemoLinks).
  await seedDemo(pool, { links: false });
  await pool.end();

  const redis = process.env.REDIS_URL ? undefined : await startTestRedis();
  const redisUrl = process.env.REDIS_URL ?? (redis as { url: string }).url;

  project.provide('pgAdminUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('redisUrl', redisUrl);
  console.log(`test services ready in ${Date.now() - started} ms (postgres ${external ? 'external' : 'embedded'}, redis ${process.env.REDIS_URL ? 'external' : 'local'})`);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`).catch(() => undefined);
    await admin.end();
    await redis?.stop();
    await postgres?.remove();
  };
}
