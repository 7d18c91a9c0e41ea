import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRecipients } from '../src/modules/alarms/recipients.js';
import { startApp, type TestApp } from './helpers/app.js';
import { newSchool } from './helpers/school.js';

/**
 * Who an alarm reaches is resolved in the raise's own transaction, in one statement (src/modules/alarms/recipients.ts).
 * Its work must grow with the number of people whatever PostgreSQL's statistics say: an organisation whose staff
 * were added a moment ago has none yet, and a plan built on "this organisation has one person" paired every person
 * with every other (300 people: 91,501 index probes, ~83 ms of the raise instead of ~8).
 */
describe('resolving an alarm\'s recipients', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('probes each person a bounded number of times, not once per other person, for a school whose staff were added a moment ago', async () => {
    const size = 300;
    const school = await newSchool(t, size);
    const raised = await t.request({ method: 'POST', url: '/api/v1/alarms', token: school.token,
      body: { pressId: randomUUID(), siteId: school.site, alarmTypeId: school.lockdown } });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    const incident = raised.body.incident.id as string;

    // Resolved again in a transaction of the test's own, whose index probes PostgreSQL counts (pg_stat_xact_*), then rolled back.
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('DELETE FROM incident_recipients WHERE incident_id = $1', [incident]);
      const probes = async () => Number((await client.query<{ n: string }>(
        "SELECT coalesce(sum(idx_scan), 0)::text AS n FROM pg_stat_xact_user_tables WHERE relname IN ('people', 'role_assignments', 'alarm_group_members', 'alarm_groups', 'alarm_group_types')",
      )).rows[0]?.n);
      const before = await probes();
      const rows = await insertRecipients(client, { id: incident, organisationId: school.organisation, siteId: school.site, alarmTypeId: school.lockdown },
        { presserId: school.presser });
      const used = await probes() - before;
      expect(rows).toHaveLength(size);
      expect(rows.filter((r) => r.lead)).toHaveLength(1);
      expect(rows.filter((r) => r.presser).map((r) => r.personId)).toEqual([school.presser]);
      // About two per person (their row, their roles); pairing each with each would be size² (90,000).
      expect(used).toBeLessThanOrEqual(4 * size);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
