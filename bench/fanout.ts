/**
 * npm run bench:fanout — raise→device latency of the real alarm path across app nodes, against a
 * bare Socket.IO broadcast to the same number of clients measured in the same run.
 *
 * Environment: BENCH_DEVICES (5000), BENCH_NODES (2), BENCH_ALARMS (5 alarms to every device),
 * BENCH_SCHOOL_ALARMS (20 alarms to a 300-person school while every device stays connected),
 * BENCH_LINKED_SIZE (100 people of another organisation linked to the school), BENCH_LINKED_ALARMS (20 school
 * alarms that also reach them over the link: docs/linking.md).
 * `node_kb_per_device`: the nodes' resident memory growth from before the devices connect to after, per device.
 * The last line of output is one JSON object.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { pino } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { migrate } from '../src/db/migrate.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { seedDemo } from '../src/seed/demo.js';
import { freePort, startTestRedis } from '../test/helpers/services.js';
import { startNode } from '../test/helpers/nodes.js';
import { percentile, waitFor } from './support.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 5000);
const NODES = Number(process.env.BENCH_NODES ?? 2);
const ALARMS = Number(process.env.BENCH_ALARMS ?? 5);
const SCHOOL_ALARMS = Number(process.env.BENCH_SCHOOL_ALARMS ?? 20);
const SCHOOL_SIZE = Math.min(300, DEVICES);
const LINKED_SIZE = Number(process.env.BENCH_LINKED_SIZE ?? 100);
const LINKED_ALARMS = Number(process.env.BENCH_LINKED_ALARMS ?? 20);
const log = pino({ level: 'warn' });

interface Fixture {
  siteAll: string;
  siteSchool: string;
  lockdown: string;
  tokens: string[];
  leadToken: string;
  /** Another organisation's site in the school's building, its group of LINKED_SIZE people and their tokens. */
  linked: { organisation: string; organisationOfSchool: string; site: string; group: string; tokens: string[] };
}

/** Sessions written directly: thousands of argon2 sign-ins would measure the password hash, not the fan-out. */
async function sessionsFor(db: pg.Pool, people: string[]): Promise<string[]> {
  const tokens = people.map(() => `sl_${randomBytes(32).toString('base64url')}`);
  await db.query(
    `INSERT INTO sessions (person_id, token_hash, kind, expires_at)
     SELECT unnest($1::uuid[]), unnest($2::bytea[]), 'device', now() + interval '1 day'`,
    [people, tokens.map((t) => createHash('sha256').update(t).digest())],
  );
  return tokens;
}

/** A bench organisation: one site whose group holds every device's person, one of a typical school size. */
async function createFixture(db: pg.Pool): Promise<Fixture> {
  const org = (await db.query<{ id: string }>("INSERT INTO organisations (name, kind) VALUES ('Bench', 'forvaltning') RETURNING id")).rows[0]?.id;
  const site = async (name: string) =>
    (await db.query<{ id: string }>("INSERT INTO sites (organisation_id, name, kind) VALUES ($1, $2, 'school') RETURNING id", [org, name])).rows[0]?.id as string;
  const siteAll = await site('Storskolan');
  const siteSchool = await site('Lillskolan');
  const people = (await db.query<{ id: string }>(
    `INSERT INTO people (organisation_id, name, email)
     SELECT $1, 'Person ' || g, 'bench' || g || '@bench.example' FROM generate_series(1, $2) g RETURNING id`, [org, DEVICES],
  )).rows.map((r) => r.id);
  const lead = (await db.query<{ id: string }>("INSERT INTO people (organisation_id, name, email) VALUES ($1, 'Lead', 'lead@bench.example') RETURNING id", [org])).rows[0]?.id as string;
  await db.query("INSERT INTO role_assignments (person_id, role) VALUES ($1, 'crisis_lead')", [lead]);
  const lockdown = (await db.query<{ id: string }>("SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = 'inrymning'")).rows[0]?.id as string;
  for (const [siteId, members] of [[siteAll, people], [siteSchool, people.slice(0, SCHOOL_SIZE)]] as const) {
    const group = (await db.query<{ id: string }>('INSERT INTO alarm_groups (site_id, organisation_id, name) VALUES ($1, $2, $3) RETURNING id', [siteId, org, 'Alla'])).rows[0]?.id;
    await db.query('INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])', [group, members]);
    await db.query('INSERT INTO alarm_group_types (group_id, alarm_type_id, receives, may_raise) VALUES ($1, $2, true, true)', [group, lockdown]);
  }
  const [leadToken, ...tokens] = await sessionsFor(db, [lead, ...people]);

  // The linked organisation: a library in the small school's building, its staff in one group.
  const linkedOrg = (await db.query<{ id: string }>("INSERT INTO organisations (name, kind) VALUES ('Bench Kultur', 'forvaltning') RETURNING id")).rows[0]?.id as string;
  const linkedSite = (await db.query<{ id: string }>("INSERT INTO sites (organisation_id, name, kind) VALUES ($1, 'Biblioteket', 'library') RETURNING id", [linkedOrg])).rows[0]?.id as string;
  const linkedPeople = (await db.query<{ id: string }>(
    `INSERT INTO people (organisation_id, name, email)
     SELECT $1, 'Bibliotekarie ' || g, 'bench-kultur' || g || '@bench.example' FROM generate_series(1, $2) g RETURNING id`, [linkedOrg, LINKED_SIZE],
  )).rows.map((r) => r.id);
  const linkedGroup = (await db.query<{ id: string }>("INSERT INTO alarm_groups (site_id, organisation_id, name) VALUES ($1, $2, 'Personalen') RETURNING id", [linkedSite, linkedOrg])).rows[0]?.id as string;
  await db.query('INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])', [linkedGroup, linkedPeople]);
  const linkedTokens = await sessionsFor(db, linkedPeople);
  return {
    siteAll, siteSchool, lockdown, tokens, leadToken: leadToken as string,
    linked: { organisation: linkedOrg, organisationOfSchool: org as string, site: linkedSite, group: linkedGroup, tokens: linkedTokens },
  };
}

/** An active link from the school to the library: lockdowns at the school reach the library's staff (docs/linking.md). */
async function linkSchoolToLibrary(db: pg.Pool, fixture: Fixture): Promise<void> {
  const { linked } = fixture;
  const proposer = (await db.query<{ id: string }>('SELECT id FROM people WHERE email = $1', ['lead@bench.example'])).rows[0]?.id;
  const link = (await db.query<{ id: string }>(
    `INSERT INTO links (proposer_organisation_id, partner_organisation_id, status, review_at, proposed_by, proposed_at)
     VALUES ($1, $2, 'active', current_date + 365, $3, now()) RETURNING id`, [linked.organisationOfSchool, linked.organisation, proposer],
  )).rows[0]?.id;
  await db.query('INSERT INTO link_site_pairs (link_id, proposer_site_id, partner_site_id) VALUES ($1, $2, $3)', [link, fixture.siteSchool, linked.site]);
  await db.query("INSERT INTO link_alarm_types (link_id, direction, alarm_type_id) VALUES ($1, 'to_partner', $2)", [link, fixture.lockdown]);
  await db.query("INSERT INTO link_receiving_groups (link_id, direction, group_id, site_id) VALUES ($1, 'to_partner', $2, $3)", [link, linked.group, linked.site]);
}

interface Client {
  socket: Socket;
  received: Map<string, number>;
}

async function connectClients(urls: string[], count: number, auth: (i: number) => Record<string, unknown>, event: string, key: (payload: Record<string, unknown>) => string | null): Promise<Client[]> {
  const clients: Client[] = [];
  const batch = 250;
  for (let start = 0; start < count; start += batch) {
    const connecting: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const socket = connect(urls[i % urls.length] as string, { transports: ['websocket'], reconnection: false, forceNew: true, auth: auth(i) });
      const client: Client = { socket, received: new Map() };
      socket.on(event, (payload: Record<string, unknown>) => {
        const k = key(payload);
        if (k && !client.received.has(k)) client.received.set(k, performance.now());
      });
      clients.push(client);
      connecting.push(new Promise((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      }));
    }
    await Promise.all(connecting);
  }
  return clients;
}

interface Measured {
  latencies: number[];
  /** Per round: the incident's id and when the raise was sent, to read any subset of the clients' latencies. */
  rounds: { key: string; started: number }[];
  /** Per round: until the HTTP answer (the alarm committed and handed to this node's devices). */
  answered: number[];
  /** Per round: until the first device had it. */
  first: number[];
  lost: number;
}

/** Sends `trigger` and records, per targeted client, the time until its copy arrived. */
async function measure(clients: Client[], rounds: number, pauseMs: number, trigger: (round: number) => Promise<string>, timeoutMs = 30_000): Promise<Measured> {
  const latencies: number[] = [];
  const answered: number[] = [];
  const first: number[] = [];
  const keys: Measured['rounds'] = [];
  let lost = 0;
  for (let round = 0; round < rounds; round++) {
    // Quiet between rounds: the previous alarm's receipts and all clear are not measured with this one.
    if (round > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const started = performance.now();
    const key = await trigger(round);
    answered.push(performance.now() - started);
    keys.push({ key, started });
    await waitFor(() => clients.every((c) => c.received.has(key)), timeoutMs).catch(() => undefined);
    progress(`round ${round + 1}/${rounds}: ${clients.filter((c) => c.received.has(key)).length}/${clients.length} received`);
    const before = latencies.length;
    for (const c of clients) {
      const at = c.received.get(key);
      if (at === undefined) lost += 1;
      else latencies.push(at - started);
    }
    first.push(Math.min(...latencies.slice(before)));
  }
  return { latencies, rounds: keys, answered, first, lost };
}

/** The latencies of some of the measured clients, and how many of their copies never came. */
function subset(clients: Client[], measured: Measured): { latencies: number[]; lost: number } {
  const latencies: number[] = [];
  let lost = 0;
  for (const { key, started } of measured.rounds) {
    for (const c of clients) {
      const at = c.received.get(key);
      if (at === undefined) lost += 1;
      else latencies.push(at - started);
    }
  }
  return { latencies, lost };
}

async function main(): Promise<void> {
  const dataDir = path.join(os.tmpdir(), `samlarm-bench-${process.pid}`);
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort(), log });
  const redis = await startTestRedis();
  const children: ChildProcess[] = [];
  try {
    const pool = new pg.Pool({ connectionString: postgres.connectionString, max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool, log);
    await seedDemo(pool);
    const fixture = await createFixture(pool);

    const metricsToken = randomBytes(16).toString('hex');
    const nodes = await Promise.all(Array.from({ length: NODES }, () => startNode({
      DATABASE_URL: postgres.connectionString, REDIS_URL: redis.url, SEED_DEMO: 'false', DATABASE_POOL_MAX: '20', METRICS_TOKEN: metricsToken,
    })));
    const urls = nodes.map((n) => n.url);
    progress(`${NODES} nodes up; connecting ${DEVICES} devices`);
    const rssBefore = await nodesRss(urls, metricsToken);

    // Keyed by the alarm as raised: a linked incident by its source, so one raise is one key on both sides of a link.
    const raisedKey = (e: Record<string, unknown>) => {
      if (e.type !== 'raised') return null;
      const incident = (e.data as { incident: { id: string; linkedFrom: { incidentId: string | null } | null } }).incident;
      return String(incident.linkedFrom?.incidentId ?? incident.id);
    };
    const devices = await connectClients(urls, DEVICES, (i) => ({ token: fixture.tokens[i], deviceId: `bench-device-${i}`, cursor: null }), 'event', raisedKey);
    const linkedDevices = await connectClients(urls, LINKED_SIZE, (i) => ({ token: fixture.linked.tokens[i], deviceId: `bench-linked-${i}`, cursor: null }), 'event', raisedKey);
    // Settled a moment, so the handshakes' catch-ups are done and their garbage is not counted as held memory.
    await new Promise((r) => setTimeout(r, 2000));
    const nodeKbPerDevice = (await nodesRss(urls, metricsToken) - rssBefore) / 1024 / (devices.length + linkedDevices.length);
    progress(`node memory: ${round(nodeKbPerDevice)} KB per connected device`);
    // Like the app: every device confirms receipt, so the measured path carries the receipt load too.
    for (const d of [...devices, ...linkedDevices]) {
      d.socket.on('event', (e: { type: string; incidentId: string }) => {
        if (e.type === 'raised') d.socket.emit('receipt', { incidentId: e.incidentId, kind: 'delivered' });
      });
    }

    const resolving: Promise<unknown>[] = [];
    const raiseAndResolve = (siteId: string) => async (round: number) => {
      const res = await fetch(`${urls[round % urls.length]}/api/v1/alarms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.leadToken}` },
        body: JSON.stringify({ pressId: randomUUID(), siteId, alarmTypeId: fixture.lockdown }),
      });
      const body = (await res.json()) as { incident: { id: string } };
      if (res.status !== 201) throw new Error(`raise failed: ${res.status} ${JSON.stringify(body)}`);
      // All clear after a while, so the next alarm at the site is a new incident, not a join.
      resolving.push(new Promise((r) => setTimeout(r, 2000)).then(() => fetch(`${urls[0]}/api/v1/incidents/${body.incident.id}/resolve`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.leadToken}` }, body: '{}',
      })));
      return body.incident.id;
    };
    const all = await measure(devices, ALARMS, 3000, raiseAndResolve(fixture.siteAll));
    await new Promise((r) => setTimeout(r, 3000));
    const school = await measure(devices.slice(0, SCHOOL_SIZE), SCHOOL_ALARMS, 2300, raiseAndResolve(fixture.siteSchool));
    // The same school alarm once the school is linked to the library: the linked incident is raised in the
    // alarm's own transaction, so the school's devices and the library's are measured from the same raise.
    await Promise.all(resolving);
    await linkSchoolToLibrary(pool, fixture);
    const schoolDevices = devices.slice(0, SCHOOL_SIZE);
    const both = await measure([...schoolDevices, ...linkedDevices], LINKED_ALARMS, 2300, raiseAndResolve(fixture.siteSchool));
    const linkedSchool = subset(schoolDevices, both);
    const linkedOrganisation = subset(linkedDevices, both);
    await Promise.all(resolving);
    for (const d of [...devices, ...linkedDevices]) d.socket.disconnect();
    await Promise.all(nodes.map((n) => n.stop()));
    await pool.end();

    // Baseline: a bare Socket.IO server broadcasting a payload of the same size to as many clients.
    const samplePayload = JSON.stringify({ id: '1', type: 'raised', data: { pad: 'x'.repeat(1500) } });
    const baselinePort = await freePort();
    const baseline = fork(new URL('./baseline-server.ts', import.meta.url).pathname, [String(baselinePort), String(samplePayload.length)], {
      execArgv: ['--import', 'tsx'], stdio: 'inherit',
    });
    children.push(baseline);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${baselinePort}/ready`).catch(() => undefined))?.ok === true, 20_000);
    const baseClients = await connectClients([`http://127.0.0.1:${baselinePort}`], DEVICES, () => ({}), 'broadcast', (p) => String(p.key));
    const base = await measure(baseClients, ALARMS, 3000, async () => {
      const key = randomUUID();
      await fetch(`http://127.0.0.1:${baselinePort}/broadcast?key=${key}`);
      return key;
    });
    for (const c of baseClients) c.socket.disconnect();

    const figures = {
      devices: DEVICES,
      nodes: NODES,
      alarms: ALARMS,
      p50_ms: round(percentile(all.latencies, 50)),
      p99_ms: round(percentile(all.latencies, 99)),
      max_ms: round(Math.max(...all.latencies)),
      baseline_p50_ms: round(percentile(base.latencies, 50)),
      baseline_p99_ms: round(percentile(base.latencies, 99)),
      ratio_p99: round(percentile(all.latencies, 99) / percentile(base.latencies, 99)),
      lost: all.lost,
      raise_answered_p50_ms: round(percentile(all.answered, 50)),
      first_device_p50_ms: round(percentile(all.first, 50)),
      baseline_first_device_p50_ms: round(percentile(base.first, 50)),
      baseline_lost: base.lost,
      school_recipients: SCHOOL_SIZE,
      school_alarms: SCHOOL_ALARMS,
      school_p50_ms: round(percentile(school.latencies, 50)),
      school_p99_ms: round(percentile(school.latencies, 99)),
      school_lost: school.lost,
      linked_recipients: LINKED_SIZE,
      linked_alarms: LINKED_ALARMS,
      linked_school_p50_ms: round(percentile(linkedSchool.latencies, 50)),
      linked_school_p99_ms: round(percentile(linkedSchool.latencies, 99)),
      linked_p50_ms: round(percentile(linkedOrganisation.latencies, 50)),
      linked_p99_ms: round(percentile(linkedOrganisation.latencies, 99)),
      linked_raise_answered_p50_ms: round(percentile(both.answered, 50)),
      linked_lost: linkedSchool.lost + linkedOrganisation.lost,
      node_kb_per_device: round(nodeKbPerDevice),
      rss_mb_bench_process: Math.round(process.memoryUsage().rss / 1e6),
    };
    console.log(JSON.stringify(figures));
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await redis.stop();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The nodes' resident memory together, in bytes, as each reports it in /metrics (prom-client's process metrics). */
async function nodesRss(urls: string[], token: string): Promise<number> {
  const each = await Promise.all(urls.map(async (url) => {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const bytes = /^samlarm_process_resident_memory_bytes (\d+)$/m.exec(text)?.[1];
    if (bytes === undefined) throw new Error(`no resident memory in ${url}/metrics`);
    return Number(bytes);
  }));
  return each.reduce((a, b) => a + b, 0);
}

/** Progress goes to stderr, so stdout's last line stays the JSON figures. */
function progress(message: string): void {
  process.stderr.write(`[bench:fanout] ${message}\n`);
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
