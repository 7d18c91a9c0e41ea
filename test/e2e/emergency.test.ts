import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import {
  PHONE, SMALL_PHONE, holdToRaise, inViewport, launchChromium, phone, recordVibrations, resetVibrations, screenshot, signIn, vibrations, type Viewport,
} from './browser.js';

type Phone = { context: BrowserContext; page: Page };

/**
 * The phone app in a real emergency (issue 11), on the smallest phone in use and a common one: what the
 * person pressed is never out of sight, a lockdown during a fire is one more touch that names both, no
 * "all clear" beside a live alarm, large text keeps the buttons whole and first, a lead's new instruction
 * is in view wherever the person is.
 */
describe('web app in an emergency', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let kim: string;
  const open: Phone[] = [];

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    kim = await t.login('kris@utbildning.example');
  });

  beforeEach(async () => {
    await resolveAll();
  });

  afterEach(async (context) => {
    const failed = context.task.result?.state === 'fail';
    for (const [i, p] of open.entries()) {
      if (failed) await screenshot(p.page, `failed-emergency-${context.task.name.slice(0, 40).replace(/\W+/g, '-')}-${i}`).catch(() => undefined);
      await p.context.close().catch(() => undefined);
    }
    open.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A signed-in phone of this test (closed after it). */
  async function signedIn(email: string, viewport: Viewport = PHONE, options: { vibrations?: boolean; textScale?: number } = {}): Promise<Phone> {
    const p = await phone(browser, base, { viewport, ...(options.textScale ? { textScale: options.textScale } : {}) });
    open.push(p);
    if (options.vibrations) await recordVibrations(p.context);
    await signIn(p.page, base, email);
    return p;
  }

  async function raise(type: 'brand' | 'inrymning' | 'utrymning' | 'hot'): Promise<string> {
    const res = await t.request({ method: 'POST', url: '/api/v1/alarms', token: kim,
      body: { pressId: crypto.randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType[type], confirmContradiction: true } });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    return res.body.incident.id as string;
  }

  async function resolve(id: string): Promise<void> {
    expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token: kim, body: {} })).status).toBe(200);
  }

  async function resolveAll(): Promise<void> {
    for (const { id } of (await t.db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows) await resolve(id);
  }

  async function instruct(id: string, body: string): Promise<void> {
    expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/messages`, token: kim, body: { kind: 'instruction', body } })).status).toBe(200);
  }

  const activeOf = async (personEmail: string): Promise<string[]> => (await t.db.query<{ key: string }>(
    "SELECT type_snapshot->>'key' AS key FROM incidents WHERE state = 'active' AND raised_by = $1 ORDER BY key", [t.ids.person[personEmail]],
  )).rows.map((r) => r.key);

  /** Whether any element matching the locator is visible and entirely in the viewport. */
  async function anyInViewport(locator: Locator): Promise<boolean> {
    for (const one of await locator.all()) if (await one.isVisible() && await inViewport(one)) return true;
    return false;
  }

  for (const [size, viewport] of [['320×568', SMALL_PHONE], ['390×844', PHONE]] as const) {
    describe(`at ${size}`, () => {
      it('after pressing any alarm button offline, the screen shows in view that it is NOT sent and to call 112', async () => {
        const anna = await signedIn('anna@vasaskolan.example', viewport);
        for (const name of [/Inrymning/, /Brand/, /Utrymning/, /Hot/]) {
          await anna.context.setOffline(true);
          await holdToRaise(anna.page, name);
          const state = anna.page.getByRole('alert').filter({ hasText: 'INTE skickat' }).first();
          await state.waitFor();
          expect(await inViewport(state), `${name} press state in view`).toBe(true);
          expect(await inViewport(state.getByRole('link', { name: 'Ring 112 nu.' })), `${name}: call 112 in view`).toBe(true);
          await state.getByRole('button', { name: 'Sluta försöka skicka' }).click();
          await anna.context.setOffline(false);
        }
        expect(await activeOf('anna@vasaskolan.example')).toEqual([]);
      });

      it('a lockdown raised during a fire takes one more touch, on a question in view that names both alarms', async () => {
        const anna = await signedIn('anna@vasaskolan.example', viewport);
        const fire = await raise('brand');
        await anna.page.locator(`main.alarm[data-incident="${fire}"]`).waitFor();
        await anna.page.locator('main.alarm').getByRole('button', { name: 'Stäng' }).click();
        await holdToRaise(anna.page, /Inrymning/);
        const question = anna.page.getByRole('alertdialog');
        await question.waitFor();
        const text = await question.textContent();
        expect(text).toContain('Inrymning (PDV) är INTE skickat');
        expect(text).toContain('Brand');
        const confirm = question.getByRole('button', { name: /Inrymning \(PDV\)/ });
        expect(await inViewport(confirm)).toBe(true);
        await confirm.click();
        await expect.poll(() => activeOf('anna@vasaskolan.example'), { timeout: 20_000 }).toEqual(['inrymning']);
        await screenshot(anna.page, `lockdown-during-fire-${viewport.width}`);
      });

      it('shows no all clear while an alarm of the same site is active; the last all clear says who declared it and when', async () => {
        const bertil = await signedIn('bertil@vasaskolan.example', viewport);
        const fire = await raise('brand');
        await bertil.page.locator(`main.alarm[data-incident="${fire}"]`).waitFor();
        const lockdown = await raise('inrymning');
        const alarm = bertil.page.locator(`main.alarm[data-incident="${lockdown}"]`);
        await alarm.waitFor();
        await resolve(fire);
        await alarm.getByRole('button', { name: 'Stäng' }).click();
        // Once the phone knows the fire is over (it leaves the active alarms), the lockdown still rules: no "all clear".
        const activeList = bertil.page.locator('section[aria-labelledby=active-title]');
        await activeList.getByRole('link', { name: /Inrymning/ }).waitFor();
        await expect.poll(() => activeList.getByRole('link', { name: /Brand/ }).count(), { timeout: 20_000 }).toBe(0);
        expect(await bertil.page.getByText('Faran över').count()).toBe(0);

        await resolve(lockdown);
        await bertil.page.getByText(/Faran över/).first().waitFor();
        await bertil.page.getByText(/Blåst av Kim Krisledare kl\. \d\d:\d\d:\d\d/).first().waitFor();
      });

      it('at 200 % text the alarm buttons grow with the text, every label is whole and the first button is in the first view', async () => {
        const anna = await signedIn('anna@vasaskolan.example', viewport, { textScale: 2 });
        await anna.page.getByRole('button', { name: /Brand/ }).waitFor();
        await anna.page.evaluate(() => window.scrollTo(0, 0));
        const buttons = anna.page.locator('button.hold');
        expect(await buttons.count()).toBe(4);
        for (const button of await buttons.all()) {
          const fit = await button.evaluate((b) => {
            const label = b.querySelector('.hold-label') as HTMLElement;
            const outer = b.getBoundingClientRect();
            const inner = label.getBoundingClientRect();
            return {
              text: label.textContent,
              fontSize: parseFloat(getComputedStyle(label).fontSize),
              inside: inner.left >= outer.left - 1 && inner.right <= outer.right + 1 && inner.top >= outer.top - 1 && inner.bottom <= outer.bottom + 1,
              overflowing: label.scrollWidth > label.clientWidth + 1 || b.scrollWidth > b.clientWidth + 1,
            };
          });
          // The browser's default font size is 32 px: the labels (1.1 rem) are twice their usual 18.7 px.
          expect(fit.fontSize, fit.text ?? '').toBeGreaterThanOrEqual(36);
          expect(fit, fit.text ?? '').toMatchObject({ inside: true, overflowing: false });
        }
        expect(await inViewport(buttons.first())).toBe(true);
        await screenshot(anna.page, `large-text-${viewport.width}`);
      });

      it("a lead's new instruction is in view, on the alarm wherever it is scrolled and on the home page, and felt where the site is not silent", async () => {
        const bertil = await signedIn('bertil@vasaskolan.example', viewport, { vibrations: true });
        const fire = await raise('brand');
        const alarm = bertil.page.locator(`main.alarm[data-incident="${fire}"]`);
        await alarm.waitFor();
        // He has seen it: the fire's own ringing stops, so a vibration now is the instruction's.
        await alarm.getByRole('button', { name: 'Tysta larmljudet' }).click();
        await resetVibrations(bertil.page);

        await instruct(fire, 'Samling vid grinden mot parken');
        await bertil.page.getByText('Samling vid grinden mot parken').first().waitFor();
        expect(await anyInViewport(bertil.page.getByText('Samling vid grinden mot parken'))).toBe(true);
        await expect.poll(() => vibrations(bertil.page)).toBeGreaterThan(0);

        await alarm.evaluate((main) => main.scrollTo(0, main.scrollHeight));
        await instruct(fire, 'Gå inte till idrottshallen');
        await bertil.page.getByText('Gå inte till idrottshallen').first().waitFor();
        expect(await anyInViewport(bertil.page.getByText('Gå inte till idrottshallen'))).toBe(true);

        await alarm.getByRole('button', { name: 'Stäng' }).click();
        await bertil.page.getByRole('button', { name: /Brand/ }).waitFor();
        await bertil.page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
        await instruct(fire, 'Återsamling klar om fem minuter');
        await bertil.page.getByText('Återsamling klar om fem minuter').first().waitFor();
        expect(await anyInViewport(bertil.page.getByText('Återsamling klar om fem minuter'))).toBe(true);
        await screenshot(bertil.page, `new-instruction-${viewport.width}`);
      });
    });
  }
});
