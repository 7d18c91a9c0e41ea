// `npm run screenshots`: regenerates the screenshots the README shows (docs/screenshots/), from a
// real node on a fresh embedded PostgreSQL with the demo data, in Debian's Chromium at phone size.
import { chmod, copyFile, mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/services.js';
import { startNode } from '../test/helpers/nodes.js';
import { launchChromium, screenshot } from '../test/e2e/browser.js';
import { tour } from '../test/e2e/tour.js';

const OUT = 'docs/screenshots';
/** The pages the README shows; the tour photographs more. */
const SHOWN = ['home', 'alarm', 'rollcall'];

const dataDir = await mkdtemp(join(tmpdir(), 'samlarm-screenshots-'));
// As root, the embedded PostgreSQL runs as the postgres user, which must be able to enter the folder.
await chmod(dataDir, 0o755);
const node = await startNode({ EMBEDDED_PG_DIR: join(dataDir, 'postgres'), EMBEDDED_PG_PORT: String(await freePort()) }, { readyTimeoutMs: 120_000 });
const browser = await launchChromium();
try {
  const base = node.url.replace('127.0.0.1', 'localhost');
  const all = join(dataDir, 'shots');
  await tour(browser, base, (page, name) => screenshot(page, name, all), { deviceScaleFactor: 2 });
  await mkdir(OUT, { recursive: true });
  for (const name of SHOWN) await copyFile(join(all, `${name}.png`), join(OUT, `${name}.png`));
  console.log(`wrote ${SHOWN.map((n) => `${OUT}/${n}.png`).join(', ')}`);
} finally {
  await browser.close();
  await node.stop();
  await rm(dataDir, { recursive: true, force: true });
}
