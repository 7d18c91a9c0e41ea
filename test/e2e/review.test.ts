import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { a11yViolations, launchChromium, openMenu, screenshot, signIn, switchLanguage } from './browser.js';

/**
 * The review and statistics pages in Debian's Chromium: a drill with answers, an instruction and all
 * clear, reviewed by the rektor in Swedish and English; axe-core finds nothing serious or critical.
 * The screenshots (test-artifacts/screenshots/review*.png, statistics*.png) are the ones in docs/screenshots/.
 */
// Several pages, axe runs and screenshots per test: generous deadlines for a busy machine.
const SLOW = { timeout: 120_000 };

describe('web app: the review and statistics pages', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let incidentId = '';

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    const as = async (email: string) => t.login(email);
    const rektor = await as('rektor@vasaskolan.example');
    const kris = await as('kris@utbildning.example');
    const call = async (token: string, method: 'POST', url: string, body: unknown) => {
      const res = await t.request({ method, url: `/api/v1${url}`, token, body });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      return res.body;
    };
    const raised = await call(rektor, 'POST', '/alarms', {
      pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.brand, drill: true, location: 'Matsalen',
    });
    incidentId = raised.incident.id;
    await call(await as('anna@vasaskolan.example'), 'POST', `/incidents/${incidentId}/responses`, { status: 'safe' });
    await call(kris, 'POST', `/incidents/${incidentId}/messages`, { kind: 'instruction', body: 'Samling på skolgården.' });
    await call(await as('bertil@vasaskolan.example'), 'POST', `/incidents/${incidentId}/responses`, { status: 'need_help', text: 'Hissen har stannat' });
    await call(kris, 'POST', `/incidents/${incidentId}/resolve`, {});
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1000, height: 1300 }, locale: 'sv-SE', timezoneId: 'Europe/Stockholm' });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    await signIn(page, base, 'rektor@vasaskolan.example');
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
  });

  it('the review shows the drill, its figures, charts and account, saves the record, and passes axe in Swedish and English', SLOW, async () => {
    await openMenu(page);
    await page.getByRole('link', { name: 'Efterarbete och statistik' }).click();
    await page.getByRole('link', { name: /ÖVNING Brand, Vasaskolan/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Efterarbete: ÖVNING Brand' }).waitFor();
    await page.locator('figure svg[role=img]').first().waitFor();
    await page.locator('tr[data-person="Bertil Berg"]', { hasText: 'Behöver hjälp' }).waitFor();
    await page.getByText('Samling på skolgården.').first().waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'review');

    await page.getByLabel('Orsaker').fill('Övningen gick bra; hissen stannade.');
    await page.getByRole('button', { name: 'Spara', exact: true }).click();
    await page.getByText('Version 1, öppen').waitFor();

    await switchLanguage(page, 'en');
    await page.getByRole('heading', { level: 1, name: 'Review: DRILL Fire' }).waitFor();
    await page.getByRole('checkbox', { name: /Show delivery attempts/ }).check();
    await page.getByText('Revision 1, open').waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'review-en');
  });

  it('statistics list the drill with its score and pass axe in English and Swedish', SLOW, async () => {
    await openMenu(page);
    await page.getByRole('link', { name: 'Reviews and statistics' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Reviews and statistics' }).waitFor();
    await page.getByRole('heading', { name: 'Drills' }).waitFor();
    await page.getByRole('row', { name: /Vasaskolan, Fire/ }).filter({ hasText: 'first' }).waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'statistics-en');
    await switchLanguage(page, 'sv');
    await page.getByRole('heading', { level: 1, name: 'Efterarbete och statistik' }).waitFor();
    await page.getByRole('heading', { name: 'Övningar', exact: true }).waitFor();
    expect(await a11yViolations(page)).toEqual([]);
    await screenshot(page, 'statistics');
  });
});
