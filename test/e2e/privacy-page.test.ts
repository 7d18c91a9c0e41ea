import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { a11yViolations, launchChromium, openMenu, phone, signIn, switchLanguage } from './browser.js';

/** "My data" in Debian's Chromium: the person's own data, readable in Swedish and English, and the whole export as a file. */
describe('web app: my data', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows Anna what Samlarm holds about her, offers it all as a JSON file, and passes axe-core', async () => {
    const { context, page } = await phone(browser, base);
    try {
      await signIn(page, base, 'anna@vasaskolan.example');
      await openMenu(page);
      await page.getByRole('link', { name: 'Mina uppgifter' }).click();
      await page.getByRole('heading', { name: 'Det här vet Samlarm om dig' }).waitFor();
      await page.getByText('anna@vasaskolan.example').waitFor();
      await expect(page.getByRole('heading', { name: /Enheter och inloggningar \(1\)/ }).count()).resolves.toBe(1);
      await expect(page.getByText('All personal (Vasaskolan)').count()).resolves.toBe(1);
      expect(await a11yViolations(page)).toEqual([]);

      const download = page.waitForEvent('download');
      await page.getByRole('link', { name: 'Ladda ner allt som fil (JSON)' }).click();
      const file = await (await download).path();
      const data = JSON.parse(readFileSync(file, 'utf8'));
      expect(data).toMatchObject({ format: 'samlarm.personal-data.v1', person: { id: t.ids.person['anna@vasaskolan.example'], name: 'Anna Andersson' } });

      await switchLanguage(page, 'en');
      await page.getByRole('heading', { name: 'What Samlarm holds about you' }).waitFor();
      // Reading the page is an export of her data, and is audited as one.
      const audited = await t.db.query("SELECT 1 FROM audit_log WHERE action = 'person.personal_data_exported' AND entity_id = $1", [t.ids.person['anna@vasaskolan.example']]);
      expect(audited.rowCount).toBeGreaterThanOrEqual(1);
    } finally {
      await context.close();
    }
  });
});
