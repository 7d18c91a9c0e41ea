import type { Browser, Page } from 'playwright-core';
import { holdToRaise, phone, signIn } from './browser.js';

/** Called at each page of the tour: the accessibility test checks and photographs it, the screenshot script photographs it. */
export type Stop = (page: Page, name: string) => Promise<void>;

/**
 * A walk through every kind of page at phone size: sign-in, a staff member's home, an alarm (a
 * drill raised by the rektor) on the staff phone, the rektor's roll call, and the admin pages.
 */
export async function tour(browser: Browser, base: string, stop: Stop, options: { deviceScaleFactor?: number } = {}): Promise<void> {
  const rektor = await phone(browser, base, options);
  const staff = await phone(browser, base, options);
  try {
    await rektor.page.goto(`${base}/login`);
    await rektor.page.locator('#email').waitFor();
    await stop(rektor.page, 'sign-in');
    await signIn(rektor.page, base, 'rektor@vasaskolan.example');
    await signIn(staff.page, base, 'anna@vasaskolan.example');
    await staff.page.getByRole('button', { name: /Brand/ }).waitFor();
    await stop(staff.page, 'home');

    await rektor.page.getByLabel(/Övning/).check();
    await holdToRaise(rektor.page, /Brand/);
    await staff.page.locator('main.alarm[data-state=active].drill').waitFor();
    await staff.page.getByRole('button', { name: 'Jag är i säkerhet' }).click();
    await staff.page.getByText('Ditt svar: Jag är i säkerhet').waitFor();
    await stop(staff.page, 'alarm');

    await rektor.page.getByRole('link', { name: 'Närvaro och svar' }).click();
    await rektor.page.locator('tr[data-person="Anna Andersson"]', { hasText: 'I säkerhet' }).waitFor();
    await stop(rektor.page, 'rollcall');
    await rektor.page.getByRole('button', { name: 'Blåsa faran över' }).click();
    await rektor.page.getByRole('alertdialog').getByRole('button', { name: 'Blåsa faran över' }).click();
    await staff.page.locator('main.alarm[data-state=resolved]').waitFor();
    await stop(staff.page, 'all-clear');

    await rektor.page.getByRole('link', { name: 'Administration' }).click();
    await rektor.page.getByRole('link', { name: 'All personal' }).click();
    await rektor.page.getByRole('checkbox', { name: 'Bertil Berg' }).waitFor();
    await stop(rektor.page, 'group-admin');
    await rektor.page.getByRole('link', { name: 'Tillbaka' }).click();
    await rektor.page.getByRole('link', { name: 'Enheter som inte kan ta emot larm' }).click();
    await rektor.page.locator('main .card, main .ok').first().waitFor();
    await stop(rektor.page, 'device-health');
    await staff.page.getByRole('button', { name: 'Stäng' }).click();
    await staff.page.getByRole('link', { name: 'Enhetskontroll' }).click();
    await staff.page.locator('dl.checks').waitFor();
    await stop(staff.page, 'device-check');
  } finally {
    await rektor.context.close();
    await staff.context.close();
  }
}
