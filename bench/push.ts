/**
 * npm run bench:push — one alarm to N push subscriptions through the real path (raise → outbox →
 * the node's delivery worker → a local HTTPS push service that decrypts every payload), against a
 * baseline loop of plain web-push `sendNotification` calls at the same concurrency to the same
 * service, measured in the same run.
 *
 * Environment: BENCH_SUBSCRIPTIONS (2000), BENCH_NODES (1), BENCH_CONCURRENCY (32: the node's
 * PUSH_CONCURRENCY_PER_ORIGIN, and the baseline's lanes). The last line of output is one JSON object.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import webpush from 'web-push';
import { migrate } from '../src/db/migrate.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { seedDemo } from '../src/seed/demo.js';
import { FakePushService, PUSH_SERVICE_CA } from '../test/helpers/push-service.js';
import { freePort } from '../test/helpers/services.js';
import { startNode } from '../test/helpers/nodes.js';
import { percentile, waitFor } from './support.js';

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 2000);
const NODES = Number(process.env.BENCH_NODES ?? 1);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const log = pino({ level: 'warn' });

interface Fixture {
  siteId: string;
  lockdown: string;
  leadToken: string;
  subscriptions: { endpoint: string; keys: { p256dh: string; auth: string } }[];
}

/** One person per subscription, all in one group of one site; sessions written directly (no argon2 in the measurement). */
async function createFixture(db: pg.Pool, service: FakePushService): Promise<Fixture> {
  const org = (await db.query<{ id: string }>("INSERT INTO organisations (name, kind) VALUES ('Bench', 'forvaltning') RETURNING id")).rows[0]?.id;
  const siteId = (await db.query<{ id: string }>("INSERT INTO sites (organisation_id, name, kind) VALUES ($1, 'Pushskolan', 'school') RETURNING id", [org])).rows[0]?.id as string;
  const people = (await db.query<{ id: string }>(
    `INSERT INTO people (organisation_id, name, email)
     SELECT $1, 'Person ' || g, 'push' || g || '@bench.example' FROM generate_series(1, $2) g RETURNING id`, [org, SUBSCRIPTIONS],
  )).rows.map((r) => r.id);
  const lead = (await db.query<{ id: string }>("INSERT INTO people (organisation_id, name, email) VALUES ($1, 'Lead', 'lead@bench.example') RETURNING id", [org])).rows[0]?.id as string;
  await db.query("INSERT INTO role_assignments (person_id, role) VALUES ($1, 'crisis_lead')", [lead]);
  const lockdown = (await db.query<{ id: string }>("SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = 'inrymning'")).rows[0]?.id as string;
  const group = (await db.query<{ id: string }>("INSERT INTO alarm_groups (site_id, organisation_id, name) VALUES ($1, $2, 'Alla') RETURNING id", [siteId, org])).rows[0]?.id;
  await db.query('INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])', [group, people]);
  await db.query('INSERT INTO alarm_group_types (group_id, alarm_type_id, receives, may_raise) VALUES ($1, $2, true, true)', [group, lockdown]);
  const leadToken = `sl_${randomBytes(32).toString('base64url')}`;
  const sessions = (await db.query<{ id: string; person_id: string }>(
    `INSERT INTO sessions (person_id, token_hash, kind, expires_at)
     SELECT unnest($1::uuid[]), unnest($2::bytea[]), 'device', now() + interval '1 day' RETURNING id, person_id`,
    [[...people, lead], [...people.map(() => randomBytes(32)), createHash('sha256').update(leadToken).digest()]],
  )).rows.filter((s) => s.person_id !== lead);
  const subscriptions = sessions.map(() => service.subscribe());
  await db.query(
    `INSERT INTO push_subscriptions (person_id, session_id, endpoint, origin, p256dh, auth)
     SELECT unnest($1::uuid[]), unnest($2::uuid[]), unnest($3::text[]), $4, unnest($5::text[]), unnest($6::text[])`,
    [sessions.map((s) => s.person_id), sessions.map((s) => s.id), subscriptions.map((s) => s.endpoint), service.origin,
      subscriptions.map((s) => s.keys.p256dh), subscriptions.map((s) => s.keys.auth)],
  );
  return { siteId, lockdown, leadToken, subscriptions };
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'samlarm-bench-push-'));
  // Embedded PostgreSQL runs as its own user when we are root: it must be able to enter the folder.
  await chmod(work, 0o755);
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), port: await freePort(), log });
  const service = await FakePushService.start();
  // The service answers at once and decrypts every payload after the run: its own decryption, on the
  // same two cores, would otherwise set the pace of both senders it measures.
  service.decryptLater = true;
  try {
    const pool = new pg.Pool({ connectionString: postgres.connectionString, max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool, log);
    await seedDemo(pool, { links: false });
    const fixture = await createFixture(pool, service);
    const nodes = await Promise.all(Array.from({ length: NODES }, () => startNode({
      DATABASE_URL: postgres.connectionString, SEED_DEMO: 'false', DATABASE_POOL_MAX: '20',
      PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_CA_FILE: PUSH_SERVICE_CA,
      PUSH_CONCURRENCY: String(CONCURRENCY * 2), PUSH_CONCURRENCY_PER_ORIGIN: String(CONCURRENCY),
    })));
    progress(`${NODES} node(s) up; ${SUBSCRIPTIONS} subscriptions at ${service.origin}; raising one alarm`);

    const started = performance.now();
    const startedAt = Date.now();
    const res = await fetch(`${nodes[0]?.url}/api/v1/alarms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.leadToken}` },
      body: JSON.stringify({ pressId: randomUUID(), siteId: fixture.siteId, alarmTypeId: fixture.lockdown }),
    });
    if (res.status !== 201) throw new Error(`raise failed: ${res.status} ${await res.text()}`);
    const answeredMs = performance.now() - started;
    const incidentId = ((await res.json()) as { incident: { id: string } }).incident.id;
    // Every request reaching the service is this alarm's (nothing else happens meanwhile); decrypted once all are in.
    await waitFor(() => service.received.length >= SUBSCRIPTIONS, 120_000);
    service.decryptAll();
    const received = service.received.filter((r) => r.payload?.incidentId === incidentId);
    if (received.length !== SUBSCRIPTIONS) throw new Error(`${received.length} of ${SUBSCRIPTIONS} pushes decrypted to the alarm`);
    const latencies = received.map((r) => r.at - startedAt);
    const sent = Number((await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM deliveries WHERE incident_id = $1 AND state = 'sent'", [incidentId],
    )).rows[0]?.n ?? 0);
    const systemMs = Math.max(...latencies);
    await Promise.all(nodes.map((n) => n.stop()));
    await pool.end();

    // Baseline: plain web-push at the same concurrency, from a process of its own, to the same service.
    progress('baseline: plain web-push sendNotification loop');
    const baselineService = await FakePushService.start();
    baselineService.decryptLater = true;
    const baselineSubs = Array.from({ length: SUBSCRIPTIONS }, () => baselineService.subscribe());
    const keys = webpush.generateVAPIDKeys();
    const payload = JSON.stringify(received[0]?.payload ?? {});
    const jobFile = path.join(work, 'baseline.json');
    await writeFile(jobFile, JSON.stringify({
      subscriptions: baselineSubs.map((s) => ({ endpoint: s.endpoint, keys: s.keys })), payload, concurrency: CONCURRENCY, ca: PUSH_SERVICE_CA,
      vapid: { subject: 'mailto:bench@samlarm.invalid', ...keys },
    }));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', new URL('./push-baseline.ts', import.meta.url).pathname, jobFile]);
    const baseline = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { ms: number; failed: number };
    baselineService.decryptAll();
    const baselineDecrypted = baselineService.received.filter((r) => r.payload !== null).length;
    await baselineService.close();

    // From the raise's request to the last push accepted: the alarm as a whole, raise included.
    const sendsPerS = SUBSCRIPTIONS / (systemMs / 1000);
    const baselinePerS = SUBSCRIPTIONS / (baseline.ms / 1000);
    console.log(JSON.stringify({
      subscriptions: SUBSCRIPTIONS,
      nodes: NODES,
      concurrency: CONCURRENCY,
      sent,
      decrypted: received.filter((r) => r.payload !== null && r.vapidValid).length,
      raise_answered_ms: round(answeredMs),
      first_ms: round(Math.min(...latencies)),
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
      all_ms: round(systemMs),
      sends_per_s: round(sendsPerS),
      // From the first push to the last: the worker's own rate, without the raise before it.
      worker_sends_per_s: round((SUBSCRIPTIONS - 1) / ((systemMs - Math.min(...latencies)) / 1000)),
      vapid_signatures: new Set(received.map((r) => r.vapidToken)).size,
      baseline_ms: round(baseline.ms),
      baseline_sends_per_s: round(baselinePerS),
      baseline_decrypted: baselineDecrypted,
      baseline_failed: baseline.failed,
      ratio: round(sendsPerS / baselinePerS),
      rss_mb_bench_process: Math.round(process.memoryUsage().rss / 1e6),
    }));
  } finally {
    await service.close();
    await postgres.stop();
    await rm(work, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Progress goes to stderr, so stdout's last line stays the JSON figures. */
function progress(message: string): void {
  process.stderr.write(`[bench:push] ${message}\n`);
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
