// `npm run screenshots`: regenerates the screenshots the README and docs/web-app.md show (docs/screenshots/),
// from a real node on a fresh embedded PostgreSQL with the demo data, in Debian's Chromium: the tour at a
// common phone size, again on the smallest phone, at 200 % text, and a few screens in forced colours.
import { chmod, copyFile, mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/services.js';
import { startNode } from '../test/helpers/nodes.js';
import { SMALL_PHONE, holdToRaise, launchChromium, phone, screenshot, signIn } from '../test/e2e/browser.js';
import { tour, type TourOptions } from '../test/e2e/tour.js';

const OUT = 'docs/screenshots';
/** Per run of the tour: its options, and which of its pages are kept under which name. */
const RUNS: { options: TourOptions; keep: Record<string, string> }[] = [
  { options: { deviceScaleFactor: 2 }, keep: { home: 'home', alarm: 'alarm', rollcall: 'rollcall', 'home-drill': 'drill-mode', 'press-not-sent': 'press-not-sent' } },
  { options: { deviceScaleFactor: 2, viewport: SMALL_PHONE }, keep: { home: 'small-phone-home', alarm: 'small-phone-alarm', 'press-not-sent': 'small-phone-press-not-sent' } },
  { options: { deviceScaleFactor: 2, viewport: SMALL_PHONE, textScale: 2 }, keep: { home: 'large-text-home', alarm: 'large-text-alarm' } },
];

const dataDir = await mkdtemp(join(tmpdir(), 'samlarm-screenshots-'));
// As root, the embedded PostgreSQL runs as the postgres user, which must be able to enter the folder.
await chmod(dataDir, 0o755);
const node = await startNode({ EMBEDDED_PG_DIR: join(dataDir, 'postgres'), EMBEDDED_PG_PORT: String(await freePort()) }, { readyTimeoutMs: 120_000 });
const browser = await launchChromium();
const written: string[] = [];
try {
  const base = node.url.replace('127.0.0.1', 'localhost');
  await mkdir(OUT, { recursive: true });
  for (const [i, run] of RUNS.entries()) {
    const all = join(dataDir, `shots-${i}`);
    await tour(browser, base, (page, name) => screenshot(page, name, all), run.options);
    for (const [name, as] of Object.entries(run.keep)) {
      await copyFile(join(all, `${name}.png`), join(OUT, `${as}.png`));
      written.push(`${OUT}/${as}.png`);
    }
  }
  // Forced colours: a lockdown, and its all clear, as a high-contrast theme shows them.
  const lead = await phone(browser, base, { deviceScaleFactor: 2, viewport: SMALL_PHONE });
  const staff = await phone(browser, base, { deviceScaleFactor: 2, viewport: SMALL_PHONE });
  await staff.page.emulateMedia({ forcedColors: 'active' });
  await signIn(lead.page, base, 'kris@utbildning.example');
  await signIn(staff.page, base, 'bertil@vasaskolan.example');
  await holdToRaise(lead.page, /Inrymning/);
  await staff.page.locator('main.alarm[data-state=active]').waitFor();
  await screenshot(staff.page, 'forced-colours-lockdown', OUT);
  await lead.page.getByRole('link', { name: 'Närvaro och svar' }).click();
  await lead.page.getByRole('button', { name: 'Blåsa faran över' }).click();
  await lead.page.getByRole('alertdialog').getByRole('button', { name: 'Blåsa faran över' }).click();
  await staff.page.locator('main.alarm[data-state=resolved]').waitFor();
  await screenshot(staff.page, 'forced-colours-all-clear', OUT);
  written.push(`${OUT}/forced-colours-lockdown.png`, `${OUT}/forced-colours-all-clear.png`);
  console.log(`wrote ${written.join(', ')}`);
} finally {
  await browser.close();
  await node.stop();
  await rm(dataDir, { recursive: true, force: true });
}
