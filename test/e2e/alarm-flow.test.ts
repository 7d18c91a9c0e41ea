import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { HOLD_MS, appearsAt, holdToRaise, launchChromium, phone, recordVibrations, resetVibrations, screenshot, signIn, vibrations } from './browser.js';

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
    // The delivery worker runs the escalation steps (the last test shortens the fire alarm's policy).
    t = await startApp({ DELIVERY_WORKER: 'true' });
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    const accounts = { anna: 'anna@vasaskolan.example', bertil: 'bertil@vasaskolan.example', cecilia: 'cecilia@vasaskolan.example', kim: 'kris@utbildning.example' } as const;
    // One after the other: four sign-ins at once on a busy two-core machine can outlast a step's deadline.
    for (const [who, email] of Object.entries(accounts)) {
      const p = await phone(browser, base);
      await recordVibrations(p.context);
      phones[who as keyof typeof accounts] = p;
      await signIn(p.page, base, email);
    }
  });

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [who, p] of Object.entries(phones)) await screenshot(p.page, `failed-${who}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('staff A raises a lockdown by holding the button; B and C see the full-screen alarm once the hold completes; answers reach the lead by name; all clear reaches every screen', async () => {
    const { anna, bertil, cecilia, kim } = phones;
    // Cecilia reads the app in English, her language preference.
    await cecilia.page.getByRole('heading', { name: 'Raise an alarm' }).first().waitFor();

    // A short press is not an alarm.
    await holdToRaise(anna.page, /Inrymning/, 400);
    await anna.page.waitForTimeout(300);
    expect((await t.db.query('SELECT count(*)::int AS n FROM incidents')).rows[0].n).toBe(0);

    const shown = Promise.all([bertil, cecilia].map(({ page }) => appearsAt(page, 'main.alarm[data-state=active]')));
    const pressed = await holdToRaise(anna.page, /Inrymning/);
    // Both phones get it, and neither before the hold was complete (speed is for the benchmarks: bench/).
    const appeared = await shown;
    expect(appeared).toHaveLength(2);
    for (const at of appeared) expect(at).toBeGreaterThanOrEqual(pressed + HOLD_MS);

    await bertil.page.getByRole('heading', { level: 1, name: /Inrymning \(PDV\)/ }).waitFor();
    await cecilia.page.getByRole('heading', { level: 1, name: /Lockdown \(active violence\)/ }).waitFor();
    // Lockdown is silent: there is nothing to silence, only to acknowledge.
    await bertil.page.getByRole('button', { name: 'Jag har sett larmet' }).first().waitFor();
    expect(await bertil.page.getByRole('button', { name: /Tysta/ }).count()).toBe(0);
    await anna.page.locator('main.alarm[data-state=active]').waitFor();
    await anna.page.locator('.dock', { hasText: /Inrymning \(PDV\) är skickat och sparat kl\. .*Det gick till/ }).waitFor();
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
    await kim.page.locator('main.alarm[data-state=active]').waitFor();
    await kim.page.locator('.dock', { hasText: 'Hot är skickat och sparat' }).waitFor();
    await kim.page.getByRole('link', { name: 'Närvaro och svar' }).click();
    await kim.page.locator('#message').fill('Samling i aulan kl. 10');
    await kim.page.getByRole('button', { name: 'Skicka' }).click();
    await anna.page.getByText('Samling i aulan kl. 10').first().waitFor();

    await bertil.context.setOffline(false);
    await bertil.page.locator('main.alarm[data-state=active]', { hasText: 'Hot' }).waitFor();
    await bertil.page.getByText('Samling i aulan kl. 10').first().waitFor();
    expect(await bertil.page.evaluate(() => (window as unknown as { samlarmMarker?: string }).samlarmMarker)).toBe('no reload');
  });

  /** Ends every active incident through the API, as Kim. */
  async function resolveAll(token: string): Promise<void> {
    const active = (await t.db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows;
    for (const { id } of active) expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token, body: {} })).status).toBe(200);
  }

  it('a loud alarm raised while a lockdown is in force at the site never rings or vibrates', async () => {
    const { bertil } = phones;
    const kim = await t.login('kris@utbildning.example');
    await resolveAll(kim);
    await bertil.page.locator('main.alarm[data-state=resolved]').waitFor();
    await resetVibrations(bertil.page);

    const raise = (alarmTypeId: string, extra: object = {}) => t.request({ method: 'POST', url: '/api/v1/alarms', token: kim,
      body: { pressId: crypto.randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId, ...extra } });
    expect((await raise(t.ids.alarmType.inrymning)).status).toBe(201);
    await bertil.page.locator('main.alarm[data-state=active]', { hasText: 'Inrymning' }).waitFor();
    const fire = await raise(t.ids.alarmType.brand, { confirmContradiction: true });
    expect(fire.status).toBe(201);
    await bertil.page.waitForURL(`**/alarm/${fire.body.incident.id}`);
    // Fire is loud, but the lockdown is the site's instruction: nothing to silence, only to acknowledge.
    await bertil.page.getByRole('button', { name: 'Jag har sett larmet' }).waitFor();
    expect(await bertil.page.getByRole('button', { name: /Tysta/ }).count()).toBe(0);
    await bertil.page.locator('section.current', { hasText: 'Inrymning' }).waitFor();
    await bertil.page.waitForTimeout(1200);
    expect(await vibrations(bertil.page)).toBe(0);
    await resolveAll(kim);
  });

  it('a press that meets a database outage retries with the same press id and says call 112; switch access raises without holding; the lead sees the escalation', async () => {
    const { anna, bertil, kim } = phones;
    await bertil.page.locator('main.alarm[data-state=resolved]').waitFor();
    await resetVibrations(bertil.page);
    // The shortest policy the API allows, frozen into the incident when it is raised.
    await t.db.query("UPDATE alarm_types SET repush_after_seconds = 5, max_repushes = 1, contacts_after_seconds = 5 WHERE organisation_id IS NULL AND key = 'brand'");

    await anna.page.goto(`${base}/`);
    await anna.page.locator('.conn.connected').waitFor();
    const pressIds: string[] = [];
    // The outage lasts until the screen has said so: on a busy machine a retry could otherwise succeed
    // before the test looks.
    let outage = true;
    await anna.page.route('**/api/v1/alarms', async (route) => {
      pressIds.push((route.request().postDataJSON() as { pressId: string }).pressId);
      if (outage) {
        await route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ code: 'database_unavailable', message: 'Database unavailable' }) });
      } else {
        await route.continue();
      }
    });
    // A switch or a screen reader activates the button with a bare click: it asks once more instead of holding.
    await anna.page.getByRole('button', { name: /Brand/ }).dispatchEvent('click');
    const ask = anna.page.getByRole('alertdialog', { name: 'Larma Brand?' });
    await expect.poll(() => ask.getByRole('button', { name: 'Larma nu' }).evaluate((b) => b === document.activeElement)).toBe(true);
    // On a busy machine the page may still be laying out what the catch-up brought as the click lands (a CI run saw
    // the question still open 20 s after its click): the question is answered again while it is still on screen.
    await vi.waitFor(async () => {
      if (await ask.isVisible()) await ask.getByRole('button', { name: 'Larma nu' }).click({ timeout: 3000 });
      await anna.page.getByRole('alert').filter({ hasText: 'Brand är INTE skickat' }).getByRole('link', { name: 'Ring 112 nu.' }).waitFor({ timeout: 3000 });
    }, { timeout: 40_000, interval: 100 });
    outage = false;
    await anna.page.locator('main.alarm[data-state=active]').waitFor();
    await anna.page.locator('.dock', { hasText: 'Brand är skickat och sparat' }).waitFor();
    // At least one refused attempt and the one that went through, all with the same press id.
    expect(pressIds.length).toBeGreaterThanOrEqual(2);
    expect(new Set(pressIds).size).toBe(1);
    expect((await t.db.query("SELECT count(*)::int AS n FROM incidents WHERE state = 'active'")).rows[0].n).toBe(1);
    await anna.page.unrouteAll({ behavior: 'wait' });

    // A loud alarm with no lockdown in force does ring (the silence check above is not vacuous).
    await bertil.page.locator('main.alarm[data-state=active]', { hasText: 'Brand' }).waitFor();
    expect(await vibrations(bertil.page)).toBeGreaterThan(0);

    await kim.page.locator('main.alarm[data-state=active]', { hasText: 'Brand' }).waitFor();
    await kim.page.getByRole('link', { name: 'Närvaro och svar' }).click();
    // Rebecka Rektor has no phone signed in: unreached, reminded after 5 s, then reported to the contacts.
    const escalation = kim.page.locator('section.escalations');
    await escalation.getByText(/Påminnelse skickad till 1 person som inte nåtts \(omgång 1\)/).waitFor({ timeout: 30_000 });
    const escalated = escalation.getByText(/^Eskalerat till kontaktpersoner: .*\. Ej nådda: Rebecka Rektor\.$/);
    await escalated.waitFor();
    expect((await escalated.textContent())?.split('. Ej nådda')[0]?.split(': ')[1]?.split(', ').sort()).toEqual(['Rebecka Rektor', 'Vaktmästare Vasaskolan']);
    // Her row says why: no device can get a push, so someone must call her.
    await kim.page.locator('tr[data-person="Rebecka Rektor"]', { hasText: 'ingen enhet med push – ring personen' }).waitFor();
    await screenshot(kim.page, 'rollcall-escalation');
    await kim.page.getByRole('link', { name: 'Tillbaka' }).click();
    await kim.page.locator('.escalation-brief', { hasText: 'Eskalerat till kontaktpersoner' }).waitFor();
  }, 120_000);

  it('a session ended elsewhere takes the phone to sign-in, saying that alarms no longer reach it', async () => {
    const { cecilia } = phones;
    const token = await cecilia.page.evaluate(() => localStorage.getItem('samlarm.token'));
    expect((await t.request({ method: 'POST', url: '/api/v1/auth/logout', token: token ?? '' })).status).toBeLessThan(300);
    await cecilia.page.getByRole('alert').filter({ hasText: 'Alarms do not reach this device until you sign in again' }).waitFor();
    expect(new URL(cecilia.page.url()).pathname).toBe('/login');
  });
});
