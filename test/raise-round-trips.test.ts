import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteInstruction } from '../src/modules/alarms/instruction.js';
import { startApp, type TestApp } from './helpers/app.js';
import { newSchool } from './helpers/school.js';

/**
 * The presser waits for the raise's transaction (invariant 1), and each of its statements is a round trip to
 * PostgreSQL: on the same machine a few tenths of a millisecond under load, over a network to a database host
 * a millisecond or more. Their number is the raise's floor, so it is held to a budget here: a statement added
 * to the raise must take one away elsewhere, or raise the budget knowingly (docs/PERFORMANCE.md).
 */
const RAISE_ROUND_TRIPS = 17;

/** The statements each of the app's connections sends, in order, for as long as `recording` is on. */
function recordStatements(pool: pg.Pool): { recording: boolean; byClient: Map<pg.PoolClient, string[]> } {
  const record = { recording: false, byClient: new Map<pg.PoolClient, string[]>() };
  const wrapped = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    Object.assign(client, {
      query: (...args: unknown[]) => {
        if (record.recording) {
          const [first] = args;
          const text = typeof first === 'string' ? first : String((first as { text?: unknown }).text);
          record.byClient.set(client, [...record.byClient.get(client) ?? [], text.replace(/\s+/g, ' ').trim()]);
        }
        return query(...args);
      },
    });
  });
  return record;
}

describe('the raise\'s round trips to PostgreSQL', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it(`raising an alarm at a school without links, with nothing else in force, takes at most ${RAISE_ROUND_TRIPS} statements, from BEGIN to COMMIT`, async () => {
    const school = await newSchool(t, 30);
    const record = recordStatements(t.app.db);
    const raise = () => t.request({
      method: 'POST', url: '/api/v1/alarms', token: school.token, body: { pressId: randomUUID(), siteId: school.site, alarmTypeId: school.lockdown },
    });
    // A first raise on this connection pool, so that whatever a node does once (none expected) is behind it.
    const first = await raise();
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    await t.db.query("UPDATE incidents SET state = 'resolved', ended_at = now() WHERE id = $1", [first.body.incident.id]);

    record.recording = true;
    const raised = await raise();
    record.recording = false;
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    // What the raise answered without reading it is what the site's instruction reads as.
    expect(raised.body.instruction).toEqual(await siteInstruction(t.db, school.site));

    const transactions = [...record.byClient.values()].map((statements) => {
      const begin = statements.indexOf('BEGIN');
      return begin < 0 ? [] : statements.slice(begin, statements.indexOf('COMMIT', begin) + 1);
    });
    const theRaise = transactions.find((statements) => statements.some((s) => s.startsWith('INSERT INTO incident_recipients')));
    expect(theRaise, 'the raise\'s transaction was recorded').toBeDefined();
    expect(theRaise?.at(-1)).toBe('COMMIT');
    expect(theRaise?.length, (theRaise ?? []).map((s) => s.slice(0, 80)).join('\n')).toBeLessThanOrEqual(RAISE_ROUND_TRIPS);
  });
});
