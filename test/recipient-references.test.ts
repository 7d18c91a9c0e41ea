import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';

/**
 * An alarm's recipients refer to their incident, their person and their organisation. Migration 016 checks
 * those references once per statement, with the locks a foreign key takes, instead of once per row (ADR 031).
 * These tests hold the trigger to everything the keys guaranteed, a delete racing an insert included, and to
 * what the keys did not check: that the organisation is the incident's own.
 */
describe('what an alarm\'s recipients refer to', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  const pgCode = (err: unknown) => (err as { code?: string }).code;
  const refused = (sql: string, params: unknown[]) => t.db.query(sql, params).then(() => 'written', pgCode);

  /** An organisation with a site, `size` people, and an incident there raised by the first, written directly (nothing else refers to it). */
  async function incidentWith(size: number) {
    const one = async (sql: string, params: unknown[]) => ((await t.db.query<{ id: string }>(sql, params)).rows[0] as { id: string }).id;
    const organisation = await one("INSERT INTO organisations (name, kind) VALUES ('Nya förvaltningen', 'forvaltning') RETURNING id", []);
    const site = await one("INSERT INTO sites (organisation_id, name, kind) VALUES ($1, 'Nyskolan', 'school') RETURNING id", [organisation]);
    const people = (await t.db.query<{ id: string }>(
      "INSERT INTO people (organisation_id, name, email) SELECT $1, 'Lärare ' || g, 'larare' || g || '-' || $3 || '@nyskolan.example' FROM generate_series(1, $2) g RETURNING id",
      [organisation, size, randomUUID()],
    )).rows.map((r) => r.id);
    const lockdown = await one("SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = 'inrymning'", []);
    const incident = await one(
      `INSERT INTO incidents (organisation_id, site_id, alarm_type_id, drill, type_snapshot, raised_by, raised_at, last_pressed_at)
       VALUES ($1, $2, $3, false, '{}', $4, now(), now()) RETURNING id`,
      [organisation, site, lockdown, people[0]],
    );
    return { organisation, incident, people };
  }

  const addRecipient = 'INSERT INTO incident_recipients (incident_id, person_id, organisation_id, lead) VALUES ($1, $2, $3, false)';
  const countRecipients = async (incident: string) =>
    Number((await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM incident_recipients WHERE incident_id = $1', [incident])).rows[0]?.n);

  it('refuses a recipient who is nobody, of no incident, or of another organisation than its incident, and writes none of the statement\'s rows', async () => {
    const school = await incidentWith(3);
    const other = await incidentWith(1);
    const [, person] = school.people as [string, string];
    await expect(refused(addRecipient, [school.incident, randomUUID(), school.organisation])).resolves.toBe('23503');
    await expect(refused(addRecipient, [randomUUID(), person, school.organisation])).resolves.toBe('23503');
    await expect(refused(addRecipient, [school.incident, person, other.organisation])).resolves.toBe('23503');
    // One bad row among good ones: the statement writes nothing.
    await expect(refused(
      'INSERT INTO incident_recipients (incident_id, person_id, organisation_id, lead) SELECT $1, unnest($2::uuid[]), $3, false',
      [school.incident, [...school.people, randomUUID()], school.organisation],
    )).resolves.toBe('23503');
    expect(await countRecipients(school.incident)).toBe(0);

    await expect(refused(addRecipient, [school.incident, person, school.organisation])).resolves.toBe('written');
    expect(await countRecipients(school.incident)).toBe(1);
  });

  it('refuses deleting, truncating or re-identifying what recipients refer to, and lets go of what nothing refers to', async () => {
    const school = await incidentWith(3);
    const [, recipient, free] = school.people as [string, string, string];
    await t.db.query(addRecipient, [school.incident, recipient, school.organisation]);

    for (const [sql, params] of [
      ['DELETE FROM people WHERE id = $1', [recipient]],
      ['DELETE FROM incidents WHERE id = $1', [school.incident]],
      ['UPDATE incident_recipients SET person_id = $2 WHERE incident_id = $1', [school.incident, free]],
      ['UPDATE people SET id = $2 WHERE id = $1', [recipient, randomUUID()]],
      ['UPDATE incidents SET id = $2 WHERE id = $1', [school.incident, randomUUID()]],
      ['TRUNCATE incidents CASCADE', []],
      ['TRUNCATE people CASCADE', []],
    ] as const) {
      await expect(refused(sql, [...params]), sql).resolves.toBe('23503');
    }

    // What nothing refers to goes; a recipient's receipt times still change.
    await t.db.query('DELETE FROM people WHERE id = $1', [free]);
    await t.db.query('UPDATE incident_recipients SET delivered_at = now() WHERE incident_id = $1', [school.incident]);
    expect((await t.db.query('SELECT person_id FROM incident_recipients WHERE incident_id = $1', [school.incident])).rows)
      .toEqual([{ person_id: recipient }]);
  });

  /** Runs `first` in an open transaction, starts `second` (which must wait for the first's lock), commits the first, and returns how the second ended. */
  async function race(first: [string, unknown[]], second: [string, unknown[]]): Promise<string> {
    // Connections of their own: the test's pool has two, and one must stay free to watch the second wait.
    const [a, b] = [0, 1].map(() => new pg.Client({ connectionString: t.app.config.DATABASE_URL })) as [pg.Client, pg.Client];
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query('BEGIN');
      await a.query(...first);
      await b.query('BEGIN');
      const pid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const outcome = b.query(...second).then(() => 'written', (err: unknown) => pgCode(err) ?? String(err));
      for (;;) {
        const waiting = (await t.db.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [pid])).rowCount;
        if (waiting) break;
        if (await Promise.race([outcome, new Promise((r) => setTimeout(() => r(null), 20))])) throw new Error('the second statement did not wait for the first');
      }
      await a.query('COMMIT');
      const result = await outcome;
      await b.query(result === 'written' ? 'COMMIT' : 'ROLLBACK');
      return result;
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  }

  it('when a person is deleted while an alarm makes them a recipient, whichever commits second fails, and no recipient is left without its person', async () => {
    const school = await incidentWith(3);
    const [, deletedFirst, addedFirst] = school.people as [string, string, string];
    const deletePerson = 'DELETE FROM people WHERE id = $1';

    await expect(race([deletePerson, [deletedFirst]], [addRecipient, [school.incident, deletedFirst, school.organisation]])).resolves.toBe('23503');
    await expect(race([addRecipient, [school.incident, addedFirst, school.organisation]], [deletePerson, [addedFirst]])).resolves.toBe('23503');

    expect((await t.db.query(
      'SELECT r.person_id, p.id IS NOT NULL AS exists FROM incident_recipients r LEFT JOIN people p ON p.id = r.person_id WHERE r.incident_id = $1',
      [school.incident],
    )).rows).toEqual([{ person_id: addedFirst, exists: true }]);
  });
});
