import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { OIDC_PROVIDER_CA, startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { freePort } from '../helpers/services.js';
import { PHONE, a11yViolations, launchChromium, screenshot } from './browser.js';

/**
 * Sign-in with the municipality's accounts, end to end in Chromium against a real local OpenID
 * provider (oidc-provider) over HTTPS: the authorization code flow with PKCE through openid-client,
 * a person matched by e-mail and then by the stored subject; and each refusal (a wrong state, a
 * wrong nonce, an expired code, a person of another organisation, a deactivated person, someone
 * unknown) brought back to the sign-in page with its stable code.
 */
describe('web app: sign-in with the organisation\'s accounts (OpenID Connect)', () => {
  let t: TestApp;
  let base: string;
  let provider: TestOidcProvider;
  let browser: Browser;

  const accounts = {
    'anna-sub': { email: 'anna@vasaskolan.example', email_verified: true, name: 'Anna Andersson' },
    'lisa-sub': { email: 'lisa@biblioteket.example', email_verified: true, name: 'Lisa Bibliotekarie' },
    'bertil-sub': { email: 'bertil@vasaskolan.example', email_verified: true, name: 'Bertil Berg' },
    'stranger-sub': { email: 'okand@vasaskolan.example', email_verified: true, name: 'Okänd Person' },
    'slow-code-cecilia': { email: 'cecilia@vasaskolan.example', email_verified: true, name: 'Cecilia Carlsson' },
    'frida-sub': { email: 'frida@solrosen.example', email_verified: true, name: 'Frida Förskollärare' },
  };

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    const port = await freePort();
    base = `http://localhost:${port}`;
    provider = await startOidcProvider(`${base}/api/v1/auth/oidc/callback`, accounts);
    t = await startApp({ PUBLIC_URL: base, OIDC_CA_FILE: OIDC_PROVIDER_CA });
    await t.app.listen({ host: '127.0.0.1', port });
    const admin = await t.login('admin@utbildning.example');
    const settings = await t.request({
      method: 'PUT', url: `/api/v1/organisations/${t.ids.org.utbildning}/sign-in`, token: admin,
      body: { passwordSignIn: true, oidc: { enabled: true, issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, createAccounts: false } },
    });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    expect(settings.body.redirectUri).toBe(`${base}/api/v1/auth/oidc/callback`);
    const bertil = await t.request({ method: 'PATCH', url: `/api/v1/people/${t.ids.person['bertil@vasaskolan.example']}`, token: admin, body: { active: false } });
    expect(bertil.status).toBe(200);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await provider?.close();
  });

  /** A fresh phone (no session at the provider either); the provider's test certificate is accepted. */
  async function freshPhone(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, locale: 'sv-SE', ignoreHTTPSErrors: true });
    context.setDefaultTimeout(20_000);
    return { context, page: await context.newPage() };
  }

  /**
   * The provider's redirects become navigations of their own (a page that moves on at once), so that
   * the last one, back to Samlarm's callback, can be changed before the browser follows it.
   */
  async function tamperWithCallback(context: BrowserContext, change: (callback: URL) => Promise<URL>): Promise<void> {
    await context.route(`${provider.issuer}/**`, async (route: Route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const location = response.headers().location;
      if (response.status() < 300 || response.status() >= 400 || !location) {
        await route.fulfill({ response });
        return;
      }
      let next = new URL(location, route.request().url());
      if (next.href.startsWith(`${base}/api/v1/auth/oidc/callback`)) next = await change(next);
      const cookies = response.headersArray().filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value).join('\n');
      await route.fulfill({
        status: 200, contentType: 'text/html', headers: cookies ? { 'set-cookie': cookies } : {},
        body: `<!doctype html><title>…</title><meta http-equiv="refresh" content="0;url=${next.href.replaceAll('&', '&amp;')}">`,
      });
    });
  }

  /** From the sign-in page through the provider's own sign-in form, as the person. */
  async function signInAtProvider(page: Page, login: string): Promise<void> {
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Logga in med Utbildningsförvaltningens konto' }).click();
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('vad-som-helst');
    await page.locator('button[type=submit]').click();
  }

  async function refusedWith(page: Page, code: string): Promise<void> {
    await page.waitForURL(`${base}/login?oidcError=${code}`);
    await page.locator(`p.error[data-code="${code}"]`).waitFor();
  }

  it('a person signs in with the organisation\'s account: matched by e-mail the first time, by the stored subject after', async () => {
    const { context, page } = await freshPhone();
    try {
      await page.goto(`${base}/login`);
      await page.getByRole('link', { name: 'Logga in med Utbildningsförvaltningens konto' }).waitFor();
      await screenshot(page, 'oidc-sign-in-sv');
      const violations = await a11yViolations(page);
      expect(violations).toEqual([]);
      await signInAtProvider(page, 'anna-sub');
      await page.waitForURL(/\/(setup)?$/);
      expect(await page.evaluate(() => localStorage.getItem('samlarm.token'))).toMatch(/^sl_/);
      const subject = await t.db.query<{ oidc_subject: string }>("SELECT oidc_subject FROM people WHERE email = 'anna@vasaskolan.example'");
      expect(subject.rows[0]?.oidc_subject).toBe('anna-sub');
      const linked = await t.db.query("SELECT 1 FROM audit_log WHERE action = 'person.oidc_linked'");
      expect(linked.rowCount).toBe(1);
    } finally {
      await context.close();
    }
    // Her address at the provider changes; the subject still finds her.
    accounts['anna-sub'].email = 'anna.andersson@ny.example';
    const again = await freshPhone();
    try {
      await signInAtProvider(again.page, 'anna-sub');
      await again.page.waitForURL(/\/(setup)?$/);
      const me = await again.page.evaluate(async () => (await fetch('/api/v1/me', { headers: { authorization: `Bearer ${localStorage.getItem('samlarm.token')}` } })).json());
      expect((me as { person: { email: string } }).person.email).toBe('anna@vasaskolan.example');
    } finally {
      await again.context.close();
    }
  }, 120_000);

  it.each([
    ['a wrong state', 'oidc_state_invalid', 'frida-sub', async (callback: URL) => {
      callback.searchParams.set('state', 'a-state-this-service-never-gave-out');
      return callback;
    }],
    ['a wrong nonce', 'oidc_nonce_mismatch', 'frida-sub', async (callback: URL) => {
      // The ID token that comes back is for another sign-in than the one waiting here.
      await t.db.query("UPDATE oidc_logins SET nonce = 'a-nonce-of-another-sign-in' WHERE callback_at IS NULL");
      return callback;
    }],
    ['an expired code', 'oidc_failed', 'slow-code-cecilia', async (callback: URL) => {
      await new Promise((r) => setTimeout(r, 3500));
      return callback;
    }],
  ])('%s is refused with %s and signs no one in', async (_name, code, login, change) => {
    const { context, page } = await freshPhone();
    try {
      const sessionsBefore = (await t.db.query('SELECT 1 FROM sessions')).rowCount;
      await tamperWithCallback(context, change);
      await signInAtProvider(page, login);
      await refusedWith(page, code);
      expect((await t.db.query('SELECT 1 FROM sessions')).rowCount).toBe(sessionsBefore);
      expect(await page.evaluate(() => localStorage.getItem('samlarm.token'))).toBeNull();
    } finally {
      await context.close();
    }
  }, 90_000);

  it.each([
    ['a person of another organisation', 'oidc_other_organisation', 'lisa-sub'],
    ['a deactivated person', 'account_deactivated', 'bertil-sub'],
    ['someone Samlarm does not know (no accounts are created)', 'oidc_no_account', 'stranger-sub'],
  ])('%s is refused with %s', async (_name, code, login) => {
    const { context, page } = await freshPhone();
    try {
      const people = (await t.db.query('SELECT 1 FROM people')).rowCount;
      await signInAtProvider(page, login);
      await refusedWith(page, code);
      if (code === 'oidc_other_organisation') await screenshot(page, 'oidc-refused-sv');
      expect((await t.db.query('SELECT 1 FROM people')).rowCount).toBe(people);
      expect(await page.evaluate(() => localStorage.getItem('samlarm.token'))).toBeNull();
    } finally {
      await context.close();
    }
  }, 90_000);

  it('a callback replayed after its sign-in finished is refused', async () => {
    const { context, page } = await freshPhone();
    try {
      let callback: URL | null = null;
      await tamperWithCallback(context, async (url) => {
        callback = new URL(url.href);
        return url;
      });
      await signInAtProvider(page, 'frida-sub');
      await page.waitForURL(/\/(setup)?$/);
      expect(callback).not.toBeNull();
      // Signed out on this phone, the same answer from the provider is sent again.
      await page.evaluate(() => localStorage.clear());
      await page.goto((callback as unknown as URL).href);
      await refusedWith(page, 'oidc_state_invalid');
    } finally {
      await context.close();
    }
  }, 90_000);
});
