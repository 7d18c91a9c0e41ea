import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seedDemoLinks } from '../../src/seed/demo.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { holdToRaise, launchChromium, openMenu, phone, screenshot, seriousA11yViolations, signIn } from './browser.js';

/**
 * Links between organisations in the web app, in Debian's Chromium, with the demo link of Vasagatan 12:
 * the raise screen says who else an alarm reaches; the library's phone shows Vasaskolan's fire as an
 * alarm from Vasaskolan, drills as drills; Vasaskolan's lead sees the library only as counts; the
 * library's lead decides on a fire held during its lockdown; the admins propose, accept and suspend links.
 */
describe('web app: links between organisations', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const phones = {} as Record<'anna' | 'kim' | 'lisa' | 'bo', { context: BrowserContext; page: Page }>;
  const accounts = { anna: 'anna@vasaskolan.example', kim: 'kris@utbildning.example', lisa: 'lisa@biblioteket.example', bo: 'chef@biblioteket.example' } as const;

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    await seedDemoLinks(t.db);
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    await Promise.all(Object.entries(accounts).map(async ([who, email]) => {
      const p = await phone(browser, base);
      phones[who as keyof typeof accounts] = p;
      await signIn(p.page, base, email);
    }));
  });

  beforeEach(async () => {
    // Sources first: their linked incidents end with them.
    for (const { id, organisation_id: org } of (await t.db.query<{ id: string; organisation_id: string }>(
      "SELECT id, organisation_id FROM incidents WHERE state = 'active' ORDER BY linked_from IS NOT NULL, raised_at",
    )).rows) {
      const lead = await t.loginAs(org === t.ids.org.utbildning ? 'kris' : 'bo');
      await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token: lead, body: { note: 'Testet städar' } });
    }
    // Each phone starts from its home page, connected and caught up (nothing left to arrive and move the page).
    for (const p of Object.values(phones)) {
      await p.page.goto(`${base}/`);
      await p.page.locator('.conn.connected').first().waitFor();
    }
  });

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [who, p] of Object.entries(phones)) await screenshot(p.page, `links-failed-${who}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("Anna's fire reaches Lisa's phone as an alarm from Vasaskolan; Lisa's answer reaches Kim only as a count; the all clear ends both", async () => {
    const { anna, kim, lisa } = phones;
    await anna.page.getByText(/Brand, Utrymning når också Kulturförvaltningen \(Vasastadens bibliotek\)/).waitFor();
    await holdToRaise(anna.page, /^Brand/);

    await lisa.page.locator('main.alarm[data-state=active]').waitFor();
    await lisa.page.getByText('Larm från Vasaskolan, Utbildningsförvaltningen').waitFor();
    await lisa.page.getByRole('heading', { level: 1, name: /Brand/ }).waitFor();
    expect(await lisa.page.getByText(/Larmat av/).count()).toBe(0);
    await screenshot(lisa.page, 'linked-alarm');
    await lisa.page.getByRole('button', { name: 'Jag är i säkerhet' }).click();
    await lisa.page.getByText('Ditt svar: Jag är i säkerhet').first().waitFor();

    await kim.page.locator('main.alarm[data-state=active]').waitFor();
    await kim.page.getByRole('link', { name: 'Närvaro och svar' }).click();
    const library = kim.page.locator('[data-linked-organisation="Kulturförvaltningen"]');
    await library.filter({ hasText: '1 i säkerhet' }).waitFor({ timeout: 15_000 });
    expect(await library.textContent()).toContain('pågår');
    expect(await kim.page.getByText('Lisa Bibliotekarie').count()).toBe(0);
    await screenshot(kim.page, 'linked-rollcall');

    await kim.page.getByRole('button', { name: 'Blåsa faran över' }).click();
    await kim.page.getByRole('alertdialog').getByRole('button', { name: 'Blåsa faran över' }).click();
    await lisa.page.locator('main.alarm[data-state=resolved]').waitFor();
  });

  it('a drill crosses as a drill and is marked on the receiving phone', async () => {
    const { kim, lisa } = phones;
    // A busy-machine CI run saw this click lost right after the page loaded ("did not change its state"; the
    // page showed nothing that moved): it is made again until the choice holds. The lost tap is a known open weakness.
    await vi.waitFor(() => kim.page.getByRole('radio', { name: 'Övning' }).check({ timeout: 3000 }), { timeout: 30_000, interval: 200 });
    await holdToRaise(kim.page, /^ÖVNING.*Brand/);
    await lisa.page.locator('main.alarm.drill[data-state=active]').waitFor();
    await lisa.page.locator('.drill-banner', { hasText: 'ÖVNING' }).waitFor();
    await lisa.page.getByText('Larm från Vasaskolan, Utbildningsförvaltningen').waitFor();
  });

  it("during the library's lockdown a linked fire does not ring: Bo is asked and raises it there", async () => {
    const { anna, bo, lisa } = phones;
    await holdToRaise(bo.page, /Inrymning/);
    await bo.page.locator('main.alarm[data-state=active]', { has: bo.page.getByRole('heading', { level: 1, name: /Inrymning/ }) }).waitFor();
    await lisa.page.locator('main.alarm[data-state=active]').waitFor();
    await holdToRaise(anna.page, /^Brand/);
    // Bo stays on his lockdown's screen: the ask comes to it.
    const ask = bo.page.getByRole('alertdialog', { name: /Larm från Utbildningsförvaltningen väntar på ditt beslut/ });
    await ask.waitFor({ timeout: 15_000 });
    // Lisa's screen still shows only the lockdown.
    expect(await lisa.page.getByText('Larm från Vasaskolan').count()).toBe(0);
    await screenshot(bo.page, 'linked-held');
    await ask.getByRole('button', { name: 'Larma ut det här' }).click();
    await lisa.page.getByText('Larm från Vasaskolan, Utbildningsförvaltningen').waitFor({ timeout: 15_000 });
  });

  it('the admins see the link on both sides, suspend and resume it, and propose and accept a new one with their own groups', async () => {
    const olle = await phone(browser, base);
    const klara = await phone(browser, base);
    try {
      await signIn(olle.page, base, 'admin@utbildning.example');
      await signIn(klara.page, base, 'admin@kultur.example');
      await openMenu(klara.page);
      await klara.page.getByRole('link', { name: 'Samverkan' }).click();
      const card = klara.page.locator('article.link', { hasText: 'Samverkan med Utbildningsförvaltningen' });
      await card.getByText('Gäller', { exact: true }).waitFor();
      await card.getByText('Tar emot vid Vasastadens bibliotek: Bibliotekets personal').waitFor();
      expect(await seriousA11yViolations(klara.page)).toEqual([]);
      await card.getByRole('button', { name: 'Pausa' }).click();
      await card.getByText('Pausat av Kulturförvaltningen').waitFor();
      await card.getByRole('button', { name: 'Återuppta' }).click();
      await card.getByText('Gäller', { exact: true }).waitFor();

      await olle.page.goto(`${base}/admin/links/new`);
      await olle.page.locator('#partner').selectOption({ label: 'Kulturförvaltningen' });
      await olle.page.locator('#own-0').selectOption({ label: 'Solrosens förskola' });
      await olle.page.locator('#their-0').selectOption({ label: 'Vasastadens bibliotek (Vasagatan 12, Stockholm)' });
      await olle.page.getByRole('group', { name: 'Larm från oss som går över' }).getByLabel('Hot').check();
      expect(await seriousA11yViolations(olle.page)).toEqual([]);
      await olle.page.getByRole('button', { name: 'Skicka förslaget' }).click();
      await olle.page.locator('article.link', { hasText: 'Föreslaget av er' }).waitFor();

      await klara.page.reload();
      const proposal = klara.page.locator('article.link', { hasText: 'Föreslaget till er' });
      await proposal.getByRole('button', { name: 'Godkänn' }).click();
      await proposal.getByLabel('Bibliotekets personal').check();
      await proposal.locator('form').getByRole('button', { name: 'Godkänn' }).click();
      await klara.page.locator('article.link', { hasText: 'Solrosens förskola' }).getByText('Gäller', { exact: true }).waitFor();
      const links = (await t.db.query<{ status: string }>("SELECT status::text FROM links WHERE status = 'active'")).rows;
      expect(links).toHaveLength(2);
    } finally {
      await olle.context.close();
      await klara.context.close();
    }
  });
});
