import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { HOLD_MS, appearsAt, holdToRaise, launchChromium, phone, screenshot, signIn } from './browser.js';

/**
 * The web app end to end, in Debian's Chromium at phone size against the real app and Postgres:
 * a lockdown raised by hold-to-confirm reaches colleagues' screens, answers reach the crisis lead's
 * roll call by name, all clear reaches everyone; a phone that was offline catches up without reload.
 */
describe('web app: an alarm from one phone to the others and back', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const phones: Record<'anna' | 'bertil' | 'cecilia' | 'kim', { context: BrowserContext; page: Page }> = {} as never;

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    const accounts = { anna: 'anna@vasaskolan.example', bertil: 'bertil@vasaskolan.example', cecilia: 'cecilia@vasaskolan.example', kim: 'kris@utbildning.example' } as const;
    await Promise.all(Object.entries(accounts).map(async ([who, email]) => {
      const p = await phone(browser, base);
      phones[who as keyof typeof accounts] = p;
      await signIn(p.page, base, email);
    }));
  });

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [who, p] of Object.entries(phones)) await screenshot(p.page, `failed-${who}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('staff A raises a lockdown by holding the button; B and C see the full-screen alarm within a second; answers reach the lead by name; all clear reaches every screen', async () => {
    const { anna, bertil, cecilia, kim } = phones;
    // Cecilia reads the app in English, her language preference.
    await cecilia.page.getByRole('heading', { name: 'Raise an alarm' }).first().waitFor();

    // A short press is not an alarm.
    await holdToRaise(anna.page, /Inrymning/, 400);
    await anna.page.waitForTimeout(300);
    expect((await t.db.query('SELECT count(*)::int AS n FROM incidents')).rows[0].n).toBe(0);

    const shown = Promise.all([bertil, cecilia].map(({ page }) => appearsAt(page, 'main.alarm[data-state=active]')));
    const pressed = await holdToRaise(anna.page, /Inrymning/);
    // From the moment the hold completes (press + HOLD_MS) to the full-screen alarm on the other phones.
    const latencies = (await shown).map((at) => at - (pressed + HOLD_MS));
    for (const ms of latencies) expect(ms).toBeLessThan(1000);

    await bertil.page.getByRole('heading', { level: 1, name: /Inrymning \(PDV\)/ }).waitFor();
    await cecilia.page.getByRole('heading', { level: 1, name: /Lockdown \(active violence\)/ }).waitFor();
    // Lockdown is silent: there is nothing to silence, only to acknowledge.
    await bertil.page.getByRole('button', { name: 'Jag har sett larmet' }).first().waitFor();
    expect(await bertil.page.getByRole('button', { name: /Tysta/ }).count()).toBe(0);
    await anna.page.locator('main.alarm[data-state=active]', { hasText: 'Larmet är skickat och sparat. Det gick till' }).waitFor();
    await screenshot(bertil.page, 'alarm-staff');

    await bertil.page.getByRole('button', { name: 'Jag är i säkerhet' }).click();
    await cecilia.page.getByRole('button', { name: 'I need help' }).click();
    await bertil.page.getByText('Ditt svar: Jag är i säkerhet').first().waitFor();

    await kim.page.locator('main.alarm[data-state=active]').waitFor();
    await kim.page.getByRole('link', { name: 'Närvaro och svar' }).click();
    await kim.page.locator('tr[data-person="Bertil Berg"]', { hasText: 'I säkerhet' }).waitFor();
    await kim.page.locator('tr[data-person="Cecilia Carlsson"]', { hasText: 'Behöver hjälp' }).waitFor();
    await screenshot(kim.page, 'rollcall');

    await kim.page.getByRole('button', { name: 'Blåsa faran över' }).click();
    await kim.page.getByRole('alertdialog').getByRole('button', { name: 'Blåsa faran över' }).click();

    await kim.page.getByText('Faran över').first().first().waitFor();
    await bertil.page.locator('main.alarm[data-state=resolved]', { hasText: 'Faran över' }).waitFor();
    await cecilia.page.locator('main.alarm[data-state=resolved]', { hasText: 'All clear' }).waitFor();
    await anna.page.getByText('Faran över').first().first().waitFor();
    await screenshot(bertil.page, 'all-clear');
  });

  it('a phone that was offline during an alarm shows the current state when it is back, without a reload', async () => {
    const { anna, bertil, kim } = phones;
    for (const p of [anna, bertil, kim]) {
      await p.page.goto(`${base}/`);
      await p.page.locator('.conn.connected').waitFor();
    }
    await bertil.page.evaluate(() => Object.assign(window, { samlarmMarker: 'no reload' }));
    await bertil.context.setOffline(true);
    await bertil.page.locator('.conn.offline').first().waitFor();

    await holdToRaise(kim.page, /Hot/);
    // The presser sees the alarm with the press stored.
    await kim.page.locator('main.alarm[data-state=active]', { hasText: 'Larmet är skickat och sparat' }).waitFor();
    await kim.page.getByRole('link', { name: 'Närvaro och svar' }).click();
    await kim.page.locator('#message').fill('Samling i aulan kl. 10');
    await kim.page.getByRole('button', { name: 'Skicka' }).click();
    await anna.page.getByText('Samling i aulan kl. 10').waitFor();

    await bertil.context.setOffline(false);
    await bertil.page.locator('main.alarm[data-state=active]', { hasText: 'Hot' }).waitFor();
    await bertil.page.getByText('Samling i aulan kl. 10').first().waitFor();
    expect(await bertil.page.evaluate(() => (window as unknown as { samlarmMarker?: string }).samlarmMarker)).toBe('no reload');
  });
});
