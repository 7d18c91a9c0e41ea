import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';

/**
 * A connection's first catch-up when the database cannot answer it at once, as in a reconnection storm where
 * thousands of handshakes queue for the pool: the node tries it again, so the device is not left waiting for
 * its own next sync (the app's is 20 s away) with the alarms it missed.
 */
describe('catch-up on connect while the database is busy', () => {
  let t: TestApp;
  let url: string;
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    // Statements that wait are cut short quickly, as a pool's acquisition timeout cuts the queue short in a storm.
    t = await startApp({ DATABASE_STATEMENT_TIMEOUT_MS: '300', DATABASE_QUERY_TIMEOUT_MS: '1000' });
    url = await t.listen();
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
  });

  it('when the first catch-up of a connection fails, the node tries it again and the device gets the alarm it missed without syncing on its own', async () => {
    const anna = await t.loginAs('anna');
    const bertil = await t.loginAs('bertil');
    const first = await TestDevice.connect({ urls: [url], token: bertil, syncEveryMs: 0, answersHints: false });
    devices.push(first);
    await first.waitFor((d) => d.cursor !== null, 5000, 'a first cursor');
    const { cursor, epoch } = first;
    first.close();

    const raised = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: anna,
      body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand },
    });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);

    // The timeline is locked while the device comes back: its first catch-up waits, and is cut off by the statement timeout.
    const locker = await t.db.connect();
    let device: TestDevice | undefined;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE incident_events IN ACCESS EXCLUSIVE MODE');
      device = await TestDevice.connect({ urls: [url], token: bertil, cursor, epoch, syncEveryMs: 0, answersHints: false });
      devices.push(device);
      // Long enough for the first attempt to have failed.
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(device.cursor, 'no catch-up while the timeline is locked').toBe(cursor);
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    await device.waitFor((d) => d.events.some((e) => e.incidentId === raised.body.incident.id && e.type === 'raised'), 10_000, 'the missed alarm, caught up');
    expect(device.cursor).not.toBe(cursor);
    expect(device.syncHints).toBe(0);
  });
});
