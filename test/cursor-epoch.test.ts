import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';
import { simulateRestore } from './helpers/restore.js';

/**
 * Cursors across a restore from backup (ADR 029): the restored database reuses the event ids that
 * came after the backup, and devices hold some of them as cursors.
 */
describe('a database restored from a backup', () => {
  let t: TestApp;
  let url: string;
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    t = await startApp();
    url = await t.listen();
  }, 120_000);

  afterAll(async () => {
    for (const d of devices) d.close();
    await t?.close();
  });

  const latest = async () =>
    BigInt((await t.db.query<{ id: string }>("SELECT coalesce(max(id), 0)::text AS id FROM incident_events WHERE audience <> 'review'")).rows[0]?.id ?? '0');
  const raise = async (token: string) => {
    const res = await t.request({
      method: 'POST', url: '/api/v1/alarms', token, body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id as string;
  };

  it('makes a device holding a cursor from after the backup resync, so it gets the alarm whose ids it held instead of skipping it', async () => {
    const [anna, bertil, kris] = [await t.loginAs('anna'), await t.loginAs('bertil'), await t.loginAs('kris')];
    const device = await TestDevice.connect({ urls: [url], token: bertil, syncEveryMs: 0 });
    devices.push(device);
    await device.waitFor((d) => d.cursor !== null, 5000, 'initial catch-up');
    const epochBefore = device.epoch;
    expect(epochBefore).toMatch(/^[0-9a-f-]{36}$/);

    // An alarm before the backup, which is taken here. Afterwards another comes and goes, and the device's cursor
    // moves past the backup.
    const before = await raise(anna);
    expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${before}/resolve`, token: kris, body: {} })).status).toBe(200);
    const backup = BigInt((await t.db.query<{ id: string }>('SELECT max(id)::text AS id FROM incident_events')).rows[0]?.id ?? '0');
    const lost = await raise(anna);
    const ended = await t.request({ method: 'POST', url: `/api/v1/incidents/${lost}/resolve`, token: kris, body: {} });
    expect(ended.status).toBe(200);
    await device.sync();
    const held = BigInt(device.cursor ?? '0');
    expect(held).toBeGreaterThan(backup + 1n);
    device.goOffline();
    // A restore replaces the database while nothing writes to it: the receipts the device sent are written first.
    await t.settleDevices();

    // The restore, simulated: the events after the backup are gone, the sequence is back where it was, and the
    // restore procedure (npm run db:new-epoch) starts a new epoch.
    const epochAfter = await simulateRestore(t.db, backup);
    expect(epochAfter).not.toBe(epochBefore);
    expect(await latest()).toBe(backup);

    // A new alarm reuses the ids the device holds, and the timeline passes its cursor.
    const fresh = await raise(anna);
    const freshRaised = (await t.db.query<{ id: string }>("SELECT id::text FROM incident_events WHERE incident_id = $1 AND type = 'raised'", [fresh])).rows[0];
    expect(BigInt(freshRaised?.id ?? '0')).toBeLessThanOrEqual(held);
    let status = 0;
    while ((await latest()) <= held) {
      const answer = await t.request({
        method: 'POST', url: `/api/v1/incidents/${fresh}/responses`, token: anna, body: { status: ['safe', 'need_help'][status++ % 2] },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }

    await device.comeBack();
    await device.waitFor((d) => d.epoch === epochAfter, 5000, 'the catch-up of the new epoch');
    const answer = device.resyncs.at(-1);
    expect(answer?.reason).toBe('other_epoch');
    expect(answer?.incidents?.map((s) => s.incident.id)).toEqual([fresh]);
    expect(BigInt(device.cursor ?? '0')).toBeGreaterThan(held);

    // From its new cursor in the new epoch the device catches up as usual: the all clear arrives.
    const resolved = await t.request({ method: 'POST', url: `/api/v1/incidents/${fresh}/resolve`, token: kris, body: {} });
    expect(resolved.status).toBe(200);
    await device.sync();
    expect(device.of('resolved', fresh)).toHaveLength(1);
  });

  it('answers a cursor sent without its epoch (an app from before epochs) with a resync that names the epoch', async () => {
    const device = await TestDevice.connect({ urls: [url], token: await t.loginAs('cecilia'), cursor: '1', syncEveryMs: 0 });
    devices.push(device);
    await device.waitFor((d) => d.epoch !== null, 5000, 'the first catch-up');
    expect(device.resyncs.map((r) => r.reason)).toEqual(['other_epoch']);
    await device.sync();
    expect(device.resyncs).toHaveLength(1);
  });
});
