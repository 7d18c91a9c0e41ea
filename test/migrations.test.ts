import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.js';
import { createTestDatabase } from './helpers/app.js';

/** Everything that makes up the schema, in a stable order: tables, columns, indexes, constraints, types, triggers. */
const SCHEMA_FINGERPRINT = `
  SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS item
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'type ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname
  UNION ALL SELECT 'trigger ' || tgname || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
  ORDER BY 1`;

describe('migrations', () => {
  const log = pino({ level: 'silent' });
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  const fingerprint = async () => (await pool.query<{ item: string }>(SCHEMA_FINGERPRINT)).rows.map((r) => r.item);

  it('applied twice leave the schema and the built-in data unchanged', async () => {
    const schemaBefore = await fingerprint();
    const typesBefore = (await pool.query('SELECT * FROM alarm_types ORDER BY id')).rows;
    expect(schemaBefore.length).toBeGreaterThan(50);

    const appliedAgain = await migrate(pool, log);

    expect(appliedAgain).toEqual([]);
    expect(await fingerprint()).toEqual(schemaBefore);
    expect((await pool.query('SELECT * FROM alarm_types ORDER BY id')).rows).toEqual(typesBefore);
  });

  it('on an empty database, several nodes migrating at once apply each migration exactly once', async () => {
    const empty = `${database.name}_empty`;
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${empty}`);
    const url = new URL(database.url);
    url.pathname = `/${empty}`;
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: url.toString(), max: 2 }));
    for (const p of pools) p.on('error', () => undefined);
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, log)));
      const applied = results.flat();
      const [first] = pools as [pg.Pool, ...pg.Pool[]];
      const versions = (await first.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows;
      expect(applied.length).toBe(versions.length);
      expect(new Set(applied).size).toBe(applied.length);
      const builtIns = (await first.query('SELECT key FROM alarm_types WHERE organisation_id IS NULL ORDER BY key')).rows;
      expect(builtIns.map((r) => r.key)).toEqual(['brand', 'hot', 'inrymning', 'utrymning']);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await admin.query(`DROP DATABASE ${empty} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('npm run db:migrate applies the migrations to DATABASE_URL, and a second run changes nothing', async () => {
    const target = `${database.name}_script`;
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${target}`);
    const url = new URL(database.url);
    url.pathname = `/${target}`;
    const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
      env: { ...process.env, DATABASE_URL: url.toString(), LOG_LEVEL: 'info' },
    });
    try {
      const first = await run();
      expect(first.stdout).toContain('migrations applied');
      const second = await run();
      expect(second.stdout).toContain('database already up to date');
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      await client.end();
      expect(rows[0]?.n).toBeGreaterThanOrEqual(2);
    } finally {
      await admin.query(`DROP DATABASE ${target} WITH (FORCE)`);
      await admin.end();
    }
  });
});
