import type { Browser, Page } from 'playwright-core';
import { holdToRaise, openMenu, phone, signIn, type Viewport } from './browser.js';

/** Called at each page of the tour: the accessibility test checks and photographs it, the screenshot script photographs it. */
export type Stop = (page: Page, name: string) => Promise<void>;

export interface TourOptions { deviceScaleFactor?: number; viewport?: Viewport; textScale?: number }

/**
 * A walk through every kind of page at phone size: sign-in, set-up, a staff member's home, the lead's home
 * in drill mode, an alarm (a drill raised by the rektor) on the staff phone, the rektor's roll call, the
 * all clear, the admin pages, a press that could not be sent, and the device check.
 */
export async function tour(browser: Browser, base: string, stop: Stop, options: TourOptions = {}): Promise<void> {
  const rektor = await phone(browser, base, options);
  const staff = await phone(browser, base, options);
  try {
    await rektor.page.goto(`${base}/login`);
    await rektor.page.locator('#email').waitFor();
    await stop(rektor.page, 'sign-in');
    await signIn(rektor.page, base, 'rektor@vasaskolan.example', { skipSetup: false });
    await rektor.page.getByRole('button', { name: 'Hoppa över just nu' }).waitFor();
    await stop(rektor.page, 'setup');
    await rektor.page.getByRole('button', { name: 'Hoppa över just nu' }).click();
    await rektor.page.locator('.conn.connected').waitFor();
    await signIn(staff.page, base, 'anna@vasaskolan.example');
    await staff.page.getByRole('button', { name: /Brand/ }).waitFor();
    await stop(staff.page, 'home');

    await rektor.page.getByRole('radio', { name: 'Övning' }).check();
    await rektor.page.locator('button.hold.drill').first().waitFor();
    await stop(rektor.page, 'home-drill');
    await holdToRaise(rektor.page, /Brand/);
    await staff.page.locator('main.alarm[data-state=active].drill').waitFor();
    await staff.page.getByRole('button', { name: 'Jag behöver hjälp' }).click();
    await staff.page.getByText('Ditt svar: Jag behöver hjälp').waitFor();
    await staff.page.getByLabel('Var är du?').fill('Sal 204');
    await stop(staff.page, 'alarm');

    await rektor.page.getByRole('link', { name: 'Närvaro och svar' }).click();
    await rektor.page.locator('tr[data-person="Anna Andersson"]', { hasText: 'Behöver hjälp' }).waitFor();
    await stop(rektor.page, 'rollcall');
    await rektor.page.getByRole('button', { name: 'Blåsa faran över' }).click();
    await rektor.page.getByRole('alertdialog').getByRole('button', { name: 'Blåsa faran över' }).click();
    await staff.page.locator('main.alarm[data-state=resolved]').waitFor();
    await stop(staff.page, 'all-clear');

    await openMenu(rektor.page);
    await rektor.page.getByRole('link', { name: 'Administration' }).click();
    await rektor.page.getByRole('link', { name: 'All personal' }).click();
    await rektor.page.getByRole('checkbox', { name: 'Bertil Berg' }).waitFor();
    await stop(rektor.page, 'group-admin');
    await rektor.page.getByRole('link', { name: 'Tillbaka' }).click();
    await rektor.page.getByRole('link', { name: 'Enheter som inte kan ta emot larm' }).click();
    await rektor.page.locator('main .card, main .ok').first().waitFor();
    await stop(rektor.page, 'device-health');

    await staff.page.locator('main.alarm').getByRole('button', { name: 'Stäng' }).click();
    await staff.page.getByRole('button', { name: /Hot/ }).waitFor();
    await staff.context.setOffline(true);
    await holdToRaise(staff.page, /Hot/);
    await staff.page.getByRole('alert').filter({ hasText: 'INTE skickat' }).first().waitFor();
    await stop(staff.page, 'press-not-sent');
    await staff.page.getByRole('button', { name: 'Sluta försöka skicka' }).click();
    await staff.context.setOffline(false);
    await staff.page.locator('.conn.connected').waitFor();
    await openMenu(staff.page);
    await staff.page.getByRole('link', { name: 'Enhetskontroll' }).click();
    await staff.page.locator('dl.checks').waitFor();
    await stop(staff.page, 'device-check');
  } finally {
    await rektor.context.close();
    await staff.context.close();
  }
}
