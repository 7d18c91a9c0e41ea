import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../../src/seed/demo.js';

/** Debian's Chromium (DESIGN.md §6); `scripts/check-test-prerequisites.mjs` checks that it is there. */
export const CHROMIUM = '/usr/bin/chromium';
export const PHONE = { width: 390, height: 844 };
export const SCREENSHOT_DIR = 'test-artifacts/screenshots';
/** How long an alarm button must be held (HOLD_MS in web/src/ui/components.tsx). */
export const HOLD_MS = 1500;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** A phone: its own storage (a separate installation), notifications granted for the app's origin. */
export async function phone(browser: Browser, baseUrl: string, options: { deviceScaleFactor?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: PHONE,
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
    isMobile: true,
    hasTouch: true,
    locale: 'sv-SE',
    timezoneId: 'Europe/Stockholm',
  });
  context.setDefaultTimeout(8000);
  await context.grantPermissions(['notifications'], { origin: baseUrl });
  const page = await context.newPage();
  return { context, page };
}

/** Records every vibration the app asks for (the alarm's sound and vibration run together), for the silence checks. */
export async function recordVibrations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const calls: unknown[] = [];
    Object.assign(window, { samlarmVibrations: calls });
    Object.defineProperty(Navigator.prototype, 'vibrate', { configurable: true, value: (pattern: unknown) => calls.push(pattern) > 0 });
  });
}

/** The page's non-zero vibrations since the last reset: a ringing alarm vibrates with every cycle. */
export const vibrations = (page: Page): Promise<number> => page.evaluate(() => {
  const calls = (window as unknown as { samlarmVibrations: unknown[] }).samlarmVibrations;
  return calls.filter((p) => p !== 0 && !(Array.isArray(p) && p.length === 0)).length;
});

export const resetVibrations = (page: Page): Promise<void> => page.evaluate(() => {
  (window as unknown as { samlarmVibrations: unknown[] }).samlarmVibrations.length = 0;
});

/** Signs a demo account in through the sign-in page and skips the notification step. */
export async function signIn(page: Page, baseUrl: string, email: string, options: { skipSetup?: boolean } = {}): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(DEMO_PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.waitForURL(/\/(setup)?$/);
  if (options.skipSetup !== false && page.url().endsWith('/setup')) {
    await page.getByRole('button', { name: /Hoppa över|Skip for now|Fortsätt|Continue/ }).click();
  }
  await page.locator('.conn.connected').waitFor();
}

/** Presses and holds an alarm button until it fires (hold-to-confirm), as a finger would; returns when the press began. */
export async function holdToRaise(page: Page, name: RegExp, holdMs = 1700): Promise<number> {
  const button = page.getByRole('button', { name });
  await button.scrollIntoViewIfNeeded();
  const box = await button.boundingBox();
  if (!box) throw new Error(`no alarm button ${name}`);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const downAt = Date.now();
  await page.mouse.down();
  await page.waitForTimeout(holdMs);
  await page.mouse.up();
  return downAt;
}

/**
 * When (Date.now() in the page; every context shares the machine's clock) an element matching the
 * selector appears: observed in the page itself, so test-runner polling adds nothing to a latency.
 */
export function appearsAt(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => new Promise<number>((resolve) => {
    const found = () => document.querySelector(sel) !== null;
    if (found()) {
      resolve(Date.now());
      return;
    }
    const observer = new MutationObserver(() => {
      if (!found()) return;
      observer.disconnect();
      resolve(Date.now());
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true });
  }), selector);
}

export async function screenshot(page: Page, name: string, dir = SCREENSHOT_DIR): Promise<void> {
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: false });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: string[] }

/** Runs axe-core (WCAG 2.0/2.1 A and AA rules) in the page; returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  return (await a11yViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Every axe-core violation (WCAG 2.0/2.1 A and AA rules), of any impact. */
export async function a11yViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations;
}
