import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { browserContext, cspViolations, launchChromium } from './browser.js';

/** Browser security headers on every kind of answer (issue 14), and what a browser makes of them. */
describe('browser security headers', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let token: string;

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    token = await t.login('anna@vasaskolan.example');
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    context = await browserContext(browser);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
  });

  const headersOf = async (url: string, auth = false) => {
    const res = await t.app.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.statusCode, headers: res.headers };
  };

  const directives = (csp: unknown): Map<string, string> =>
    new Map(String(csp).split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name = '', ...values] = d.split(/\s+/);
      return [name, values.join(' ')];
    }));

  it('the app, a deep link, an asset, the service worker, the API and /docs carry CSP, frame, sniffing, referrer and HSTS headers', async () => {
    const asset = readdirSync('web/dist/assets').find((f) => f.endsWith('.js'));
    const urls = ['/', '/alarm/6f1c1d8e-8d0c-4d7e-9d1f-1d2a3b4c5d6e', `/assets/${asset}`, '/sw.js', '/api/v1/me', '/docs', '/api/v1/no-such-thing'];
    for (const url of urls) {
      const { status, headers } = await headersOf(url, url.startsWith('/api/'));
      expect(status, url).toBeLessThan(url.endsWith('no-such-thing') ? 500 : 400);
      const csp = directives(headers['content-security-policy']);
      expect(csp.get('script-src'), url).toBe("'self'");
      expect(csp.get('frame-ancestors'), url).toBe("'none'");
      expect(csp.get('object-src'), url).toBe("'none'");
      expect(csp.get('default-src'), url).toBe("'self'");
      expect(headers['x-content-type-options'], url).toBe('nosniff');
      expect(headers['x-frame-options'], url).toBe('DENY');
      expect(headers['referrer-policy'], url).toBe('no-referrer');
      expect(String(headers['strict-transport-security']), url).toMatch(/^max-age=\d{7,}/);
    }
    // The app's pages allow no inline style; only the OpenAPI UI needs it.
    expect(directives((await headersOf('/')).headers['content-security-policy']).get('style-src')).toBe("'self'");
  });

  it('the sign-in answer and every other API answer are never stored by a browser or proxy', async () => {
    const login = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'anna@vasaskolan.example', password: 'samlarm-demo' } });
    expect(login.status).toBe(200);
    expect(login.body.token).toEqual(expect.any(String));
    expect(login.headers['cache-control']).toBe('no-store');
    const failed = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'anna@vasaskolan.example', password: 'wrong' } });
    expect(failed.headers['cache-control']).toBe('no-store');
    expect((await headersOf('/api/v1/me', true)).headers['cache-control']).toBe('no-store');
    // The web app's own caching is untouched.
    expect((await headersOf('/')).headers['cache-control']).toBe('no-cache');
  });

  it('the OpenAPI UI still renders under its policy, with no violation', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/docs`);
    // Swagger UI's bundle is 1.5 MB of script: slow on a busy machine.
    await page.locator('.swagger-ui .info .title', { hasText: 'Samlarm API' }).waitFor({ timeout: 60_000 });
    await page.locator('.opblock').first().click();
    await page.locator('.opblock-body').first().waitFor();
    expect(cspViolations(page)).toEqual([]);
    await page.close();
  }, 90_000);

  it('another site cannot frame the app (the hold-to-raise buttons), and an injected inline script does not run', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.locator('#email').waitFor();
    expect(cspViolations(page)).toEqual([]);
    const ran = await page.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
      await new Promise((resolve) => setTimeout(resolve, 100));
      return (window as unknown as { injected?: boolean }).injected === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => cspViolations(page).some((v) => v.includes('script-src'))).toBe(true);

    // A page elsewhere (here: about:blank, whose own policy allows any frame) that frames the app gets Chromium's error page.
    const framing = await context.newPage();
    await framing.setContent(`<iframe src="${base}/login"></iframe>`);
    const frameUrl = () => framing.frames().find((f) => f !== framing.mainFrame())?.url() ?? '';
    await expect.poll(frameUrl, { timeout: 10_000 }).not.toMatch(/^(about:blank)?$/);
    expect(frameUrl()).toMatch(/^chrome-error:/);
    await page.close();
    await framing.close();
  });
});
