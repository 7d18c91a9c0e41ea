import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { a11yViolations, holdToRaise, launchChromium, openMenu, phone, screenshot, signIn, switchLanguage, type AxeViolation } from './browser.js';

/**
 * The rektor's and the organisation admin's pages in Chromium: a rektor adds a staff member, makes
 * them crisis lead at the school and a member of a group, writes the school's assembly point and its
 * own fire instruction, and hands over an invitation link; the new person signs in with it and
 * receives the next alarm with the school's own words. Then every new page, in Swedish and English,
 * at zero axe-core findings.
 */
describe('web app: running a school', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const found: Record<string, AxeViolation[]> = {};
  const checked: string[] = [];

  /** In-app navigation (no reload: a reload would bring back the person's own language). */
  const go = (page: Page, path: string) => page.evaluate((p) => {
    history.pushState(null, '', p);
    window.dispatchEvent(new PopStateEvent('popstate'));
  }, path);

  /** axe on the page as it is, in Swedish and then in English; a screenshot of each. */
  async function check(page: Page, name: string, ready: () => Promise<unknown>): Promise<void> {
    for (const lang of ['sv', 'en'] as const) {
      await switchLanguage(page, lang);
      await ready();
      await screenshot(page, `admin-${name}-${lang}`);
      const violations = await a11yViolations(page);
      if (violations.length) found[`${name} (${lang})`] = violations;
      checked.push(`${name}-${lang}`);
    }
    await switchLanguage(page, 'sv');
  }

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  const open = async () => {
    const device = await phone(browser, base);
    contexts.push(device.context);
    return device.page;
  };

  it('a rektor adds staff, gives a role and a group, the new person signs in with the invitation link and receives the next alarm with the school\'s own words', async () => {
    const rektor = await open();
    await signIn(rektor, base, 'rektor@vasaskolan.example');
    await openMenu(rektor);
    await rektor.getByRole('link', { name: 'Administration', exact: true }).click();
    await rektor.getByRole('heading', { name: 'Administration: Vasaskolan' }).waitFor();
    await check(rektor, 'hub', () => rektor.getByRole('link', { name: /All personal|Krisgrupp/ }).first().waitFor());

    // Add Nina, crisis lead at Vasaskolan.
    await rektor.getByRole('link', { name: 'Personal', exact: true }).click();
    await rektor.locator('tr[data-person="bertil@vasaskolan.example"]').waitFor();
    await check(rektor, 'people', () => rektor.locator('tr[data-person="bertil@vasaskolan.example"]').waitFor());
    await rektor.getByLabel('Sök på namn, e-post eller telefon').fill('berg');
    await rektor.locator('tbody tr').first().waitFor();
    await expect.poll(() => rektor.locator('tbody tr').count()).toBe(1);
    await rektor.getByRole('link', { name: 'Lägg till person' }).click();
    await check(rektor, 'person-new', () => rektor.locator('#p-name').waitFor());
    await rektor.locator('#p-name').fill('Nina Nyström');
    await rektor.locator('#p-email').fill('nina@vasaskolan.example');
    await rektor.locator('#p-phone').fill('+46701112233');
    await rektor.getByRole('checkbox', { name: 'Vasaskolan', exact: true }).check();
    await rektor.getByRole('checkbox', { name: 'Krisledare på Vasaskolan' }).check();
    await rektor.getByRole('button', { name: 'Skapa' }).click();
    await rektor.getByText('Nina Nyström är tillagd').waitFor();
    await rektor.getByRole('button', { name: 'Skapa inbjudningslänk' }).click();
    const linkField = rektor.locator('#p-link');
    await linkField.waitFor();
    const invitation = await linkField.inputValue();
    expect(invitation).toMatch(new RegExp(`^${base}/welcome#token=al_`));
    await check(rektor, 'person-link', () => rektor.locator('#p-link').waitFor());

    // Into the group All personal, found by searching.
    await openMenu(rektor);
    await rektor.getByRole('link', { name: 'Administration', exact: true }).click();
    await rektor.getByRole('link', { name: 'All personal' }).click();
    await rektor.locator('#m-search').fill('Nina');
    await rektor.getByRole('checkbox', { name: 'Nina Nyström' }).check();
    // An unsaved edit in another section survives saving the members.
    await rektor.locator('#g-desc').fill('Alla på skolan');
    await rektor.locator('form', { has: rektor.locator('#m-search') }).getByRole('button', { name: 'Spara' }).click();
    await rektor.getByText('Sparat: Medlemmar.').waitFor();
    expect(await rektor.locator('#g-desc').inputValue()).toBe('Alla på skolan');
    await check(rektor, 'group', () => rektor.getByRole('checkbox', { name: 'Nina Nyström' }).waitFor());

    // The school's assembly point and its own fire instruction.
    await rektor.getByRole('link', { name: 'Tillbaka' }).click();
    await rektor.getByRole('link', { name: 'Uppgifter om verksamheten' }).click();
    await rektor.locator('#site-assemblyPoint').fill('Fotbollsplanen bakom skolan');
    await rektor.locator('form', { has: rektor.locator('#site-assemblyPoint') }).getByRole('button', { name: 'Spara' }).click();
    await rektor.getByText('Sparat: Uppgifter om verksamheten.').waitFor();
    const brand = t.ids.alarmType.brand;
    await rektor.locator(`#i-sv-${brand}`).fill('Samla klassen vid fotbollsplanen och räkna eleverna.');
    await rektor.locator(`#i-en-${brand}`).fill('Gather your class at the football pitch and count the pupils.');
    await rektor.locator('form', { has: rektor.locator(`#i-sv-${brand}`) }).getByRole('button', { name: 'Spara' }).click();
    await rektor.getByText('Sparat: Brand.').waitFor();
    await check(rektor, 'site', () => rektor.locator('#site-assemblyPoint').waitFor());

    // Nina opens the link on her phone, chooses a password and is signed in.
    const nina = await open();
    await nina.goto(invitation);
    await nina.getByText('Länken gäller Nina Nyström (nina@vasaskolan.example) i Utbildningsförvaltningen.').waitFor();
    expect(nina.url()).toBe(`${base}/welcome`);
    await check(nina, 'welcome', () => nina.locator('#w-password').waitFor());
    await nina.locator('#w-password').fill('ninas-eget-losenord');
    await nina.locator('#w-repeat').fill('ninas-eget-losenord');
    await nina.getByRole('button', { name: 'Spara och logga in' }).click();
    await nina.waitForURL(/\/setup$/);
    await nina.getByRole('button', { name: /Hoppa över/ }).click();
    await nina.locator('.conn.connected').waitFor();

    // The next alarm reaches her, with the school's own instruction and assembly point.
    await rektor.getByRole('link', { name: 'Samlarm' }).click();
    await rektor.getByLabel(/Övning/).check();
    await holdToRaise(rektor, /Brand/);
    await nina.locator('main.alarm[data-state=active].drill').waitFor({ timeout: 20_000 });
    await nina.getByText('Samla klassen vid fotbollsplanen och räkna eleverna.').waitFor({ timeout: 20_000 });
    await nina.getByText('Fotbollsplanen bakom skolan').waitFor({ timeout: 20_000 });
    await screenshot(nina, 'admin-alarm-with-site-notes-sv');
    const recipients = await t.db.query<{ person_id: string }>(
      "SELECT r.person_id FROM incident_recipients r JOIN people p ON p.id = r.person_id WHERE p.email = 'nina@vasaskolan.example'");
    expect(recipients.rowCount).toBe(1);

    // The rest of the rektor's pages.
    await go(rektor, '/admin/devices');
    await check(rektor, 'devices', () => rektor.getByRole('heading', { name: /Enheter: Vasaskolan|Devices: Vasaskolan/ }).waitFor());
    await go(rektor, '/admin/audit');
    await check(rektor, 'audit', () => rektor.locator('ol.audit li').first().waitFor());
    await expect.poll(() => rektor.locator('ol.audit').innerText()).toContain('Rebecka Rektor lade till Nina Nyström i All personal');
    await go(rektor, '/admin/import');
    await rektor.locator('#csv-file').setInputFiles({
      name: 'personal.csv', mimeType: 'text/csv',
      buffer: Buffer.from('\uFEFFE-post;Namn;Enhet;Roll\r\nny1@vasaskolan.example;Ny Ett;Vasaskolan;personal\r\nfel-adress;Ny Två;Vasaskolan;personal\r\n'),
    });
    await rektor.getByRole('button', { name: 'Förhandsgranska' }).click();
    await rektor.getByText('1 nya, 0 ändrade, 0 oförändrade, 1 avvisade.').waitFor();
    await check(rektor, 'import', () => rektor.locator('table.import').first().waitFor());
    await go(rektor, '/account');
    await check(rektor, 'account', () => rektor.getByRole('heading', { name: /Mina enheter|My devices/ }).waitFor());
  }, 240_000);

  it('the organisation admin has pages of their own: sites, people, alarm types and sign-in', async () => {
    const admin = await open();
    await signIn(admin, base, 'admin@utbildning.example');
    await openMenu(admin);
    await admin.getByRole('link', { name: 'Administration', exact: true }).click();
    await admin.getByRole('heading', { name: 'Administration: Utbildningsförvaltningen' }).waitFor();
    // Two sites: the switcher in the header chooses which one's groups the hub shows.
    await openMenu(admin);
    await admin.locator('#site-switcher').selectOption({ label: 'Solrosens förskola' });
    await admin.getByRole('heading', { name: 'Larmgrupper: Solrosens förskola' }).waitFor();
    await check(admin, 'org-hub', () => admin.getByRole('link', { name: 'All personal' }).waitFor());
    for (const [path, name, ready] of [
      ['/admin/sites', 'sites', () => admin.getByRole('link', { name: 'Vasaskolan' }).waitFor()],
      ['/admin/alarm-types', 'alarm-types', () => admin.locator('main li').first().waitFor()],
      ['/admin/sign-in', 'sign-in', () => admin.locator('#si-issuer').waitFor()],
      ['/admin/people', 'org-people', () => admin.locator('tr[data-person="frida@solrosen.example"]').waitFor()],
    ] as const) {
      await go(admin, path);
      await check(admin, name, ready);
    }
  }, 180_000);

  it('every new page has no axe-core findings in Swedish and English', () => {
    expect(checked.length).toBe(32);
    expect(found).toEqual({});
  });
});
