import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.js';
import { launchChromium, phone, signIn } from './browser.js';

interface ShownNotification { title: string; tag: string; body: string; requireInteraction: boolean; incidentId: string | null }

function payload(overrides: Record<string, unknown>): string {
  return JSON.stringify({
    v: 1, kind: 'alarm', incidentId: '6f1c1d8e-8d0c-4d7e-9d1f-1d2a3b4c5d6e', drill: false, title: 'Brand', body: 'Vasaskolan: utrym byggnaden.',
    tag: 'samlarm-incident-6f1c1d8e-8d0c-4d7e-9d1f-1d2a3b4c5d6e', lang: 'sv',
    alarmType: { key: 'brand', colour: '#c62828', icon: 'flame', sound: 'loud' }, site: { id: 'x', name: 'Vasaskolan' },
    at: new Date().toISOString(), ...overrides,
  });
}

const notifications = (page: Page): Promise<ShownNotification[]> => page.evaluate(async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((n) => ({
    title: n.title, tag: n.tag, body: n.body, requireInteraction: n.requireInteraction,
    incidentId: (n.data as { incidentId: string | null } | null)?.incidentId ?? null,
  }));
});

/** The service worker as a phone in a pocket meets it: pushes delivered through the DevTools protocol. */
describe('web app: the service worker shows alarm notifications from Web Push', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let registrationId: string;

  beforeAll(async () => {
    if (!existsSync('web/dist/sw.js')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    ({ page } = await phone(browser, base));
    await signIn(page, base, 'bertil@vasaskolan.example');
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    cdp = await page.context().newCDPSession(page);
    const registered = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const mine = registrations.find((r) => r.scopeURL === `${base}/` && !r.isDeleted);
        if (mine) resolve(mine.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    registrationId = await registered;
    // A first push starts the service worker's thread, which on a loaded two-core machine has taken
    // over 8 s; the tests below are about what it shows, so it is started (and its test notification
    // closed) here first, once the worker is done with the push: it tells open pages after it has shown
    // and read back the notification (a close before that could be taken for a lost one and shown again).
    await page.evaluate(() => {
      const flags = window as unknown as { handledPushes: number };
      flags.handledPushes = 0;
      navigator.serviceWorker.addEventListener('message', () => { flags.handledPushes += 1; });
    });
    await deliver(payload({ kind: 'test', incidentId: null, tag: 'samlarm-test', title: 'Testlarm', body: 'Uppvärmning' }));
    await page.waitForFunction(() => (window as unknown as { handledPushes: number }).handledPushes > 0, null, { timeout: 30_000, polling: 100 });
    await page.evaluate(async () => {
      for (const n of await (await navigator.serviceWorker.ready).getNotifications()) n.close();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const deliver = (data: string) => cdp.send('ServiceWorker.deliverPushMessage', { origin: `${base}/`, registrationId, data });
  const waitForNotifications = async (check: (shown: ShownNotification[]) => boolean): Promise<ShownNotification[]> => {
    const deadline = Date.now() + 8000;
    for (;;) {
      const shown = await notifications(page);
      if (check(shown) || Date.now() > deadline) return shown;
      await page.waitForTimeout(50);
    }
  };

  it('shows an alarm push as a notification with its title and the incident tag, staying until dismissed', async () => {
    await deliver(payload({}));
    const shown = await waitForNotifications((n) => n.length > 0);
    expect(shown).toEqual([{
      title: 'Brand', tag: 'samlarm-incident-6f1c1d8e-8d0c-4d7e-9d1f-1d2a3b4c5d6e', body: 'Vasaskolan: utrym byggnaden.',
      requireInteraction: true, incidentId: '6f1c1d8e-8d0c-4d7e-9d1f-1d2a3b4c5d6e',
    }]);
  });

  it('keeps one notification per incident: a later push of the same incident replaces the earlier one', async () => {
    await deliver(payload({ kind: 'instruction', title: 'Brand: ny instruktion', body: 'Samling på skolgården.' }));
    const shown = await waitForNotifications((n) => n.some((x) => x.title === 'Brand: ny instruktion'));
    expect(shown.map((n) => [n.title, n.tag])).toEqual([['Brand: ny instruktion', 'samlarm-incident-6f1c1d8e-8d0c-4d7e-9d1f-1d2a3b4c5d6e']]);
  });

  it('marks a drill push as a drill in the title, in the recipient\'s language', async () => {
    const id = '0b7e4c52-93a1-4f7b-b0b5-2f0a6f9f2d11';
    await deliver(payload({ incidentId: id, tag: `samlarm-incident-${id}`, drill: true, title: 'Inrymning (PDV)' }));
    await deliver(payload({ incidentId: null, kind: 'test', tag: 'samlarm-test', drill: true, lang: 'en', title: 'Test alarm' }));
    const shown = await waitForNotifications((n) => n.length >= 3);
    expect(shown.find((n) => n.tag === `samlarm-incident-${id}`)?.title).toBe('ÖVNING: Inrymning (PDV)');
    expect(shown.find((n) => n.tag === 'samlarm-test')?.title).toBe('DRILL: Test alarm');
  });

  it('never lets an older push replace a newer notification of the incident, nor anything but an all clear replace its all clear', async () => {
    const id = '3d9a0f7e-5b1c-4c2e-8f4a-7b6c5d4e3f21';
    const tag = `samlarm-incident-${id}`;
    const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 16, 0, s)).toISOString();
    const push = (kind: string, title: string, s: number) => deliver(payload({ incidentId: id, tag, kind, title, at: at(s) }));
    const titleOfTag = async (expected: string) => (await waitForNotifications((n) => n.some((x) => x.tag === tag && x.title === expected)))
      .filter((n) => n.tag === tag).map((n) => n.title);

    await push('instruction', 'Brand: samling på skolgården', 20);
    expect(await titleOfTag('Brand: samling på skolgården')).toEqual(['Brand: samling på skolgården']);
    // The first alarm push, delayed at the push service, arrives after the newer instruction.
    await push('alarm', 'Brand', 10);
    await page.waitForTimeout(300);
    expect((await notifications(page)).filter((n) => n.tag === tag).map((n) => n.title)).toEqual(['Brand: samling på skolgården']);
    await push('all_clear', 'Faran över: Brand', 30);
    expect(await titleOfTag('Faran över: Brand')).toEqual(['Faran över: Brand']);
    // A reminder stamped later (another node's clock) still cannot hide the all clear.
    await push('reminder', 'Påminnelse: Brand', 40);
    await push('instruction', 'Brand: samling på skolgården', 20);
    await page.waitForTimeout(300);
    expect((await notifications(page)).filter((n) => n.tag === tag).map((n) => n.title)).toEqual(['Faran över: Brand']);
  });

  it('shows an instruction at the workplace under the site\'s tag, silently during a lockdown, with nothing to confirm', async () => {
    const site = '5a7c1e2b-0d4f-4b6a-9c8e-1f2a3b4c5d6e';
    await deliver(payload({
      kind: 'site_instruction', incidentId: null, tag: `samlarm-site-${site}`, title: 'Instruktion på din arbetsplats – Vasaskolan',
      body: 'Inrymning (PDV): Pågående dödligt våld.', alarmType: { key: 'inrymning', colour: '#6a1b9a', icon: 'lock', sound: 'silent' },
    }));
    const shown = await waitForNotifications((n) => n.some((x) => x.tag === `samlarm-site-${site}`));
    expect(shown.find((n) => n.tag === `samlarm-site-${site}`)).toMatchObject({ title: 'Instruktion på din arbetsplats – Vasaskolan', incidentId: null });
    const silent = await page.evaluate(async (tag) => (await (await navigator.serviceWorker.ready).getNotifications({ tag }))[0]?.silent, `samlarm-site-${site}`);
    expect(silent).toBe(true);
  });

  it('shows every push of a burst even while the open app lists its notifications at the same moment', async () => {
    // Chromium reconciles its notification store on every getNotifications(); a notification being shown
    // then was dropped (about one burst in three without the service worker's check).
    await page.evaluate(() => {
      const flags = window as unknown as { listing: boolean };
      flags.listing = true;
      void (async () => {
        const registration = await navigator.serviceWorker.ready;
        while (flags.listing) await registration.getNotifications();
      })();
    });
    try {
      const tags = Array.from({ length: 20 }, () => randomUUID()).map((id) => ({ id, tag: `samlarm-incident-${id}` }));
      const handledBefore = await page.evaluate(() => (window as unknown as { handledPushes: number }).handledPushes);
      for (const { id, tag } of tags) await deliver(payload({ incidentId: id, tag, title: `Brand ${id.slice(0, 4)}` }));
      // The worker takes the pushes one at a time, each read back against the lister; on a loaded
      // two-core machine the burst has taken more than 8 s. What is asserted is that none is lost, so the
      // check waits for the worker to say it is done with all 20, and then looks at once.
      await page.waitForFunction((count) => (window as unknown as { handledPushes: number }).handledPushes >= count, handledBefore + tags.length, { timeout: 60_000, polling: 100 });
      const shown = await notifications(page);
      expect(tags.filter(({ tag }) => !shown.some((x) => x.tag === tag))).toEqual([]);
    } finally {
      await page.evaluate(() => { (window as unknown as { listing: boolean }).listing = false; });
    }
  });
});
