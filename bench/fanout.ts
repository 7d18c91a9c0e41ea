/**
 * npm run bench:fanout — raise→device latency of the real alarm path across app nodes, against a
 * bare Socket.IO broadcast to the same number of clients measured in the same run.
 *
 * Environment: BENCH_DEVICES (5000), BENCH_NODES (2), BENCH_ALARMS (5 alarms to every device),
 * BENCH_SCHOOL_ALARMS (20 alarms to a 300-person school while every device stays connected),
 * BENCH_LINKED_SIZE (100 people of another organisation linked to the school), BENCH_LINKED_ALARMS (20 school
 * alarms that also reach them over the link: docs/linking.md).
 * `node_kb_per_device`: what the nodes hold per connected device: their live memory (JavaScript heap in use and the
 * buffers its objects own, after a full garbage collection, read through each node's inspector: bench/live-memory.ts)
 * from before the devices connect to after. `node_rss_kb_per_device`: their resident memory growth over the same
 * time, also read after a full collection (native memory that no object accounts for is in it, and pages the
 * collector has not given back to the system). `node_peak_rss_mb`: the largest resident set any node reached by the
 * end of the measured phases (Linux's high-water mark, before the storm): the memory a node must be given, garbage
 * between collections included (the nodes run with npm start's garbage collector flags, ADR 041).
 *
 * Where the time of the alarm to every device goes (issue 15 item 1), seen from the devices: `split_*` per round's
 * median, from the raise being sent, until the first and the last device on the node that took the raise
 * (`local`) and on the other nodes (`remote`) had it; `raise_answered_p50_ms` is the commit. The hand-over to the
 * other node is `split_remote_first` − `split_local_first`; the socket writes of a node, its last − its first.
 * The school's alarms have the same split as `school_split_*`, with `school_raise_answered_p50_ms` and `_p99_ms`.
 * The baseline broadcasts a payload of the size the devices had (`payload_bytes`: the last `raised` of the alarm to
 * everyone, as the live event's JSON; `school_payload_bytes`: the school's), and then, with every baseline device
 * still connected, BENCH_SCHOOL_ALARMS broadcasts to the school's share of them (a room of 300, dealt over the
 * client processes as the school's devices are): `baseline_school_p50_ms`, `baseline_school_p99_ms`, the floor of
 * `school_p50_ms` and `school_p99_ms` with the same clients on the same machine.
 * `no_receipts_p50_ms`, `no_receipts_p99_ms`: the same alarms once more with the devices sending no receipts, so
 * the receipts' share of the latency is the difference from `p50_ms`, `p99_ms`.
 * BENCH_PROFILE=1 runs every process of the measurement under `--cpu-prof`: the nodes, the client processes, the
 * bare server and its client processes (and skips the storm, whose killed node would leave no profile). It adds
 * `profile`: per phase (`alarm`: every device, `school`: the school's alarms) and node, the busy time in the phase
 * and the ten functions with the most self time (bench/profile.ts); and `profile.rounds`, the alarm's way and the
 * bare broadcast's side by side: per round, from just before the raise (or the broadcast) until every device had
 * it, the busy time and heaviest functions of the `nodes`, of the app's devices (`clients`), of the
 * `baseline_server` and of its devices (`baseline_clients`), each kind's processes together.
 *
 * The measured devices live in BENCH_CLIENT_PROCESSES (2) client processes, the baseline's too (bench/client-fleet.ts).
 * `cpu_ms_per_alarm`, `no_receipts_cpu_ms_per_alarm`, `school_cpu_ms_per_alarm`, `baseline_cpu_ms_per_alarm`: the
 * processor time each kind of process (`nodes`, `postgres`, `redis`, the measured devices' `clients`, the bare
 * `baseline` server, the `bench` process itself) used during the phase, divided by its alarms (bench/cpu.ts). A
 * phase runs from its first raise until its last alarm has reached every device, so it also holds the pauses
 * between rounds, the receipts and the all clears that fall in it: the work an alarm causes, not only its path.
 * `fanout_cpu_ms`, `baseline_fanout_cpu_ms`, `school_fanout_cpu_ms`, `baseline_school_fanout_cpu_ms`: only the
 * alarm's way, by kind and in `all`, the rounds' median of the processor time from just before the raise (or the
 * broadcast) is sent until every targeted device has it, as the scheduler counts it (bench/cpu.ts `cpuNowPrecise`).
 * `all` divided by the machine's cores is the least time until its last device could have it there, however well
 * the work were spread.
 *
 * Then a reconnection storm (BENCH_STORM=0 skips it; it needs two nodes), with the devices connected again in this
 * process (the storm moves them from node to node): every device syncs once (the app's
 * 20 s sync, so its cursor is recent), BENCH_STORM_ALARMS (2) alarms go to every device from a node that survives,
 * the last of them still on its way when the last node is killed (SIGKILL) right after its raise is answered. Every
 * device that node held (the linked organisation's too) connects at once, round robin, to the survivors with its
 * cursor and epoch, as a load balancer would send it; at the same moment one more alarm to every device is raised
 * at another site on a survivor. Cursors follow docs/realtime.md: only `catch_up` and `sync` answers move them.
 * - `storm_devices`: devices on the killed node. `storm_ms`: from the kill until every one of them is connected to a
 *   survivor and has applied its first `catch_up` there (the web app's "connected": transport.ts `caughtUp`);
 *   `storm_p50_ms` the median device. A device whose handshake is refused or whose connection drops tries again as
 *   the app does, and one whose `catch_up` never comes syncs after 20 s as the app's timer does: `storm_retries`.
 *   `storm_resyncs`: catch-ups that were a resync rather than the missed events.
 * - `storm_lost`: `raised` copies missing, after the storm, from the BENCH_DEVICES devices (moved or not), of the
 *   storm's alarms (those before the kill and the one during it), whether they came live or in a catch-up.
 * - `storm_raise_answered_ms`: the alarm raised during the storm, until its HTTP answer. `storm_raise_p50_ms`,
 *   `storm_raise_p99_ms`, `storm_raise_max_ms`: its latency at the devices that stayed connected to a survivor (live);
 *   `storm_raise_all_ms`: until every device has it, moved ones included (live or from the catch-up; null if one never did).
 * The last line of output is one JSON object.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { pino } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import type { EventEnvelope } from '../src/contract/alarms.js';
import { envelope, type IncidentEvent } from '../src/modules/alarms/events.js';
import { liveEvent } from '../src/modules/realtime/publisher.js';
import type { Ack, CatchUpPayload } from '../src/contract/realtime.js';
import { migrate } from '../src/db/migrate.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { seedDemo } from '../src/seed/demo.js';
import { freePort, startTestRedis } from '../test/helpers/services.js';
import { startNode, type AppNode } from '../test/helpers/nodes.js';
import { ClientFleet, nowMs, raisedKey, type Measurable } from './client-fleet.js';
import { cpuNow, cpuNowPrecise, cpuSpent, type CpuTimes } from './cpu.js';
import { inspectArg, liveMemory, peakResidentMb } from './live-memory.js';
import { monotonicUs, profileWindows, readProfilesIn, type CpuProfile, type Window, type WindowProfile } from './profile.js';
import { percentile, waitFor } from './support.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 5000);
const NODES = Number(process.env.BENCH_NODES ?? 2);
const ALARMS = Number(process.env.BENCH_ALARMS ?? 5);
const SCHOOL_ALARMS = Number(process.env.BENCH_SCHOOL_ALARMS ?? 20);
const SCHOOL_SIZE = Math.min(300, DEVICES);
const LINKED_SIZE = Number(process.env.BENCH_LINKED_SIZE ?? 100);
const LINKED_ALARMS = Number(process.env.BENCH_LINKED_ALARMS ?? 20);
const PROFILE = process.env.BENCH_PROFILE === '1';
/** Processes the measured devices are spread over, for the app and the baseline alike (bench/client-fleet.ts). */
const CLIENT_PROCESSES = Number(process.env.BENCH_CLIENT_PROCESSES ?? 2);
const STORM = process.env.BENCH_STORM !== '0' && !PROFILE;
const STORM_ALARMS = Number(process.env.BENCH_STORM_ALARMS ?? 2);
/** Past this, the storm's figures are taken as they stand: stragglers count as not caught up, missing copies as lost. */
const STORM_TIMEOUT_MS = 120_000;
/** The web app's timed sync (web/src/lib/realtime/transport.ts): what catches up a connection whose `catch_up` never came. */
const APP_SYNC_EVERY_MS = 20_000;
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

/** Where a device is in the timeline (docs/realtime.md): the cursor and the epoch it came from. */
interface Position {
  cursor: string | null;
  epoch: string | null;
}

/** A device of the storm, in the bench's own process: the storm moves it from node to node. */
interface Client extends Measurable {
  socket: Socket;
  /** The handshake it connected with (`url` is the node it connected to). */
  auth: Record<string, unknown>;
  position: Position;
}

async function connectClients(urls: string[], count: number, auth: (i: number) => Record<string, unknown>): Promise<Client[]> {
  const clients: Client[] = [];
  const batch = 250;
  for (let start = 0; start < count; start += batch) {
    const connecting: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const url = urls[i % urls.length] as string;
      const hello = auth(i);
      const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: hello });
      const client: Client = { socket, received: new Map(), url, auth: hello, position: { cursor: null, epoch: null } };
      socket.on('event', (e: EventEnvelope) => hold(client, raisedKey(e), e.incidentId));
      socket.on('catch_up', (answer: CatchUpPayload) => {
        client.position = advanced(client.position, answer);
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

/** The lead raises a lockdown at `siteId` through the node at `url`; resolves with the incident's id once it is answered. */
async function raiseAlarm(url: string, fixture: Fixture, siteId: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/alarms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.leadToken}` },
    body: JSON.stringify({ pressId: randomUUID(), siteId, alarmTypeId: fixture.lockdown }),
  });
  const body = (await res.json()) as { incident: { id: string } };
  if (res.status !== 201) throw new Error(`raise failed: ${res.status} ${JSON.stringify(body)}`);
  return body.incident.id;
}

function allClear(url: string, fixture: Fixture, incidentId: string): Promise<Response> {
  return fetch(`${url}/api/v1/incidents/${incidentId}/resolve`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.leadToken}` }, body: '{}',
  });
}

/** The cursor's rules (docs/realtime.md): only catch-up and sync answers move it, never back within one epoch. */
function advanced(position: Position, answer: CatchUpPayload): Position {
  const behind = position.epoch !== answer.epoch || position.cursor === null || BigInt(answer.cursor) > BigInt(position.cursor);
  return behind ? { cursor: answer.cursor, epoch: answer.epoch } : position;
}

interface Measured {
  latencies: number[];
  /** Per round: the incident's id and when the raise was sent, to read any subset of the clients' latencies. */
  rounds: { key: string; started: number }[];
  /** Per round, the monotonic clock (µs) from just before the raise until every device had it: the rounds' windows in a CPU profile. */
  windows: Window[];
  /** The monotonic clock (µs) before the first round and after the last: the phase's window in a CPU profile. */
  window: { fromUs: number; toUs: number };
  /** Per round: until the HTTP answer (the alarm committed and handed to this node's devices). */
  answered: number[];
  /** Per round: until the first device had it. */
  first: number[];
  /** Per round: each kind of process's processor time from just before the raise was sent until every targeted device had it. */
  cpu: CpuTimes[];
  lost: number;
}

/** Sends `trigger` and records, per targeted client, the time until its copy arrived. */
async function measure(fleet: ClientFleet, clients: (Measurable & { index: number })[], rounds: number, pauseMs: number, trigger: (round: number) => Promise<string>, timeoutMs = 30_000): Promise<Measured> {
  const latencies: number[] = [];
  const answered: number[] = [];
  const first: number[] = [];
  const cpu: CpuTimes[] = [];
  const keys: Measured['rounds'] = [];
  const windows: Window[] = [];
  let lost = 0;
  const fromUs = monotonicUs();
  for (let round = 0; round < rounds; round++) {
    // Quiet between rounds: the previous alarm's receipts and all clear are not measured with this one.
    if (round > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const cpuBefore = cpuNowPrecise();
    const windowFromUs = monotonicUs();
    const started = nowMs();
    const key = await trigger(round);
    answered.push(nowMs() - started);
    keys.push({ key, started });
    await fleet.settle(clients, key, timeoutMs);
    cpu.push(cpuSpent(cpuBefore, cpuNowPrecise()));
    windows.push({ fromUs: windowFromUs, toUs: monotonicUs() });
    const before = latencies.length;
    for (const c of clients) {
      const at = c.received.get(key);
      if (at === undefined) lost += 1;
      else latencies.push(at - started);
    }
    const these = latencies.slice(before);
    progress(`round ${round + 1}/${rounds}: ${these.length}/${clients.length} received; answered in ${Math.round(answered[round] ?? 0)} ms, `
      + `p50 ${Math.round(percentile(these, 50))} ms, last ${Math.round(Math.max(0, ...these))} ms`);
    first.push(Math.min(...these));
  }
  return { latencies, rounds: keys, windows, window: { fromUs, toUs: monotonicUs() }, answered, first, cpu, lost };
}

/**
 * The alarm's time split by where the devices are (described at the top of this file): per round, the first and
 * the last arrival on the node that took the raise and on the others; the figures are the rounds' medians.
 */
function timeSplit(prefix: string, clients: Measurable[], measured: Measured, raisedVia: Map<string, string>): Record<string, number> {
  const sides = { local: { first: [] as number[], last: [] as number[] }, remote: { first: [] as number[], last: [] as number[] } };
  for (const { key, started } of measured.rounds) {
    for (const [side, local] of [['local', true], ['remote', false]] as const) {
      const arrivals = clients.filter((c) => (c.url === raisedVia.get(key)) === local)
        .map((c) => c.received.get(key)).filter((at) => at !== undefined).map((at) => at - started);
      if (arrivals.length === 0) continue;
      sides[side].first.push(Math.min(...arrivals));
      sides[side].last.push(Math.max(...arrivals));
    }
  }
  return {
    [`${prefix}_local_first_p50_ms`]: round(percentile(sides.local.first, 50)),
    [`${prefix}_local_last_p50_ms`]: round(percentile(sides.local.last, 50)),
    [`${prefix}_remote_first_p50_ms`]: round(percentile(sides.remote.first, 50)),
    [`${prefix}_remote_last_p50_ms`]: round(percentile(sides.remote.last, 50)),
  };
}

/** The size of the last alarm raised at a site as its devices had it (the live event, as JSON): the baseline's payload. */
async function raisedBytes(db: pg.Pool, siteId: string): Promise<number> {
  const event = (await db.query<IncidentEvent>(`
    SELECT id, incident_id AS "incidentId", organisation_id AS "organisationId", site_id AS "siteId", drill, type, audience,
           actor_person_id AS "actorPersonId", data, at
      FROM incident_events WHERE site_id = $1 AND type = 'raised' ORDER BY id DESC LIMIT 1`, [siteId])).rows[0];
  if (!event) throw new Error(`no alarm was raised at ${siteId}`);
  const recipients = Number((event.data.incident as { recipients?: number } | undefined)?.recipients ?? 0);
  return Buffer.byteLength(JSON.stringify(liveEvent(envelope(event), recipients)));
}

/** The latencies of some of the measured clients, and how many of their copies never came. */
function subset(clients: Measurable[], measured: Measured): { latencies: number[]; lost: number } {
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

/** Another site whose group holds every bench device's person: its alarm is a new incident while one at the first is active. */
async function addStormSite(db: pg.Pool, fixture: Fixture): Promise<string> {
  const site = (await db.query<{ id: string }>(
    "INSERT INTO sites (organisation_id, name, kind) SELECT organisation_id, 'Stormskolan', 'school' FROM sites WHERE id = $1 RETURNING id", [fixture.siteAll],
  )).rows[0]?.id as string;
  const group = (await db.query<{ id: string }>(
    "INSERT INTO alarm_groups (site_id, organisation_id, name) SELECT $1, organisation_id, 'Alla' FROM sites WHERE id = $1 RETURNING id", [site],
  )).rows[0]?.id;
  await db.query(
    `INSERT INTO alarm_group_members (group_id, person_id)
     SELECT $1, m.person_id FROM alarm_group_members m JOIN alarm_groups g ON g.id = m.group_id WHERE g.site_id = $2`, [group, fixture.siteAll],
  );
  await db.query('INSERT INTO alarm_group_types (group_id, alarm_type_id, receives, may_raise) VALUES ($1, $2, true, true)', [group, fixture.lockdown]);
  return site;
}

interface Storm {
  /** The figures are taken: nothing connects again. */
  over: boolean;
  retries: number;
  resyncs: number;
}

/** A moved device's way back: when it was connected to a survivor, and when its first catch-up there was applied and what that carried. */
interface Return {
  connectedAt?: number;
  caughtUpAt?: number;
  events?: number;
}

/** A `raised` the device holds now (live, in a catch-up, or as an active incident of a resync): kept, and confirmed as the app does. */
function hold(client: Client, key: string | null, incidentId: string): void {
  if (key === null || client.received.has(key)) return;
  client.received.set(key, nowMs());
  client.socket.emit('receipt', { incidentId, kind: 'delivered' });
}

/**
 * Connects a device of the killed node to `url` with its cursor and epoch, as the app's transport does after
 * its connection died: a refused handshake is tried again with the app's back-off, a dropped connection at
 * once (jittered), and a connection whose `catch_up` never comes syncs on the app's timer.
 */
function comeBack(client: Client, url: string, storm: Storm): Return {
  const back: Return = {};
  const open = (refusals: number) => {
    if (storm.over) return;
    const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { ...client.auth, ...client.position } });
    client.socket = socket;
    let late: NodeJS.Timeout | undefined;
    const again = (delayMs: number, refused: number) => {
      storm.retries += 1;
      clearTimeout(late);
      setTimeout(() => open(refused), delayMs * (0.5 + Math.random()));
    };
    const caughtUp = (answer: CatchUpPayload) => {
      if (answer.kind === 'events') {
        for (const e of answer.events) hold(client, raisedKey(e), e.incidentId);
      } else {
        storm.resyncs += 1;
        for (const { incident } of answer.incidents) hold(client, incident.linkedFrom?.incidentId ?? incident.id, incident.id);
      }
      client.position = advanced(client.position, answer);
      clearTimeout(late);
      if (back.caughtUpAt !== undefined) return;
      back.caughtUpAt = nowMs();
      back.events = answer.kind === 'events' ? answer.events.length : 0;
    };
    socket.on('event', (e: EventEnvelope) => hold(client, raisedKey(e), e.incidentId));
    socket.on('catch_up', caughtUp);
    socket.on('connect', () => {
      back.connectedAt ??= nowMs();
      late = setTimeout(() => {
        storm.retries += 1;
        void (socket.timeout(30_000).emitWithAck('sync', client.position) as Promise<Ack<CatchUpPayload>>)
          .then((ack) => {
            if (ack.ok) caughtUp(ack.data);
          }, () => undefined);
      }, APP_SYNC_EVERY_MS);
    });
    socket.on('connect_error', () => again(Math.min(500 * 2 ** Math.min(refusals + 1, 5), 10_000), refusals + 1));
    socket.on('disconnect', (reason) => {
      clearTimeout(late);
      if (reason !== 'io client disconnect') again(300, 0);
    });
  };
  open(0);
  return back;
}

/**
 * The reconnection storm (issue 15 item 6; described at the top of this file). `devices` are the ones every
 * storm alarm targets; the linked organisation's devices move with their node but expect none of them.
 */
async function reconnectionStorm(db: pg.Pool, fixture: Fixture, nodes: AppNode[], devices: Client[], linkedDevices: Client[]): Promise<Record<string, number | null>> {
  const killed = nodes[nodes.length - 1] as AppNode;
  const survivors = nodes.filter((n) => n !== killed).map((n) => n.url);
  const raiseAt = survivors[0] as string;
  const siteStorm = await addStormSite(db, fixture);
  const everyone = [...devices, ...linkedDevices];

  // As the app's 20 s sync would have lately: the storm's catch-ups then carry what came after it, not the whole bench.
  // Set-up, not measured: a few at a time, and a refused one (the node's pool busy) asked again after a moment.
  for (let start = 0; start < everyone.length; start += 50) {
    await Promise.all(everyone.slice(start, start + 50).map(async (c) => {
      for (let attempt = 1; ; attempt++) {
        const ack = (await c.socket.timeout(30_000).emitWithAck('sync', c.position)) as Ack<CatchUpPayload>;
        if (ack.ok) {
          c.position = advanced(c.position, ack.data);
          return;
        }
        if (attempt === 5) throw new Error(`sync refused: ${ack.error.code}`);
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }));
  }

  const expected: string[] = [];
  for (let n = 0; n < STORM_ALARMS; n++) {
    const incidentId = await raiseAlarm(raiseAt, fixture, fixture.siteAll);
    expected.push(incidentId);
    if (n === STORM_ALARMS - 1) break;
    await waitFor(() => devices.every((d) => d.received.has(incidentId)), 30_000).catch(() => undefined);
    await allClear(raiseAt, fixture, incidentId);
    await new Promise((r) => setTimeout(r, 1000));
  }

  // The last alarm was just answered: its copies for the killed node's devices are in flight as it dies.
  const moved = everyone.filter((c) => c.url === killed.url);
  const stayed = devices.filter((c) => c.url !== killed.url);
  const killedAt = nowMs();
  await killed.kill();
  const inFlight = expected.at(-1);
  const movedDevices = devices.filter((c) => c.url === killed.url);
  const movedHadIt = inFlight === undefined ? 0 : movedDevices.filter((c) => c.received.has(inFlight)).length;
  const storm: Storm = { over: false, retries: 0, resyncs: 0 };
  const back = moved.map((c, i) => comeBack(c, survivors[i % survivors.length] as string, storm));
  progress(`storm: node killed with ${moved.length} devices; all of them reconnecting, an alarm raised at once`);
  const raiseStarted = nowMs();
  const stormAlarm = await raiseAlarm(raiseAt, fixture, siteStorm);
  const answeredMs = nowMs() - raiseStarted;
  expected.push(stormAlarm);

  await waitFor(
    () => back.every((b) => b.caughtUpAt !== undefined) && devices.every((d) => expected.every((k) => d.received.has(k))), STORM_TIMEOUT_MS,
  ).catch(() => undefined);
  storm.over = true;

  const caughtUp = back.map((b) => b.caughtUpAt).filter((t) => t !== undefined).map((t) => t - killedAt);
  const connected = back.map((b) => b.connectedAt).filter((t) => t !== undefined).map((t) => t - killedAt);
  const carried = back.map((b) => b.events).filter((n) => n !== undefined);
  let lost = 0;
  for (const d of devices) for (const k of expected) if (!d.received.has(k)) lost += 1;
  const arrival = (c: Client) => {
    const at = c.received.get(stormAlarm);
    return at === undefined ? undefined : at - raiseStarted;
  };
  const live = stayed.map(arrival).filter((ms) => ms !== undefined);
  const everywhere = devices.map(arrival);
  progress(`storm: ${connected.length}/${moved.length} connected elsewhere within ${round(Math.max(...connected))} ms, `
    + `${caughtUp.length}/${moved.length} caught up within ${round(Math.max(...caughtUp))} ms (a median of ${percentile(carried, 50)} events each); `
    + `${inFlight === undefined ? 'no alarm' : `the alarm in flight had reached ${movedHadIt}/${movedDevices.length} of its devices there`} before the kill; ${lost} copies missing`);
  return {
    storm_devices: moved.length,
    storm_alarms: STORM_ALARMS,
    storm_ms: caughtUp.length === moved.length ? round(Math.max(0, ...caughtUp)) : null,
    storm_p50_ms: round(percentile(caughtUp, 50)),
    storm_retries: storm.retries,
    storm_resyncs: storm.resyncs,
    storm_lost: lost,
    storm_raise_answered_ms: round(answeredMs),
    storm_raise_p50_ms: round(percentile(live, 50)),
    storm_raise_p99_ms: round(percentile(live, 99)),
    storm_raise_max_ms: round(Math.max(...live)),
    storm_raise_all_ms: everywhere.every((ms) => ms !== undefined) ? round(Math.max(...everywhere)) : null,
  };
}

/** Connects the storm's devices in this process, to the nodes the fleet had them on, runs the storm, and disconnects them. */
async function stormWith<T>(
  urls: string[],
  auth: { devices: (i: number) => Record<string, unknown>; linked: (i: number) => Record<string, unknown> },
  storm: (devices: Client[], linked: Client[]) => Promise<T>,
): Promise<T> {
  const devices = await connectClients(urls, DEVICES, auth.devices);
  const linked = await connectClients(urls, LINKED_SIZE, auth.linked);
  try {
    return await storm(devices, linked);
  } finally {
    for (const d of [...devices, ...linked]) d.socket.disconnect();
  }
}

async function main(): Promise<void> {
  const dataDir = path.join(os.tmpdir(), `samlarm-bench-${process.pid}`);
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort(), log });
  const redis = await startTestRedis();
  const children: ChildProcess[] = [];
  const fleets: ClientFleet[] = [];
  const nodes: AppNode[] = [];
  try {
    const pool = new pg.Pool({ connectionString: postgres.connectionString, max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool, log);
    await seedDemo(pool);
    const fixture = await createFixture(pool);

    /** Where each profiled kind of process writes its profiles (BENCH_PROFILE=1), and the flags that make it. */
    const profileDir = (name: string) => path.join(dataDir, `profile-${name}`);
    const profiled = (name: string) => (PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir(name)}`] : []);
    const inspectorPorts = await Promise.all(Array.from({ length: NODES }, () => freePort()));
    nodes.push(...await Promise.all(inspectorPorts.map((inspectorPort, i) => startNode({
      DATABASE_URL: postgres.connectionString, REDIS_URL: redis.url, SEED_DEMO: 'false', DATABASE_POOL_MAX: '20',
    }, { nodeArgs: [inspectArg(inspectorPort), ...profiled(`node-${i + 1}`)] }))));
    const urls = nodes.map((n) => n.url);
    progress(`${NODES} nodes up; connecting ${DEVICES} devices`);
    const memoryBefore = await nodesMemory(inspectorPorts);

    const fleet = new ClientFleet(CLIENT_PROCESSES, profiled('clients'));
    fleets.push(fleet);
    const deviceAuth = (i: number) => ({ token: fixture.tokens[i], deviceId: `bench-device-${i}`, cursor: null });
    const linkedAuth = (i: number) => ({ token: fixture.linked.tokens[i], deviceId: `bench-linked-${i}`, cursor: null });
    const spread = (count: number, auth: (i: number) => Record<string, unknown>) =>
      Array.from({ length: count }, (_, i) => ({ url: urls[i % urls.length] as string, auth: auth(i) }));
    // Like the app, every device confirms receipt, so the measured path carries the receipt load too.
    const devices = await fleet.connect(spread(DEVICES, deviceAuth), 'event');
    const linkedDevices = await fleet.connect(spread(LINKED_SIZE, linkedAuth), 'event');
    // Settled a moment, so the handshakes' catch-ups are done and their garbage is not counted as held memory.
    await new Promise((r) => setTimeout(r, 2000));
    const connected = devices.length + linkedDevices.length;
    const memoryAfter = await nodesMemory(inspectorPorts);
    const nodeKbPerDevice = (memoryAfter.live - memoryBefore.live) / 1024 / connected;
    const nodeRssKbPerDevice = (memoryAfter.rss - memoryBefore.rss) / 1024 / connected;
    progress(`node memory per connected device: ${round(nodeKbPerDevice)} KB live, ${round(nodeRssKbPerDevice)} KB resident`);

    const resolving: Promise<unknown>[] = [];
    const raisedVia = new Map<string, string>();
    const raiseAndResolve = (siteId: string) => async (round: number) => {
      const via = urls[round % urls.length] as string;
      const incidentId = await raiseAlarm(via, fixture, siteId);
      raisedVia.set(incidentId, via);
      // All clear after a while, so the next alarm at the site is a new incident, not a join.
      resolving.push(new Promise((r) => setTimeout(r, 2000)).then(() => allClear(urls[0] as string, fixture, incidentId)));
      return incidentId;
    };
    let cpuFrom = cpuNow();
    const all = await measure(fleet, devices, ALARMS, 3000, raiseAndResolve(fixture.siteAll));
    const allCpu = cpuSpent(cpuFrom, cpuNow(), ALARMS);
    await new Promise((r) => setTimeout(r, 3000));
    await fleet.receipting(false);
    cpuFrom = cpuNow();
    const withoutReceipts = await measure(fleet, devices, ALARMS, 3000, raiseAndResolve(fixture.siteAll));
    const withoutReceiptsCpu = cpuSpent(cpuFrom, cpuNow(), ALARMS);
    await fleet.receipting(true);
    await new Promise((r) => setTimeout(r, 3000));
    cpuFrom = cpuNow();
    const school = await measure(fleet, devices.slice(0, SCHOOL_SIZE), SCHOOL_ALARMS, 2300, raiseAndResolve(fixture.siteSchool));
    const schoolCpu = cpuSpent(cpuFrom, cpuNow(), SCHOOL_ALARMS);
    // The same school alarm once the school is linked to the library: the linked incident is raised in the
    // alarm's own transaction, so the school's devices and the library's are measured from the same raise.
    await Promise.all(resolving);
    await linkSchoolToLibrary(pool, fixture);
    const schoolDevices = devices.slice(0, SCHOOL_SIZE);
    const both = await measure(fleet, [...schoolDevices, ...linkedDevices], LINKED_ALARMS, 2300, raiseAndResolve(fixture.siteSchool));
    const linkedSchool = subset(schoolDevices, both);
    const linkedOrganisation = subset(linkedDevices, both);
    await Promise.all(resolving);
    const nodePeakRssMb = Math.max(...nodes.map((n) => peakResidentMb(n.pid)));
    if (STORM && NODES < 2) progress('storm skipped: no node would survive the kill (BENCH_NODES is 1)');
    if (PROFILE) progress('storm skipped: the killed node would leave no profile (BENCH_PROFILE is 1)');
    await fleet.close();
    // The storm moves devices from node to node: they are connected again, in this process, as they were.
    const storm = STORM && NODES >= 2
      ? await stormWith(urls, { devices: deviceAuth, linked: linkedAuth }, (d, l) => reconnectionStorm(pool, fixture, nodes, d, l))
      : {};
    // A node the storm killed is gone already.
    await Promise.all(nodes.filter((n) => n.isRunning()).map((n) => n.stop()));
    const payloadBytes = await raisedBytes(pool, fixture.siteAll);
    const schoolPayloadBytes = await raisedBytes(pool, fixture.siteSchool);
    await pool.end();
    const nodeProfiles = PROFILE ? await Promise.all(nodes.map(async (_, i) => (await readProfilesIn(profileDir(`node-${i + 1}`)))[0] as CpuProfile)) : [];

    // Baseline: a bare Socket.IO server broadcasting a payload of the alarm's own size to as many clients, then
    // one of the school alarm's size to the school's share of them (a room), while all of them stay connected.
    const baselinePort = await freePort();
    const baseline = fork(new URL('./baseline-server.ts', import.meta.url).pathname, [String(baselinePort)], {
      execArgv: [...profiled('baseline'), '--import', 'tsx'], stdio: 'inherit',
    });
    children.push(baseline);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${baselinePort}/ready`).catch(() => undefined))?.ok === true, 20_000);
    const baseFleet = new ClientFleet(CLIENT_PROCESSES, profiled('baseline-clients'));
    fleets.push(baseFleet);
    const baseClients = await baseFleet.connect(Array.from({ length: DEVICES }, (_, i) => ({
      url: `http://127.0.0.1:${baselinePort}`, auth: i < SCHOOL_SIZE ? { room: 'school' } : {},
    })), 'broadcast');
    const broadcast = (query: string) => async () => {
      const key = randomUUID();
      await fetch(`http://127.0.0.1:${baselinePort}/broadcast?key=${key}&${query}`);
      return key;
    };
    cpuFrom = cpuNow();
    const base = await measure(baseFleet, baseClients, ALARMS, 3000, broadcast(`bytes=${payloadBytes}`));
    const baseCpu = cpuSpent(cpuFrom, cpuNow(), ALARMS);
    const baseSchool = await measure(baseFleet, baseClients.slice(0, SCHOOL_SIZE), SCHOOL_ALARMS, 500, broadcast(`bytes=${schoolPayloadBytes}&room=school`));
    await baseFleet.close();
    const baselineExited = once(baseline, 'exit');
    baseline.kill('SIGTERM');
    await baselineExited;
    const profile = PROFILE ? {
      ...phaseProfiles(nodeProfiles, { alarm: [all.window], school: [school.window] }),
      rounds: roundsProfile({
        nodes: [nodeProfiles, all.windows],
        clients: [await readProfilesIn(profileDir('clients')), all.windows],
        baseline_server: [await readProfilesIn(profileDir('baseline')), base.windows],
        baseline_clients: [await readProfilesIn(profileDir('baseline-clients')), base.windows],
      }),
    } : undefined;

    const figures = {
      devices: DEVICES,
      nodes: NODES,
      client_processes: CLIENT_PROCESSES,
      alarms: ALARMS,
      p50_ms: round(percentile(all.latencies, 50)),
      p99_ms: round(percentile(all.latencies, 99)),
      max_ms: round(Math.max(...all.latencies)),
      baseline_p50_ms: round(percentile(base.latencies, 50)),
      baseline_p99_ms: round(percentile(base.latencies, 99)),
      ratio_p99: round(percentile(all.latencies, 99) / percentile(base.latencies, 99)),
      lost: all.lost,
      raise_answered_p50_ms: round(percentile(all.answered, 50)),
      ...timeSplit('split', devices, all, raisedVia),
      no_receipts_p50_ms: round(percentile(withoutReceipts.latencies, 50)),
      no_receipts_p99_ms: round(percentile(withoutReceipts.latencies, 99)),
      no_receipts_lost: withoutReceipts.lost,
      cpu_ms_per_alarm: allCpu,
      no_receipts_cpu_ms_per_alarm: withoutReceiptsCpu,
      baseline_cpu_ms_per_alarm: baseCpu,
      fanout_cpu_ms: medianCpu(all.cpu),
      baseline_fanout_cpu_ms: medianCpu(base.cpu),
      first_device_p50_ms: round(percentile(all.first, 50)),
      baseline_first_device_p50_ms: round(percentile(base.first, 50)),
      baseline_lost: base.lost,
      payload_bytes: payloadBytes,
      school_payload_bytes: schoolPayloadBytes,
      school_recipients: SCHOOL_SIZE,
      school_alarms: SCHOOL_ALARMS,
      school_p50_ms: round(percentile(school.latencies, 50)),
      school_p99_ms: round(percentile(school.latencies, 99)),
      school_lost: school.lost,
      baseline_school_p50_ms: round(percentile(baseSchool.latencies, 50)),
      baseline_school_p99_ms: round(percentile(baseSchool.latencies, 99)),
      baseline_school_lost: baseSchool.lost,
      school_cpu_ms_per_alarm: schoolCpu,
      school_fanout_cpu_ms: medianCpu(school.cpu),
      baseline_school_fanout_cpu_ms: medianCpu(baseSchool.cpu),
      school_raise_answered_p50_ms: round(percentile(school.answered, 50)),
      school_raise_answered_p99_ms: round(percentile(school.answered, 99)),
      ...timeSplit('school_split', devices.slice(0, SCHOOL_SIZE), school, raisedVia),
      linked_recipients: LINKED_SIZE,
      linked_alarms: LINKED_ALARMS,
      linked_school_p50_ms: round(percentile(linkedSchool.latencies, 50)),
      linked_school_p99_ms: round(percentile(linkedSchool.latencies, 99)),
      linked_p50_ms: round(percentile(linkedOrganisation.latencies, 50)),
      linked_p99_ms: round(percentile(linkedOrganisation.latencies, 99)),
      linked_raise_answered_p50_ms: round(percentile(both.answered, 50)),
      linked_lost: linkedSchool.lost + linkedOrganisation.lost,
      ...storm,
      node_kb_per_device: round(nodeKbPerDevice),
      node_rss_kb_per_device: round(nodeRssKbPerDevice),
      node_peak_rss_mb: nodePeakRssMb,
      rss_mb_bench_process: Math.round(process.memoryUsage().rss / 1e6),
      ...(profile ? { profile } : {}),
    };
    console.log(JSON.stringify(figures));
  } finally {
    // A run that failed leaves no node behind (one that finished has stopped them).
    await Promise.all(nodes.filter((n) => n.isRunning()).map((n) => n.kill()));
    for (const c of children) c.kill('SIGKILL');
    for (const f of fleets) f.kill();
    await redis.stop();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The rounds' median of each kind's processor time, and of all of it (`all`): what one alarm's way to its devices took. */
function medianCpu(rounds: CpuTimes[]): Record<string, number> {
  const kinds = [...new Set(rounds.flatMap((r) => Object.keys(r)))] as (keyof CpuTimes)[];
  const medians: Record<string, number> = {};
  for (const kind of kinds) medians[kind] = round(percentile(rounds.map((r) => r[kind] ?? 0), 50));
  medians.all = round(percentile(rounds.map((r) => Object.values(r).reduce((sum, ms) => sum + ms, 0)), 50));
  return medians;
}

/** Each node's profile over each phase; the heaviest functions also go to stderr as a table. */
function phaseProfiles(profiles: CpuProfile[], phases: Record<string, Window[]>): Record<string, WindowProfile[]> {
  const out: Record<string, WindowProfile[]> = {};
  for (const [phase, windows] of Object.entries(phases)) {
    out[phase] = profiles.map((p, i) => printed(`${phase}, node ${i + 1}`, profileWindows([p], windows)));
  }
  return out;
}

/**
 * The alarm's way and the bare broadcast's, side by side: each kind of process's profiles (all of its processes
 * together) over its phase's rounds, each from just before the raise until every device had it, per round.
 */
function roundsProfile(kinds: Record<string, [CpuProfile[], Window[]]>): Record<string, WindowProfile> {
  return Object.fromEntries(Object.entries(kinds).map(([kind, [profiles, windows]]) => [kind, printed(`per round, ${kind}`, profileWindows(profiles, windows))]));
}

function printed(what: string, w: WindowProfile): WindowProfile {
  progress(`profile, ${what}: busy ${w.busy_ms} of ${w.window_ms} ms`);
  for (const h of w.heaviest) progress(`  | ${h.fn} | ${h.where} | ${h.self_ms} | ${Math.round(h.share * 1000) / 10} % |`);
  return w;
}

/** The nodes' memory together, in bytes, each read after a full collection: live (heap in use and the buffers it owns) and resident. */
async function nodesMemory(inspectorPorts: number[]): Promise<{ live: number; rss: number }> {
  const each = await Promise.all(inspectorPorts.map(liveMemory));
  return { live: each.reduce((sum, m) => sum + m.heapUsed + m.external, 0), rss: each.reduce((sum, m) => sum + m.rss, 0) };
}

/** Progress goes to stderr, so stdout's last line stays the JSON figures. */
function progress(message: string): void {
  process.stderr.write(`[bench:fanout] ${message}\n`);
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
