/**
 * npm run bench:recipients — what freezing a new incident's recipients costs inside the raise's transaction
 * (issue 15 item 2: "the recipients insert as cheap as Postgres allows"), against the bare write of the same rows.
 *
 * - `resolve_and_insert`: the product's one statement (`insertRecipients`, src/modules/alarms/recipients.ts): who
 *   the alarm reaches is resolved in the database (groups receiving the type, alerted leads, the presser) and
 *   written in the same `INSERT … SELECT`, with nothing sent to or from the node but the rows it returns.
 * - `known_ids_unnest` (the baseline): the same rows written from ids the node already holds, `INSERT … SELECT
 *   unnest($ids)` — the cheapest one-statement write of N rows short of COPY, which pg cannot pipeline into the
 *   raise's transaction without a stream library; it leaves out the resolution, so it is a floor, not an alternative.
 * - `select_then_unnest`: the alternative the node could take: resolve with a SELECT, then write with unnest —
 *   two round trips and the ids over the wire twice.
 *
 * Each round opens a transaction, inserts an incident, times one variant and rolls back, so the table stays the
 * same size; the variants take turns. Environment: BENCH_RECIPIENTS (5000), BENCH_ROUNDS (30).
 * The last line of output is one JSON object.
 */
import os from 'node:os';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../src/db/migrate.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { insertRecipients } from '../src/modules/alarms/recipients.js';
import { freePort } from '../test/helpers/services.js';
import { percentile } from './support.js';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const log = pino({ level: 'warn' });

interface Fixture {
  organisationId: string;
  siteId: string;
  alarmTypeId: string;
  presserId: string;
  groupId: string;
}

/** One site whose one group of RECIPIENTS people receives the lockdown; the presser is one of them. */
async function createFixture(db: pg.Pool): Promise<Fixture> {
  const one = async (sql: string, params: unknown[] = []) => (await db.query<{ id: string }>(sql, params)).rows[0]?.id as string;
  const organisationId = await one("INSERT INTO organisations (name, kind) VALUES ('Bench', 'forvaltning') RETURNING id");
  const siteId = await one("INSERT INTO sites (organisation_id, name, kind) VALUES ($1, 'Storskolan', 'school') RETURNING id", [organisationId]);
  const alarmTypeId = await one("SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = 'inrymning'");
  const groupId = await one("INSERT INTO alarm_groups (site_id, organisation_id, name) VALUES ($1, $2, 'Alla') RETURNING id", [siteId, organisationId]);
  await db.query(
    `WITH p AS (INSERT INTO people (organisation_id, name, email)
                SELECT $2, 'Person ' || g, 'bench' || g || '@bench.example' FROM generate_series(1, $3) g RETURNING id)
     INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, id FROM p`,
    [groupId, organisationId, RECIPIENTS],
  );
  await db.query('INSERT INTO alarm_group_types (group_id, alarm_type_id, receives, may_raise) VALUES ($1, $2, true, true)', [groupId, alarmTypeId]);
  const presserId = await one('SELECT person_id AS id FROM alarm_group_members WHERE group_id = $1 LIMIT 1', [groupId]);
  return { organisationId, siteId, alarmTypeId, presserId, groupId };
}

const VARIANT_SQL = {
  incident: `
    INSERT INTO incidents (organisation_id, site_id, alarm_type_id, drill, type_snapshot, raised_by)
    VALUES ($1, $2, $3, false, '{}'::jsonb, $4) RETURNING id`,
  knownIds: `
    INSERT INTO incident_recipients (incident_id, person_id, organisation_id, lead, via_groups)
    SELECT $1, unnest($2::uuid[]), $3, false, ARRAY[$4::uuid]
    RETURNING person_id AS "personId", lead`,
  resolve: `
    SELECT DISTINCT m.person_id AS "personId"
      FROM alarm_groups g JOIN alarm_group_members m ON m.group_id = g.id
      JOIN people p ON p.id = m.person_id AND p.active AND p.organisation_id = $2
     WHERE g.site_id = $1
       AND EXISTS (SELECT 1 FROM alarm_group_types gt WHERE gt.group_id = g.id AND gt.alarm_type_id = $3 AND gt.receives)`,
} as const;

type Variant = (tx: pg.PoolClient, incidentId: string, f: Fixture, ids: string[]) => Promise<number>;

const VARIANTS: Record<string, Variant> = {
  resolve_and_insert: async (tx, incidentId, f) =>
    (await insertRecipients(tx, { id: incidentId, organisationId: f.organisationId, siteId: f.siteId, alarmTypeId: f.alarmTypeId }, { presserId: f.presserId })).length,
  known_ids_unnest: async (tx, incidentId, f, ids) =>
    (await tx.query(VARIANT_SQL.knownIds, [incidentId, ids, f.organisationId, f.groupId])).rowCount ?? 0,
  select_then_unnest: async (tx, incidentId, f) => {
    const ids = (await tx.query<{ personId: string }>(VARIANT_SQL.resolve, [f.siteId, f.organisationId, f.alarmTypeId])).rows.map((r) => r.personId);
    return (await tx.query(VARIANT_SQL.knownIds, [incidentId, ids, f.organisationId, f.groupId])).rowCount ?? 0;
  },
};

/** One round of one variant: its time in ms, in a transaction that is rolled back. */
async function timed(db: pg.Pool, f: Fixture, ids: string[], variant: Variant): Promise<number> {
  const tx = await db.connect();
  try {
    await tx.query('BEGIN');
    const incidentId = (await tx.query<{ id: string }>(VARIANT_SQL.incident, [f.organisationId, f.siteId, f.alarmTypeId, f.presserId])).rows[0]?.id as string;
    const started = performance.now();
    const rows = await variant(tx, incidentId, f, ids);
    const ms = performance.now() - started;
    if (rows < RECIPIENTS) throw new Error(`${rows} rows written, ${RECIPIENTS} expected`);
    return ms;
  } finally {
    await tx.query('ROLLBACK');
    tx.release();
  }
}

async function main(): Promise<void> {
  const dataDir = path.join(os.tmpdir(), `samlarm-bench-recipients-${process.pid}`);
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort(), log });
  try {
    const db = new pg.Pool({ connectionString: postgres.connectionString, max: 2 });
    await migrate(db, log);
    const fixture = await createFixture(db);
    await db.query('ANALYZE');
    const ids = (await db.query<{ personId: string }>(VARIANT_SQL.resolve, [fixture.siteId, fixture.organisationId, fixture.alarmTypeId])).rows.map((r) => r.personId);
    const times = new Map(Object.keys(VARIANTS).map((name) => [name, [] as number[]]));
    // Two rounds of each to warm the caches and plans, not counted; then the variants take turns.
    for (let round = -2; round < ROUNDS; round++) {
      for (const [name, variant] of Object.entries(VARIANTS)) {
        const ms = await timed(db, fixture, ids, variant);
        if (round >= 0) times.get(name)?.push(ms);
      }
    }
    await db.end();
    const p50 = (name: string) => percentile(times.get(name) ?? [], 50);
    const figure = (n: number) => Math.round(n * 10) / 10;
    console.log(JSON.stringify({
      recipients: RECIPIENTS,
      rounds: ROUNDS,
      ...Object.fromEntries([...times.keys()].flatMap((name) => [[`${name}_p50_ms`, figure(p50(name))], [`${name}_p99_ms`, figure(percentile(times.get(name) ?? [], 99))]])),
      ratio_p50: figure(p50('resolve_and_insert') / p50('known_ids_unnest')),
      alternative_ratio_p50: figure(p50('select_then_unnest') / p50('known_ids_unnest')),
    }));
  } finally {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
