import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { DEMO_PASSWORD } from '../../src/seed/demo.js';
import type { Clock } from '../../src/lib/clock.js';
import { demoEmail, type Who } from './demo.js';

export type App = Awaited<ReturnType<typeof buildApp>>;
type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface Response {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
  headers: Record<string, unknown>;
}

export function databaseUrl(database: string): string {
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${database}`;
  return u.toString();
}

/** A database of this test file's own, cloned from the migrated and seeded template. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `samlarm_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await client.end();
    },
  };
}

export interface DemoIds {
  org: Record<'utbildning' | 'kultur' | 'drift', string>;
  site: Record<'vasaskolan' | 'solrosen' | 'biblioteket', string>;
  person: Record<string, string>;
  group: Record<'vasaAll' | 'vasaKris' | 'solrosenAll' | 'bibliotek', string>;
  alarmType: Record<'inrymning' | 'brand' | 'utrymning' | 'hot', string>;
}

export async function demoIds(db: pg.Pool): Promise<DemoIds> {
  const one = async (sql: string, params: unknown[]) => {
    const row = (await db.query<{ id: string }>(sql, params)).rows[0];
    if (!row) throw new Error(`demo data missing: ${sql} ${JSON.stringify(params)}`);
    return row.id;
  };
  const org = (name: string) => one('SELECT id FROM organisations WHERE name = $1', [name]);
  const site = (name: string) => one('SELECT id FROM sites WHERE name = $1', [name]);
  const group = (siteName: string, name: string) =>
    one('SELECT g.id FROM alarm_groups g JOIN sites s ON s.id = g.site_id WHERE s.name = $1 AND g.name = $2', [siteName, name]);
  const type = (key: string) => one('SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = $1', [key]);
  const people = (await db.query<{ id: string; email: string }>('SELECT id, email FROM people')).rows;
  return {
    org: { utbildning: await org('Utbildningsförvaltningen'), kultur: await org('Kulturförvaltningen'), drift: await org('Samlarm drift') },
    site: { vasaskolan: await site('Vasaskolan'), solrosen: await site('Solrosens förskola'), biblioteket: await site('Vasastadens bibliotek') },
    person: Object.fromEntries(people.map((p) => [p.email, p.id])),
    group: {
      vasaAll: await group('Vasaskolan', 'All personal'),
      vasaKris: await group('Vasaskolan', 'Krisgrupp'),
      solrosenAll: await group('Solrosens förskola', 'All personal'),
      bibliotek: await group('Vasastadens bibliotek', 'Bibliotekets personal'),
    },
    alarmType: { inrymning: await type('inrymning'), brand: await type('brand'), utrymning: await type('utrymning'), hot: await type('hot') },
  };
}

export interface TestApp {
  app: App;
  /** A pool of the test's own on the same database, for assertions behind the API's back. */
  db: pg.Pool;
  ids: DemoIds;
  request(options: { method: Method; url: string; token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** Signs an account in (demo password) and returns its bearer token. */
  login(email: string): Promise<string>;
  /** Signs a demo person in by the name the tests use ('rektor', 'anna') and returns the token. */
  loginAs(who: Who): Promise<string>;
  /** A demo person's id by the name the tests use. */
  personId(who: Who): string;
  /** Starts listening on a free loopback port (for Socket.IO devices); returns the base URL. */
  listen(): Promise<string>;
  /** Declares all clear for every active incident, as the given lead: each test then starts from quiet sites. */
  endActiveIncidents(token: string): Promise<void>;
  /**
   * Waits until no device is connected to the app any more and the receipts they sent are written: receipts are
   * gathered for a while before they are written (RECEIPT_GATHER_MS), and a test that compares the tables must
   * not see an earlier test's land in the middle of its own.
   */
  settleDevices(): Promise<void>;
  /** A fingerprint of every table's contents: equal before and after means nothing changed. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

/** Builds the real app on a fresh database (cloned from the seeded template) with real Redis. */
export async function startApp(env: Record<string, string> = {}, options: { clock?: Clock } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    // Test files share one Redis; a prefix of their own keeps their rate-limit counters apart.
    REDIS_KEY_PREFIX: `test-${database.name}:`,
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    // The delivery worker runs only where a test asks for it: escalation coming due in the background
    // (30 s after a fire alarm) would otherwise change the tables a long test file compares.
    DELIVERY_WORKER: 'false',
    // Likewise the retention job: tests that need it call app.privacy.retention.run() on their own clock.
    RETENTION_JOB: 'false',
    ...env,
  });
  const app = await buildApp({ config, connectionString: database.url, ...options });
  await app.ready();
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  // pg resolves end() before its sockets close; the forced DROP DATABASE may then hit an idle one.
  db.on('error', () => undefined);
  const ids = await demoIds(db);

  const request: TestApp['request'] = async ({ method, url, token, body, headers }) => {
    const res = await app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    const text = res.body;
    return { status: res.statusCode, body: text ? JSON.parse(text) : null, headers: res.headers };
  };

  const login = async (email: string) => {
    const res = await request({ method: 'POST', url: '/api/v1/auth/login', body: { email, password: DEMO_PASSWORD } });
    if (res.status !== 200) throw new Error(`login ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  };

  return {
    app,
    db,
    ids,
    request,
    login,
    loginAs: (who) => login(demoEmail(who)),
    personId: (who) => {
      const id = ids.person[demoEmail(who)];
      if (!id) throw new Error(`demo person ${who} not seeded`);
      return id;
    },
    listen: () => app.listen({ host: '127.0.0.1', port: 0 }),
    endActiveIncidents: async (token) => {
      const active = (await db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows;
      for (const { id } of active) {
        const ended = await request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token, body: {} });
        if (ended.status !== 200) throw new Error(`could not end incident ${id}: ${ended.status} ${JSON.stringify(ended.body)}`);
      }
    },
    settleDevices: async () => {
      // A device's packets are handled before its disconnect: once none is connected, every receipt is gathered.
      for (let waited = 0; (await app.io.server.local.fetchSockets()).length > 0; waited += 10) {
        if (waited > 10_000) throw new Error('devices still connected after 10 s');
        await new Promise((r) => setTimeout(r, 10));
      }
      await app.alarms.flushReceipts();
    },
    snapshot: async () => {
      const tables = (await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
      )).rows.map((r) => r.table_name);
      const parts: string[] = [];
      for (const t of tables) {
        const row = (await db.query<{ h: string | null }>(`SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${t} x`)).rows[0];
        parts.push(`${t}:${row?.h ?? 'empty'}`);
      }
      return parts.join('\n');
    },
    close: async () => {
      await app.close();
      await db.end();
      await database.drop();
    },
  };
}
