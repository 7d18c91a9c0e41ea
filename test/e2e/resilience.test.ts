import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { migrate } from '../../src/db/migrate.js';
import { DEMO_PASSWORD, seedDemo } from '../../src/seed/demo.js';
import { demoIds, startApp, type DemoIds, type TestApp } from '../helpers/app.js';
import { simulateRestore } from '../helpers/restore.js';
import { startTestPostgres, type PostgresServer } from '../helpers/services.js';
import { holdToRaise, launchChromium, phone, recordVibrations, resetVibrations, screenshot, signIn, vibrations } from './browser.js';

type Phone = { context: BrowserContext; page: Page };

/** What the API answers while its database is away. */
const UNAVAILABLE = { status: 503, contentType: 'application/json', body: JSON.stringify({ code: 'database_unavailable', message: 'Database unavailable' }) };

/**
 * The web app when things go wrong around it: the database away while phones are open, a phone away
 * for so long that it gets the current state instead of the events it missed, and a second alarm
 * pressed while the first is still being retried.
 */
describe('web app: a phone open while the database is away', () => {
  let postgres: PostgresServer;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let pool: pg.Pool;
  let ids: DemoIds;
  let base: string;
  let browser: Browser;
  const phones = {} as Record<'bertil' | 'cecilia', Phone>;

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    // A Postgres of this file's own, so it can be stopped without disturbing other test files.
    postgres = await startTestPostgres();
    const url = postgres.adminUrl.replace(/\/postgres$/, '/samlarm');
    pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined);
    await migrate(pool, pino({ level: 'silent' }));
    await seedDemo(pool);
    ids = await demoIds(pool);
    const config = loadConfig({
      LOG_LEVEL: 'silent', DATABASE_URL: url, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: `test-outage-${randomUUID()}:`,
      DATABASE_CONNECT_TIMEOUT_MS: '500', LOGIN_RATE_LIMIT_PER_MINUTE: '1000', DELIVERY_WORKER: 'false',
    });
    app = await buildApp({ config, connectionString: url });
    await app.ready();
    base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    for (const [who, email] of [['bertil', 'bertil@vasaskolan.example'], ['cecilia', 'cecilia@vasaskolan.example']] as const) {
      phones[who] = await phone(browser, base);
      await signIn(phones[who].page, base, email);
    }
  }, 120_000);

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [who, p] of Object.entries(phones)) await screenshot(p.page, `failed-outage-${who}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await pool?.end();
    await postgres?.remove();
  });

  /** Raises through the API as Kim, trying again while the database comes back. */
  async function raiseWhenBack(alarmTypeId: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'kris@utbildning.example', password: DEMO_PASSWORD } });
      const token = login.statusCode === 200 ? (login.json() as { token: string }).token : null;
      if (token) {
        const res = await app.inject({
          method: 'POST', url: '/api/v1/alarms', headers: { authorization: `Bearer ${token}` },
          payload: { pressId: randomUUID(), siteId: ids.site.vasaskolan, alarmTypeId },
        });
        if (res.statusCode === 201) return (res.json() as { incident: { id: string } }).incident.id;
      }
      if (Date.now() > deadline) throw new Error(`could not raise: ${login.statusCode}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('a phone whose reconnect the server refused while the database was down connects again by itself, and one started meanwhile waits instead of signing out; both get the next alarm', async () => {
    const { bertil, cecilia } = phones;
    await postgres.stop();
    // Bertil's connection drops and comes back while the database is away: the server refuses the handshake.
    await bertil.context.setOffline(true);
    await bertil.page.locator('.conn.offline').first().waitFor();
    await bertil.context.setOffline(false);
    // Cecilia's phone starts the app (a reload) while the server cannot answer who she is.
    await cecilia.page.reload();
    const unreachable = cecilia.page.getByRole('alert').filter({ hasText: 'Samlarm cannot be reached right now' });
    await unreachable.waitFor();
    // 112 for emergencies, not an order to call whenever the server is away.
    await unreachable.getByRole('link', { name: 'In an emergency: call 112.' }).waitFor();
    expect(await unreachable.getByText('Call 112 now.').count()).toBe(0);
    await bertil.page.waitForTimeout(1500);
    expect(await cecilia.page.locator('#email').count()).toBe(0);
    expect(await bertil.page.locator('.conn.connected').count()).toBe(0);

    await postgres.start();
    const incidentId = await raiseWhenBack(ids.alarmType.brand);
    for (const p of [bertil, cecilia]) {
      await p.page.locator(`main.alarm[data-state=active][data-incident="${incidentId}"]`).waitFor({ timeout: 20_000 });
    }
    await cecilia.page.locator('.conn.connected').waitFor();
  });
});

describe('web app: a phone away for long, and a second press during an outage', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let kim: string;
  const phones = {} as Record<'anna' | 'bertil', Phone>;

  beforeAll(async () => {
    t = await startApp();
    base = (await t.listen()).replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
    for (const [who, email] of [['anna', 'anna@vasaskolan.example'], ['bertil', 'bertil@vasaskolan.example']] as const) {
      phones[who] = await phone(browser, base);
      await recordVibrations(phones[who].context);
      await signIn(phones[who].page, base, email);
    }
    kim = await t.login('kris@utbildning.example');
  });

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [who, p] of Object.entries(phones)) await screenshot(p.page, `failed-resilience-${who}`).catch(() => undefined);
    // A test that failed while a phone was away leaves it online again, so the next one starts as its comment says.
    for (const p of Object.values(phones)) await p.context.setOffline(false);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const raise = async (alarmTypeId: string): Promise<string> => {
    const res = await t.request({ method: 'POST', url: '/api/v1/alarms', token: kim,
      body: { pressId: randomUUID(), siteId: t.ids.site.vasaskolan, alarmTypeId, confirmContradiction: true } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.incident.id as string;
  };
  /** More events than a catch-up carries (500): the phone gets the current state instead. */
  const flood = async (incidentId: string): Promise<void> => {
    // Ten at a time: the order of the reports does not matter here, only their number.
    for (let i = 0; i < 501; i += 10) {
      const statuses = await Promise.all(Array.from({ length: Math.min(10, 501 - i) }, (_, j) => t.request({
        method: 'POST', url: `/api/v1/incidents/${incidentId}/messages`, token: kim, body: { kind: 'instruction', body: `Lägesrapport ${i + j}` },
      }).then((res) => res.status)));
      expect(new Set(statuses)).toEqual(new Set([200]));
    }
  };
  /** Flooding takes a while on a busy machine; these tests assert what happens, not how fast. */
  const FLOOD_TEST_MS = 120_000;
  const resolveAll = async (): Promise<void> => {
    for (const { id } of (await t.db.query<{ id: string }>("SELECT id FROM incidents WHERE state = 'active'")).rows) {
      expect((await t.request({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, token: kim, body: {} })).status).toBe(200);
    }
  };
  /** Vibrations over a second and a half from now: a ringing alarm vibrates every second. */
  const vibrationsFromNow = async (page: Page): Promise<number> => {
    await resetVibrations(page);
    await page.waitForTimeout(1500);
    return vibrations(page);
  };

  /** The phone shows the alarm and rings, then loses its connection. */
  const ringsThenGoesAway = async (p: Phone, incidentId: string): Promise<void> => {
    await p.page.locator(`main.alarm[data-state=active][data-incident="${incidentId}"]`).waitFor();
    expect(await vibrationsFromNow(p.page)).toBeGreaterThan(0);
    await p.context.setOffline(true);
    await p.page.locator('.conn.offline').first().waitFor();
  };
  /** The types of the active alarms Anna raised. */
  const annasAlarms = async (): Promise<string[]> => (await t.db.query<{ key: string }>(
    "SELECT type_snapshot->>'key' AS key FROM incidents WHERE state = 'active' AND raised_by = $1 ORDER BY key", [t.ids.person['anna@vasaskolan.example']],
  )).rows.map((r) => r.key);

  it('a phone ringing for a fire that comes back to the current state of a lockdown falls silent', async () => {
    const { bertil } = phones;
    await resolveAll();
    const fire = await raise(t.ids.alarmType.brand);
    await ringsThenGoesAway(bertil, fire);
    const lockdown = await raise(t.ids.alarmType.inrymning);
    await flood(fire);
    await bertil.context.setOffline(false);
    // The lockdown the phone learns of from the current state is shown (silently) in its place.
    await bertil.page.locator(`main.alarm[data-state=active][data-incident="${lockdown}"]`).waitFor();
    expect(await vibrationsFromNow(bertil.page)).toBe(0);
    await resolveAll();
  }, FLOOD_TEST_MS);

  it('a phone ringing for an alarm that ended while it was away stops ringing and shows how it ended', async () => {
    const { bertil } = phones;
    await resolveAll();
    const evacuation = await raise(t.ids.alarmType.utrymning);
    await ringsThenGoesAway(bertil, evacuation);
    await flood(evacuation);
    await resolveAll();
    await bertil.context.setOffline(false);
    await bertil.page.locator(`main.alarm[data-state=resolved][data-incident="${evacuation}"]`).waitFor();
    expect(await vibrationsFromNow(bertil.page)).toBe(0);
  }, FLOOD_TEST_MS);

  it('a phone back right after the database was restored from a backup rings for the next alarm, though its id is one the phone held', async () => {
    const { bertil } = phones;
    await resolveAll();
    const bertilId = t.ids.person['bertil@vasaskolan.example'];
    const stored = (key: string) => bertil.page.evaluate((k) => localStorage.getItem(k), `samlarm.${key}.${bertilId}`);
    const lastId = async () => BigInt((await t.db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM incident_events')).rows[0]?.id ?? '0');

    // An alarm before the backup, which is taken here; another comes and goes after it, and the phone's cursor
    // moves past the backup.
    await raise(t.ids.alarmType.brand);
    await resolveAll();
    const backup = await lastId();
    await raise(t.ids.alarmType.brand);
    await resolveAll();
    // The phone has caught up once its cursor reaches that alarm's all clear (later events, such as the record of
    // a push attempt, are not the phone's to see).
    const allClear = BigInt((await t.db.query<{ id: string }>("SELECT max(id)::text AS id FROM incident_events WHERE type = 'resolved'")).rows[0]?.id ?? '0');
    await bertil.page.goto(`${base}/`);
    await expect.poll(async () => BigInt((await stored('cursor')) ?? '0'), { timeout: 15_000 }).toBeGreaterThanOrEqual(allClear);
    const held = BigInt((await stored('cursor')) ?? '0');
    expect(held).toBeGreaterThan(backup);
    await bertil.context.setOffline(true);
    await bertil.page.locator('.conn.offline').first().waitFor();

    // The restore: the events after the backup are gone, their ids will be handed out again, and a new epoch is drawn.
    const epoch = await simulateRestore(t.db, backup);

    // Back before the restored timeline reaches its cursor: the phone takes the new epoch's cursor, lower than its own.
    await bertil.context.setOffline(false);
    await expect.poll(() => stored('epoch'), { timeout: 15_000 }).toBe(epoch);
    expect(BigInt((await stored('cursor')) ?? '0')).toBeLessThan(held);
    const next = await raise(t.ids.alarmType.hot);
    const raisedId = (await t.db.query<{ id: string }>("SELECT id::text FROM incident_events WHERE incident_id = $1 AND type = 'raised'", [next])).rows[0]?.id;
    expect(BigInt(raisedId ?? '0')).toBeLessThanOrEqual(held);
    await bertil.page.locator(`main.alarm[data-state=active][data-incident="${next}"]`).waitFor({ timeout: 10_000 });
    await resolveAll();
  });

  it('a second alarm pressed while the first is still being retried is sent too, and the screen says both are not sent yet', async () => {
    const { anna } = phones;
    await resolveAll();
    await anna.page.goto(`${base}/`);
    await anna.page.locator('.conn.connected').waitFor();
    let down = true;
    await anna.page.route('**/api/v1/alarms', async (route) => {
      if (down) await route.fulfill(UNAVAILABLE);
      else await route.continue();
    });
    await holdToRaise(anna.page, /Brand/);
    await anna.page.getByRole('alert').filter({ hasText: 'är INTE skickat' }).waitFor();
    await holdToRaise(anna.page, /Inrymning/);
    await anna.page.getByRole('alert').filter({ hasText: 'Ytterligare 1 larm är INTE skickade än' }).waitFor();
    down = false;

    // Both are stored; one of them contradicts the other and asks to be confirmed.
    const confirm = anna.page.getByRole('alertdialog').getByRole('button', { name: /^Larma .* nu$/ });
    await expect.poll(async () => {
      if (await confirm.count()) await confirm.click();
      return annasAlarms();
    }, { timeout: 15_000 }).toEqual(['brand', 'inrymning']);
    await anna.page.unrouteAll({ behavior: 'wait' });
    expect(await anna.page.getByText('Ytterligare 1 larm').count()).toBe(0);
    await resolveAll();
  });

  it('two presses that both contradict a lockdown once the outage is over are put to the person one after the other, and both are stored', async () => {
    const { anna } = phones;
    await resolveAll();
    const lockdown = await raise(t.ids.alarmType.inrymning);
    await anna.page.locator(`main.alarm[data-state=active][data-incident="${lockdown}"]`).waitFor();
    await anna.page.getByRole('button', { name: 'Jag har sett larmet' }).click();
    await anna.page.goto(`${base}/`);
    await anna.page.locator('.conn.connected').waitFor();
    let down = true;
    const contradicted = new Set<string>();
    await anna.page.route('**/api/v1/alarms', async (route) => {
      if (down) {
        await route.fulfill(UNAVAILABLE);
        return;
      }
      const response = await route.fetch();
      if (response.status() === 409) contradicted.add((route.request().postDataJSON() as { pressId: string }).pressId);
      await route.fulfill({ response });
    });
    await holdToRaise(anna.page, /Brand/);
    await anna.page.getByRole('alert').filter({ hasText: 'är INTE skickat' }).waitFor();
    await holdToRaise(anna.page, /Utrymning/);
    await anna.page.getByRole('alert').filter({ hasText: 'Ytterligare 1 larm är INTE skickade än' }).waitFor();
    down = false;
    // Both presses meet the lockdown before the person answers either.
    await expect.poll(() => contradicted.size, { timeout: 10_000 }).toBe(2);

    const dialog = anna.page.getByRole('alertdialog');
    await dialog.getByRole('button', { name: /^Larma .* nu$/ }).waitFor();
    // The other press waits its turn, and the screen says so.
    await anna.page.getByRole('alert').filter({ hasText: 'Ytterligare 1 larm är INTE skickade än' }).waitFor();
    await dialog.getByRole('button', { name: /^Larma .* nu$/ }).click();
    await expect.poll(async () => {
      if (await dialog.count()) await dialog.getByRole('button', { name: /^Larma .* nu$/ }).click().catch(() => undefined);
      return annasAlarms();
    }, { timeout: 15_000 }).toEqual(['brand', 'utrymning']);
    await anna.page.unrouteAll({ behavior: 'wait' });
    await resolveAll();
  });

  it('alarm buttons that could not be loaded are asked for again, with call 112 shown meanwhile', async () => {
    const { anna } = phones;
    let failures = 2;
    await anna.page.route('**/api/v1/sites/*/alarm-types', async (route) => {
      if (failures-- > 0) await route.fulfill(UNAVAILABLE);
      else await route.continue();
    });
    await anna.page.goto(`${base}/`);
    await anna.page.getByRole('alert').filter({ hasText: 'Larmknapparna kunde inte hämtas' }).getByRole('link', { name: 'Vid en nödsituation: ring 112.' }).waitFor();
    await anna.page.getByRole('button', { name: /Brand/ }).waitFor();
    expect(await anna.page.getByText('Larmknapparna kunde inte hämtas').count()).toBe(0);
    await anna.page.unrouteAll({ behavior: 'wait' });
  });
});
