import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../../src/seed/demo.js';

/** Debian's Chromium (DESIGN.md §6); `scripts/test-prerequisites.mjs` installs it when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';
export const PHONE = { width: 390, height: 844 };
/** The smallest phone still in use (iPhone SE, first generation): the layout must hold here too. */
export const SMALL_PHONE = { width: 320, height: 568 };
export type Viewport = { width: number; height: number };
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

const cspViolationsByContext = new WeakMap<BrowserContext, string[]>();

/**
 * Records every Content-Security-Policy violation in the context's pages: an init script turns each
 * `securitypolicyviolation` event into a console message, which the context collects.
 */
async function watchCsp(context: BrowserContext): Promise<void> {
  const violations: string[] = [];
  cspViolationsByContext.set(context, violations);
  context.on('console', (message) => {
    if (message.text().startsWith('CSP violation:')) violations.push(`${message.page()?.url() ?? ''}: ${message.text()}`);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`));
  });
}

/** The Content-Security-Policy violations seen so far in the page's context (a phone or a browser context made by `browserContext`). */
export const cspViolations = (page: Page): string[] => cspViolationsByContext.get(page.context()) ?? [];

/** A plain desktop browser context that records CSP violations. */
export async function browserContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await watchCsp(context);
  return context;
}

/** A phone: its own storage (a separate installation), notifications granted for the app's origin. */
export async function phone(
  browser: Browser, baseUrl: string, options: { deviceScaleFactor?: number; viewport?: Viewport; textScale?: number } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? PHONE,
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
    isMobile: true,
    hasTouch: true,
    locale: 'sv-SE',
    timezoneId: 'Europe/Stockholm',
  });
  // Generous: on a busy machine a step can take seconds (tests assert order and completeness, not speed).
  context.setDefaultTimeout(20_000);
  await watchCsp(context);
  await context.grantPermissions(['notifications'], { origin: baseUrl });
  const page = await context.newPage();
  if (options.textScale) await largeText(page, options.textScale);
  return { context, page };
}

/**
 * The person's own text size, as the browser's font-size setting sets it (the default font size, 16 px
 * at 100 %): what "200 % text" means for WCAG 1.4.4. Pages that size text in px ignore it.
 */
export async function largeText(page: Page, scale: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.setFontSizes', { fontSizes: { standard: 16 * scale, fixed: 13 * scale } });
}

/** Whether the element is entirely within the page's viewport as it is scrolled now. */
export async function inViewport(locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const size = locator.page().viewportSize();
  if (!box || !size) return false;
  return box.y >= -1 && box.x >= -1 && box.y + box.height <= size.height + 1 && box.x + box.width <= size.width + 1;
}

/** Opens the header's menu (device check, administration, language, sign-out). */
export async function openMenu(page: Page): Promise<void> {
  const menu = page.locator('details.menu');
  if (!(await menu.evaluate((d) => (d as HTMLDetailsElement).open))) await menu.locator('summary').click();
}

/**
 * A phone's autoplay rule: Web Audio stays suspended until the page has had a real touch or key press
 * (headless Chromium lets it play at once whatever --autoplay-policy says, and Playwright's evaluations
 * count as user activation, so the page's own trusted input events decide here).
 */
export async function autoplayAsOnPhones(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    let touched = false;
    for (const type of ['pointerdown', 'keydown']) {
      window.addEventListener(type, (e) => {
        if (e.isTrusted) touched = true;
      }, { capture: true });
    }
    const Real = window.AudioContext;
    class PhoneAudioContext extends Real {
      constructor(options?: AudioContextOptions) {
        super(options);
        void super.suspend();
      }

      override resume(): Promise<void> {
        return touched ? super.resume() : Promise.resolve();
      }
    }
    window.AudioContext = PhoneAudioContext;
  });
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

/** Puts a finger (the mouse) down on the middle of an alarm button and leaves it there; returns the button and when (Date.now()) the finger went down. */
export async function pressDown(page: Page, name: RegExp): Promise<{ button: Locator; downAt: number }> {
  const button = page.getByRole('button', { name });
  await button.scrollIntoViewIfNeeded();
  const box = await button.boundingBox();
  if (!box) throw new Error(`no alarm button ${name}`);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const downAt = Date.now();
  await page.mouse.down();
  return { button, downAt };
}

/** Presses and holds an alarm button until it fires (hold-to-confirm), as a finger would; returns when the press began. */
// Well past HOLD_MS: on a busy machine the page's own 1.5 s timer can fire late, and an early release cancels.
export async function holdToRaise(page: Page, name: RegExp, holdMs = 2500): Promise<number> {
  const { downAt } = await pressDown(page, name);
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
  // Evaluated through DevTools, which the app's CSP (script-src 'self') does not govern; a script tag would be refused.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations;
}

/** Switches the app's language with the header's switch (also where the alarm screen covers the header). */
export async function switchLanguage(page: Page, to: 'sv' | 'en'): Promise<void> {
  await page.evaluate((lang) => {
    const button = document.querySelector<HTMLButtonElement>('header button[lang]');
    if (document.documentElement.lang !== lang) button?.click();
  }, to);
  await page.waitForFunction((lang) => document.documentElement.lang === lang, to);
}
