import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';

/**
 * An alarm's recipients refer to incidents and people; the outbox's deliveries to incidents, people and push
 * payloads. Migrations 016 and 017 check those references once per statement, with the locks a foreign key takes,
 * instead of once per row (ADRs 031 and 032). These tests hold the triggers to everything the keys guaranteed, a
 * delete racing an insert included, and to what the recipients' keys did not check: that the organisation is the
 * incident's own.
 */
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

const deletePerson = 'DELETE FROM people WHERE id = $1';

describe('what an alarm\'s recipients refer to', () => {
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
    await t.db.query(deletePerson, [free]);
    await t.db.query('UPDATE incident_recipients SET delivered_at = now() WHERE incident_id = $1', [school.incident]);
    expect((await t.db.query('SELECT person_id FROM incident_recipients WHERE incident_id = $1', [school.incident])).rows)
      .toEqual([{ person_id: recipient }]);
  });

  it('when a person is deleted while an alarm makes them a recipient, whichever commits second fails, and no recipient is left without its person', async () => {
    const school = await incidentWith(3);
    const [, deletedFirst, addedFirst] = school.people as [string, string, string];

    await expect(race([deletePerson, [deletedFirst]], [addRecipient, [school.incident, deletedFirst, school.organisation]])).resolves.toBe('23503');
    await expect(race([addRecipient, [school.incident, addedFirst, school.organisation]], [deletePerson, [addedFirst]])).resolves.toBe('23503');

    expect((await t.db.query(
      'SELECT r.person_id, p.id IS NOT NULL AS exists FROM incident_recipients r LEFT JOIN people p ON p.id = r.person_id WHERE r.incident_id = $1',
      [school.incident],
    )).rows).toEqual([{ person_id: addedFirst, exists: true }]);
  });
});

describe('what the outbox\'s deliveries refer to', () => {
  /** An alarm's payload, written once and referred to by its pushes (migration 017). */
  const payloadOf = async (incident: string) =>
    ((await t.db.query<{ id: string }>("INSERT INTO push_payloads (incident_id, language, payload) VALUES ($1, 'sv', '{}') RETURNING id", [incident])).rows[0] as { id: string }).id;
  const queueSql = `INSERT INTO deliveries (incident_id, person_id, payload_id, channel, kind, origin, ttl_seconds, due_at, expires_at)
    SELECT $1, unnest($2::uuid[]), $3, 'push', 'alarm', 'https://push.example', 60, now(), now() + interval '1 minute'`;
  const queue = (incident: string, people: string[], payload: string) => refused(queueSql, [incident, people, payload]);
  const testPush = (person: string) => refused(
    `INSERT INTO deliveries (person_id, payload, channel, kind, origin, ttl_seconds, due_at, expires_at)
     VALUES ($1, '{}', 'push', 'test', 'https://push.example', 60, now(), now() + interval '1 minute')`, [person]);
  const deliveriesOf = async (people: string[]) =>
    (await t.db.query<{ incident_id: string | null; person_id: string }>(
      'SELECT incident_id, person_id FROM deliveries WHERE person_id = ANY($1::uuid[]) ORDER BY id', [people],
    )).rows;

  it('refuses a delivery to nobody, about no incident or with no payload, writes none of the statement\'s rows, and takes a test push with its own payload', async () => {
    const school = await incidentWith(3);
    const [lead, teacher] = school.people as [string, string];
    const payload = await payloadOf(school.incident);
    await expect(queue(school.incident, [randomUUID()], payload)).resolves.toBe('23503');
    await expect(queue(randomUUID(), [teacher], payload)).resolves.toBe('23503');
    await expect(queue(school.incident, [teacher], '999999999')).resolves.toBe('23503');
    // One bad row among good ones: the statement writes nothing.
    await expect(queue(school.incident, [...school.people, randomUUID()], payload)).resolves.toBe('23503');
    // Exactly one of a payload of its own and one referred to.
    await expect(refused(queueSql.replace('payload_id, ', '').replace('$3, ', ''), [school.incident, [teacher]])).resolves.toBe('23514');
    await expect(refused(queueSql.replace('payload_id,', 'payload_id, payload,').replace('$3,', "$3, '{}',"), [school.incident, [teacher], payload])).resolves.toBe('23514');
    expect(await deliveriesOf(school.people)).toEqual([]);

    await expect(queue(school.incident, [lead, teacher, teacher], payload)).resolves.toBe('written');
    await expect(testPush(teacher)).resolves.toBe('written');
    expect(await deliveriesOf(school.people)).toEqual([
      { incident_id: school.incident, person_id: lead },
      { incident_id: school.incident, person_id: teacher },
      { incident_id: school.incident, person_id: teacher },
      { incident_id: null, person_id: teacher },
    ]);
  });

  it('refuses deleting or re-identifying an incident or a payload that deliveries refer to, or changing what a delivery is about, and a deleted person takes their deliveries along', async () => {
    const school = await incidentWith(3);
    const other = await incidentWith(1);
    const [, leaving, staying] = school.people as [string, string, string];
    const payload = await payloadOf(school.incident);
    const otherPayload = await payloadOf(school.incident);
    await queue(school.incident, [leaving, staying], payload);

    for (const [sql, params] of [
      ['DELETE FROM incidents WHERE id = $1', [school.incident]],
      ['DELETE FROM push_payloads WHERE id = $1', [payload]],
      ['UPDATE push_payloads SET id = $2 WHERE id = $1', [payload, '999999999']],
      ['TRUNCATE push_payloads CASCADE', []],
      ['UPDATE deliveries SET incident_id = $2 WHERE incident_id = $1', [school.incident, other.incident]],
      ['UPDATE deliveries SET incident_id = NULL WHERE incident_id = $1', [school.incident]],
      ['UPDATE deliveries SET person_id = $2 WHERE person_id = $1', [leaving, staying]],
      ['UPDATE deliveries SET payload_id = $2 WHERE payload_id = $1', [payload, otherPayload]],
    ] as const) {
      await expect(refused(sql, [...params]), sql).resolves.toBe('23503');
    }

    // What nothing refers to goes; a delivery's state still changes.
    await t.db.query('DELETE FROM push_payloads WHERE id = $1', [otherPayload]);
    await t.db.query(deletePerson, [leaving]);
    await t.db.query("UPDATE deliveries SET state = 'sent' WHERE person_id = $1", [staying]);
    expect(await deliveriesOf([leaving, staying])).toEqual([{ incident_id: school.incident, person_id: staying }]);
    // Without its deliveries, the payload and then the incident can go.
    await t.db.query('DELETE FROM deliveries WHERE incident_id = $1', [school.incident]);
    await expect(refused('DELETE FROM push_payloads WHERE incident_id = $1', [school.incident])).resolves.toBe('written');
    await expect(refused('DELETE FROM incidents WHERE id = $1', [school.incident])).resolves.toBe('written');
  });

  it('when a person is deleted while a push to them is queued, a delete first refuses the push, and a push first goes with the person', async () => {
    const school = await incidentWith(3);
    const [, deletedFirst, queuedFirst] = school.people as [string, string, string];
    const payload = await payloadOf(school.incident);

    await expect(race([deletePerson, [deletedFirst]], [queueSql, [school.incident, [deletedFirst], payload]])).resolves.toBe('23503');
    await expect(race([queueSql, [school.incident, [queuedFirst], payload]], [deletePerson, [queuedFirst]])).resolves.toBe('written');

    expect(await deliveriesOf(school.people)).toEqual([]);
  });

  it('when an incident or a payload is deleted while a push about it is queued, whichever commits second fails', async () => {
    const deleteIncident = 'DELETE FROM incidents WHERE id = $1';
    const deletePayload = 'DELETE FROM push_payloads WHERE id = $1';
    const outcomes: string[] = [];
    const kept: string[] = [];
    for (const target of ['incident', 'payload'] as const) {
      for (const first of ['delete', 'queue'] as const) {
        // An incident to delete has no payload (a payload refers to its incident); a payload to delete belongs to an incident that stays.
        const school = await incidentWith(1);
        const person = school.people[0] as string;
        const payload = await payloadOf((await incidentWith(1)).incident);
        const del: [string, unknown[]] = target === 'incident' ? [deleteIncident, [school.incident]] : [deletePayload, [payload]];
        const ins: [string, unknown[]] = [queueSql, [school.incident, [person], payload]];
        outcomes.push(await race(...(first === 'delete' ? [del, ins] as const : [ins, del] as const)));
        if (first === 'queue') kept.push(person);
      }
    }
    expect(outcomes).toEqual(['23503', '23503', '23503', '23503']);
    // The pushes queued first are there, with what they refer to.
    expect((await t.db.query(
      `SELECT count(*)::int AS n FROM deliveries d JOIN incidents i ON i.id = d.incident_id JOIN push_payloads pl ON pl.id = d.payload_id
        WHERE d.person_id = ANY($1::uuid[])`, [kept],
    )).rows).toEqual([{ n: 2 }]);
  });
});
