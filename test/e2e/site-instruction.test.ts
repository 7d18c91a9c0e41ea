import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { SMALL_PHONE, a11yViolations, cspViolations, inViewport, launchChromium, phone, recordVibrations, resetVibrations, signIn, vibrations } from './browser.js';

/**
 * Issue 13 item 1 in the browser (ADR 027): someone who works at Vasaskolan but is in no group that
 * receives the lockdown sees "Instruktion på din arbetsplats" at once, on a small phone at 200 % text,
 * without the alarm screen and without a sound or vibration; it goes at the all clear. An organisation
 * admin's list of active alarms fills live.
 */
describe('web app: the instruction at your workplace', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let bertil: Page;
  let admin: Page;
  let kris: string;

  const raise = async (type: 'inrymning' | 'hot'): Promise<string> => {
    const res = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: kris,
      body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType[type] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id as string;
  };
  const resolve = async (id: string) => {
    expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token: kris, body: {} })).status).toBe(200);
  };

  beforeAll(async () => {
    if (!existsSync('web/dist/sw.js')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    await t.db.query('DELETE FROM alarm_group_members WHERE person_id = $1', [t.personId('bertil')]);
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    kris = await t.loginAs('kris');
    browser = await launchChromium();
    const small = await phone(browser, base, { viewport: SMALL_PHONE, textScale: 2 });
    await recordVibrations(small.context);
    bertil = small.page;
    await signIn(bertil, base, 'bertil@vasaskolan.example');
    ({ page: admin } = await phone(browser, base));
    await signIn(admin, base, 'admin@utbildning.example');
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the lockdown as the instruction at Bertil\'s workplace, silently and not as the alarm, on a small phone at 200 % text, until the all clear', async () => {
    await resetVibrations(bertil);
    const lockdown = await raise('inrymning');
    const card = bertil.locator('section.site-instruction');
    await card.waitFor();
    await expect.poll(() => card.locator('h2').textContent()).toContain('Instruktion på din arbetsplats · Vasaskolan');
    expect(await card.textContent()).toContain('Lås eller barrikadera dörren');
    expect(await inViewport(card.locator('h2'))).toBe(true);
    const box = await card.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(SMALL_PHONE.width + 1);
    // Not the alarm: no alarm screen, no ringing, no vibration during a lockdown.
    expect(new URL(bertil.url()).pathname).toBe('/');
    expect(await vibrations(bertil)).toBe(0);
    expect(await a11yViolations(bertil)).toEqual([]);
    expect(cspViolations(bertil)).toEqual([]);

    await resolve(lockdown);
    await card.waitFor({ state: 'detached' });
    expect(await vibrations(bertil)).toBe(0);
  });

  it('fills an organisation admin\'s list of active alarms live', async () => {
    const threat = await raise('hot');
    const entry = admin.locator(`a[href="/incidents/${threat}/rollcall"]`);
    await entry.waitFor();
    expect(await entry.textContent()).toContain('Vasaskolan');
    await resolve(threat);
    await entry.waitFor({ state: 'detached' });
  });
});
