import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchUp } from '../src/modules/alarms/catch-up.js';
import { timelinePosition } from '../src/modules/alarms/events.js';
import { openSession, principalForToken } from '../src/modules/auth/sessions.js';
import { startApp, type TestApp } from './helpers/app.js';
import { newSchool } from './helpers/school.js';

/**
 * A device catches up at every handshake and every 20 s (src/modules/alarms/catch-up.ts): in a reconnection storm,
 * thousands at once, and in an alarm's first seconds, while its receipts are written. Its work must follow what
 * the person may see, not what the incident holds: the leads' events of an alarm are its receipts, one per
 * recipient, and a colleague who is not a lead needs their own of them only.
 */
describe("a device's catch-up", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it("reads the events its person may see, not every colleague's receipt, after an alarm to 300 that all confirmed", async () => {
    const size = 300;
    const school = await newSchool(t, size);
    const before = await timelinePosition(t.db);
    const raised = await t.request({ method: 'POST', url: '/api/v1/alarms', token: school.token,
      body: { pressId: randomUUID(), siteId: school.site, alarmTypeId: school.lockdown } });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    const incident = raised.body.incident.id as string;
    // Everyone's device confirms it, as the app does.
    await Promise.all(school.people.map(async (personId, i) => {
      const { token } = await openSession(t.db, t.app.config, personId, { kind: 'device', ip: '127.0.0.1' });
      const principal = await principalForToken(t.db, t.app.config, token);
      if (!principal) throw new Error('no principal');
      await t.app.alarms.recordReceipt(principal, incident, { kind: 'delivered', deviceId: `device-${i}`, channel: 'socket' });
    }));

    const colleague = school.people[2] as string;
    // Caught up in a transaction of the test's own, whose reads of the timeline PostgreSQL counts (pg_stat_xact_*).
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      const timelineRowsRead = () => rowsRead(client, 'incident_events');
      const readBefore = await timelineRowsRead();
      const mine = await catchUp(client, colleague, { cursor: before.id, epoch: before.epoch });
      const read = await timelineRowsRead() - readBefore;
      const asLead = await catchUp(client, school.lead, { cursor: before.id, epoch: before.epoch });

      if (mine.kind !== 'events' || asLead.kind !== 'events') throw new Error('expected events');
      expect(mine.events.map((e) => e.type)).toContain('raised');
      expect(mine.events.every((e) => e.audience === 'all' || e.actorPersonId === colleague)).toBe(true);
      expect(mine.events.filter((e) => e.type === 'delivered').map((e) => e.actorPersonId)).toEqual([colleague]);
      expect(mine.events.map((e) => e.id)).toEqual([...mine.events.map((e) => e.id)].sort((a, b) => Number(a) - Number(b)));
      expect(asLead.events.filter((e) => e.type === 'delivered')).toHaveLength(size);
      // Its own events and the ones for everyone, each read once, and the timeline's latest position: a handful,
      // not one per colleague who confirmed (300 and more).
      expect(read).toBeLessThanOrEqual(mine.events.length + 10);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it("reads none of the person's incidents when the device is already at the latest position, as at every idle sync", async () => {
    const school = await newSchool(t, 3);
    const raised = await t.request({ method: 'POST', url: '/api/v1/alarms', token: school.token,
      body: { pressId: randomUUID(), siteId: school.site, alarmTypeId: school.lockdown } });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    const latest = await timelinePosition(t.db);
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      const before = await scans(client, 'incident_recipients');
      const answer = await catchUp(client, school.people[2] as string, { cursor: latest.id, epoch: latest.epoch });
      expect(answer).toMatchObject({ kind: 'events', cursor: latest.id, events: [] });
      expect(await scans(client, 'incident_recipients') - before).toBe(0);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

/** What this transaction has done to `table` so far, as PostgreSQL counts it (pg_stat_xact_*). */
async function counted(client: PoolClient, table: string, what: 'rows read' | 'scans'): Promise<number> {
  const sum = what === 'rows read' ? 'coalesce(idx_tup_fetch, 0) + seq_tup_read' : 'coalesce(idx_scan, 0) + seq_scan';
  return Number((await client.query<{ n: string }>(`SELECT (${sum})::text AS n FROM pg_stat_xact_user_tables WHERE relname = $1`, [table])).rows[0]?.n);
}
const rowsRead = (client: PoolClient, table: string) => counted(client, table, 'rows read');
const scans = (client: PoolClient, table: string) => counted(client, table, 'scans');
