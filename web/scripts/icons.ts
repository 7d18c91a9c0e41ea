// `npm run icons`: renders web/public/icon.svg to the PNG icons Android, iOS and the manifest use, in
// Debian's Chromium (no image library needed). Run it after changing the SVG and commit the PNGs.
import { readFile, writeFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const OUT = 'web/public/icons';
const svg = await readFile('web/public/icon.svg', 'utf8');
/** The bell of the icon without its rounded background, for full-bleed icons. */
const bell = svg.replace(/<rect[^>]*\/>/, '');
const BRAND = '#14213d';

/**
 * `any`: the icon as drawn (rounded, transparent corners). `full`: the brand colour to every edge and the
 * bell at `scale`, for iOS (which rounds corners itself and shows transparency as black) and for maskable
 * icons (Android crops them to a circle or squircle: the bell stays within the central 80 %).
 */
const ICONS: { file: string; size: number; kind: 'any' | 'full'; scale?: number }[] = [
  { file: 'icon-192.png', size: 192, kind: 'any' },
  { file: 'icon-512.png', size: 512, kind: 'any' },
  { file: 'icon-maskable-192.png', size: 192, kind: 'full', scale: 0.7 },
  { file: 'icon-maskable-512.png', size: 512, kind: 'full', scale: 0.7 },
  { file: 'apple-touch-icon.png', size: 180, kind: 'full', scale: 0.85 },
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (const icon of ICONS) {
    const page = await browser.newPage({ viewport: { width: icon.size, height: icon.size }, deviceScaleFactor: 1 });
    const inner = icon.kind === 'any'
      ? svg
      : `<div style="width:100%;height:100%;background:${BRAND};display:flex;align-items:center;justify-content:center">`
        + `<div style="width:${(icon.scale ?? 1) * 100}%;height:${(icon.scale ?? 1) * 100}%">${bell}</div></div>`;
    await page.setContent(`<!doctype html><style>html,body{margin:0;width:100%;height:100%;background:transparent}svg{display:block;width:100%;height:100%}</style>${inner}`);
    await writeFile(`${OUT}/${icon.file}`, await page.screenshot({ omitBackground: true, type: 'png' }));
    await page.close();
    console.log(`wrote ${OUT}/${icon.file}`);
  }
} finally {
  await browser.close();
}
