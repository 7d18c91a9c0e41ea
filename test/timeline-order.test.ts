import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, type IncidentEvent, type NewEvent } from '../src/modules/alarms/events.js';
import { startApp, type TestApp } from './helpers/app.js';

/**
 * A device's cursor is the id of the last event it has (invariant 3): it must never pass an event that commits
 * later with a lower id, or the device skips it for good. So events are appended under a lock held until the
 * commit, taken before their ids are drawn (src/modules/alarms/events.ts): a change that appends while another
 * one's events are still uncommitted waits for that commit, without having drawn an id, and its ids come after.
 */
describe('the timeline\'s order', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('an event appended while another change\'s events are uncommitted waits for that commit before drawing its id, and comes after them', async () => {
    const raised = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: await t.loginAs('anna'),
      body: { pressId: '7e0c35a2-6a51-4f43-9a43-6f1f4bb4a001', siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand },
    });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    const incident = raised.body.incident as { id: string; organisationId: string; siteId: string };
    const message = (body: string): NewEvent => ({
      incidentId: incident.id, organisationId: incident.organisationId, siteId: incident.siteId, drill: false,
      type: 'message', audience: 'all', actorPersonId: null, data: { body }, at: new Date(),
    });

    const first = await t.db.connect();
    const second = await t.db.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      const [earlier] = await appendEvents(first, [message('first, committed last')]) as [IncidentEvent];
      // Sequences are not transactional: another session sees every id drawn, committed or not.
      const lastDrawn = async () => (await t.app.db.query<{ id: string }>(
        "SELECT last_value::text AS id FROM incident_events_id_seq",
      )).rows[0]?.id;
      const secondPid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      let settled = false;
      const appending = appendEvents(second, [message('second')]).finally(() => {
        settled = true;
      });
      // The second append waits on the ordering lock for as long as the first change is open.
      await expect.poll(async () => (await t.app.db.query(
        "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'", [secondPid],
      )).rowCount, { timeout: 10_000 }).toBe(1);
      expect(settled).toBe(false);
      // It waits before drawing its id: one drawn first could commit ahead of a later one and be skipped.
      expect(await lastDrawn()).toBe(earlier.id);

      await first.query('COMMIT');
      const [later] = await appending as [IncidentEvent];
      await second.query('COMMIT');
      expect(BigInt(later.id)).toBeGreaterThan(BigInt(earlier.id));
    } finally {
      await first.query('ROLLBACK').catch(() => undefined);
      await second.query('ROLLBACK').catch(() => undefined);
      first.release();
      second.release();
    }
  });
});
