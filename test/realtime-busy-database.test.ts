import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';

/**
 * What a connection is sent first when the database cannot answer at once, as in a reconnection storm where
 * thousands of handshakes queue for the pool: the node tries again, so the device is not left waiting for its
 * own next sync (the app's is 20 s away) without the alarms it missed or its site's instruction.
 */
describe('a connection\'s first catch-up and site instructions while the database is busy', () => {
  let t: TestApp;
  let url: string;
  let bertil: string;
  let incidentId: string;
  /** Bertil's position before the alarm was raised. */
  let before: { cursor: string | null; epoch: string | null };
  const devices: TestDevice[] = [];

  /** A device of Bertil's that only listens, connecting while `table` is locked; it is held for a while, then released. */
  const connectWhileLocked = async (table: string, check: (device: TestDevice) => void): Promise<TestDevice> => {
    const locker: pg.PoolClient = await t.db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      const device = await TestDevice.connect({ urls: [url], token: bertil, ...before, syncEveryMs: 0, answersHints: false });
      devices.push(device);
      // Long enough for the first attempt to have waited for the lock and been cut off by the statement timeout.
      await new Promise((resolve) => setTimeout(resolve, 800));
      check(device);
      return device;
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
  };

  beforeAll(async () => {
    // Statements that wait are cut short quickly, as a pool's acquisition timeout cuts the queue short in a storm.
    t = await startApp({ DATABASE_STATEMENT_TIMEOUT_MS: '300', DATABASE_QUERY_TIMEOUT_MS: '1000' });
    url = await t.listen();
    bertil = await t.loginAs('bertil');
    const first = await TestDevice.connect({ urls: [url], token: bertil, syncEveryMs: 0, answersHints: false });
    await first.waitFor((d) => d.cursor !== null, 5000, 'a first cursor');
    before = { cursor: first.cursor, epoch: first.epoch };
    first.close();
    const raised = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: await t.loginAs('anna'),
      body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand },
    });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    incidentId = raised.body.incident.id as string;
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
  });

  it('when the first catch-up of a connection fails, the node tries it again and the device gets the alarm it missed without syncing on its own', async () => {
    const device = await connectWhileLocked('incident_events', (d) => expect(d.cursor, 'no catch-up while the timeline is locked').toBe(before.cursor));
    await device.waitFor((d) => d.events.some((e) => e.incidentId === incidentId && e.type === 'raised'), 10_000, 'the missed alarm, caught up');
    expect(device.cursor).not.toBe(before.cursor);
    expect(device.syncHints).toBe(0);
  });

  it('when the site instructions sent on connect fail, the node sends them again and the device learns what to do at its site', async () => {
    const device = await connectWhileLocked('person_sites', (d) => expect(d.siteInstructions, 'no site instruction while the sites are locked').toEqual([]));
    await device.waitFor((d) => d.siteInstructions.some((n) => n.siteId === t.ids.site.vasaskolan), 10_000, 'Vasaskolan\'s instruction');
    expect(device.syncHints).toBe(0);
  });
});

/**
 * Devices' own database work (handshakes, catch-ups, sites' instructions) holds at most half of a node's pool
 * (ADR 036): in a reconnection storm thousands of them queue at once, and an alarm raised then must not wait
 * behind them.
 */
describe('an alarm raised while devices\' work fills the database', () => {
  let t: TestApp;
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    t = await startApp({ DATABASE_POOL_MAX: '4' });
  });

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
  });

  it('is committed and answered while the devices\' catch-ups are stuck, and the devices catch up afterwards', async () => {
    const url = await t.listen();
    const bertil = await t.loginAs('bertil');
    const anna = await t.loginAs('anna');
    // The devices were here before the alarm (they hold a cursor from then): each one's catch-up must carry it,
    // whenever its handshake gets its turn. Without a cursor, a catch-up is a resync of the state, not the event.
    const first = await TestDevice.connect({ urls: [url], token: bertil, syncEveryMs: 0, answersHints: false });
    await first.waitFor((d) => d.cursor !== null, 5000, 'a first cursor');
    const before = { cursor: first.cursor, epoch: first.epoch };
    first.close();
    // The catch-up every connecting device is sent waits for this lock (the timeline's epoch, which a raise does not
    // read), each holding a connection.
    const locker: pg.PoolClient = await t.db.connect();
    let raised: Awaited<ReturnType<TestApp['request']>>;
    let connecting: Promise<TestDevice>[] = [];
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE timeline_epoch IN ACCESS EXCLUSIVE MODE');
      // Six devices come at once, as in a storm; their handshakes queue behind the stuck queries, and that is fine.
      connecting = Array.from({ length: 6 }, () => TestDevice.connect({ urls: [url], token: bertil, ...before, syncEveryMs: 0, answersHints: false }));
      // Until the devices' queries wait for the lock: with no share of its own, every connection of the pool would.
      await waitForLockWaiters(t.db, 2);
      // One more comes now: its handshake waits behind the stuck catch-ups, so it is in no room when the alarm goes out
      // live, and only its catch-up can bring it (the flaky failure of a device that came late without a cursor).
      connecting.push(TestDevice.connect({ urls: [url], token: bertil, ...before, syncEveryMs: 0, answersHints: false }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      raised = await t.request({
        method: 'POST', url: '/api/v1/alarms', token: anna,
        body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand },
      });
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    devices.push(...await Promise.all(connecting));
    const incidentId = raised.body.incident.id as string;
    for (const device of devices) {
      await device.waitFor((d) => d.cursor !== before.cursor && d.events.some((e) => e.incidentId === incidentId && e.type === 'raised'), 15_000, 'a catch-up with the alarm');
    }
  });
});

/** Waits until at least `count` backends wait for a lock (pg_locks), within 10 s. */
async function waitForLockWaiters(db: pg.Pool, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted');
    if ((rows[0]?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} backends waited for a lock within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
