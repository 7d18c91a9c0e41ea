import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { cspViolations, launchChromium, screenshot, seriousA11yViolations, type AxeViolation } from './browser.js';
import { tour } from './tour.js';

/** WCAG 2.1 AA as axe-core checks it, on every kind of page; the screenshots are the run's artifacts. */
describe('web app: accessibility', () => {
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

  it('has no serious or critical axe-core violations, and no Content-Security-Policy violation, on sign-in, home, alarm, roll call and admin pages', async () => {
    const found: Record<string, AxeViolation[]> = {};
    const blocked: Record<string, string[]> = {};
    const visited: string[] = [];
    await tour(browser, base, async (page, name) => {
      visited.push(name);
      await screenshot(page, name);
      const violations = await seriousA11yViolations(page);
      if (violations.length) found[name] = violations;
      if (cspViolations(page).length) blocked[name] = [...cspViolations(page)];
    });
    expect(visited).toEqual(expect.arrayContaining(['sign-in', 'home', 'alarm', 'rollcall', 'group-admin']));
    expect(found).toEqual({});
    expect(blocked).toEqual({});
  });
});
