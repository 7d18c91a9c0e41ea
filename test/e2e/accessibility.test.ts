import { existsSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { PHONE, SMALL_PHONE, a11yViolations, cspViolations, launchChromium, screenshot, switchLanguage, type AxeViolation } from './browser.js';
import { tour, type TourOptions } from './tour.js';

const PAGES = ['sign-in', 'setup', 'home', 'home-drill', 'alarm', 'rollcall', 'all-clear', 'group-admin', 'device-health', 'press-not-sent', 'device-check'];

/**
 * WCAG 2.1 AA as axe-core checks it, on every kind of page, in Swedish and English, on a small and a
 * common phone, at the browser's usual and at 200 % text: no finding of any impact. The screenshots are
 * the run's artifacts.
 */
describe('web app: accessibility', { timeout: 240_000 }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
  });

  // Each tour starts with no alarm active (one left by an earlier tour would take over its sign-in).
  beforeEach(async () => {
    const kim = await t.login('kris@utbildning.example');
    for (const { id } of (await t.db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows) {
      expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token: kim, body: {} })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const sizes: [string, TourOptions][] = [
    ['390×844', { viewport: PHONE }],
    ['320×568', { viewport: SMALL_PHONE }],
    ['390×844 at 200 % text', { viewport: PHONE, textScale: 2 }],
    ['320×568 at 200 % text', { viewport: SMALL_PHONE, textScale: 2 }],
  ];
  for (const [size, options] of sizes) {
    it(`has no axe-core findings of any impact and no Content-Security-Policy violation on any page, in Swedish and English, at ${size}`, async () => {
      const found: Record<string, AxeViolation[]> = {};
      const blocked: Record<string, string[]> = {};
      const visited: string[] = [];
      const suffix = size.replace(/\W+/g, '-');
      await tour(browser, base, async (page, name) => {
        visited.push(name);
        await screenshot(page, `${name}-${suffix}`);
        for (const lang of ['sv', 'en'] as const) {
          await switchLanguage(page, lang);
          const violations = await a11yViolations(page);
          if (violations.length) found[`${name} (${lang})`] = violations;
        }
        await switchLanguage(page, 'sv');
        if (cspViolations(page).length) blocked[name] = [...cspViolations(page)];
      }, options);
      expect(visited).toEqual(PAGES);
      expect(found).toEqual({});
      // The app runs under its Content-Security-Policy: nothing it needs is refused.
      expect(blocked).toEqual({});
    });
  }
});
