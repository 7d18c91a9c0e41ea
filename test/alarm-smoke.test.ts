import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { TestDevice } from './helpers/device.js';

describe('alarm path on one node', () => {
  let t: TestApp;
  let url: string;
  const devices: TestDevice[] = [];
  beforeAll(async () => {
    t = await startApp();
    url = await t.listen();
  });
  afterAll(async () => {
    for (const d of devices) d.close();
    await t.close();
  });

  it('a lockdown raised by one teacher reaches a colleague\'s device with the instruction, and the receipt reaches the roll call', async () => {
    const [anna, bertil, kim] = await Promise.all(['anna@vasaskolan.example', 'bertil@vasaskolan.example', 'kris@utbildning.example'].map((e) => t.login(e)));
    const bertilPhone = await TestDevice.connect({ urls: [url], token: bertil as string });
    devices.push(bertilPhone);
    const res = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: anna,
      body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.inrymning, location: 'Sal 204' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.outcome).toBe('raised');
    expect(res.body.instruction.typeKey).toBe('inrymning');
    const incidentId = res.body.incident.id;
    await bertilPhone.waitFor((d) => d.of('raised', incidentId).length === 1, 5000, 'alarm arrives');
    const raised = bertilPhone.of('raised', incidentId)[0];
    expect(raised?.data.instruction).toMatchObject({ typeKey: 'inrymning', sound: 'silent' });

    await expect.poll(async () => (await t.request({ method: 'GET', url: `/api/v1/incidents/${incidentId}/rollcall`, token: kim })).body.summary?.delivered, { timeout: 5000 }).toBe(1);
  });
});
