import type { CurvePoint, ReachCurve, RollCallStep } from './figures.js';

/**
 * Charts drawn on the server as SVG strings: the same drawing goes into the web page and the PDF
 * (pdfmake renders SVG). Every text is escaped; the numbers are always shown beside the chart too.
 */

export type Lang = 'sv' | 'en';

const TEXT = {
  sv: {
    reachTitle: 'Nådda över tid', reachDesc: 'Andel av de som skulle nås som nåtts och kvitterat, sekunder efter larmet',
    reached: 'Nådda', acknowledged: 'Kvitterat', socket: 'via app', push: 'via push', instruction: 'Instruktion',
    allClear: 'Faran över', cancelled: 'Avbrutet', seconds: 's efter larmet',
    rollTitle: 'Närvaro över tid', rollDesc: 'Svar över tid: i säkerhet, behöver hjälp, inte på plats, inget svar',
    safe: 'I säkerhet', needHelp: 'Behöver hjälp', notOnSite: 'Inte på plats', none: 'Inget svar',
  },
  en: {
    reachTitle: 'Reached over time', reachDesc: 'Share of those to be reached who were reached and acknowledged, seconds after the alarm',
    reached: 'Reached', acknowledged: 'Acknowledged', socket: 'by app', push: 'by push', instruction: 'Instruction',
    allClear: 'All clear', cancelled: 'Cancelled', seconds: 's after the alarm',
    rollTitle: 'Roll call over time', rollDesc: 'Answers over time: safe, needs help, not on site, no answer',
    safe: 'Safe', needHelp: 'Needs help', notOnSite: 'Not on site', none: 'No answer',
  },
} as const;

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const W = 640;
const H = 300;
const M = { left: 48, right: 16, top: 36, bottom: 72 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
// Dark enough on white for text and lines (WCAG 1.4.11).
const COLOURS = { reached: '#0b3d91', acknowledged: '#1b5e20', socket: '#6a1b9a', push: '#8a4b00', marker: '#444444', grid: '#d0d0d0' };
const FONT = 'font-family="DejaVu Sans, Verdana, sans-serif"';

/** Round tick steps for an axis up to `max`. */
function ticks(max: number, count = 5): number[] {
  if (max <= 0) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Math.round(v * 1000) / 1000);
  return out;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function frame(title: string, desc: string, id: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${id}-t ${id}-d">`
    + `<title id="${id}-t">${escapeXml(title)}</title><desc id="${id}-d">${escapeXml(desc)}</desc>`
    + `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`
    + `<text x="${M.left}" y="22" ${FONT} font-size="15" font-weight="bold" fill="#111111">${escapeXml(title)}</text>${body}</svg>`;
}

function axes(maxSeconds: number, yTicks: { value: number; label: string }[], yMax: number, xLabel: string): { body: string; x: (s: number) => number; y: (v: number) => number } {
  const x = (s: number) => M.left + (maxSeconds === 0 ? 0 : (s / maxSeconds) * PW);
  const y = (v: number) => M.top + PH - (yMax === 0 ? 0 : (v / yMax) * PH);
  let body = '';
  for (const t of yTicks) {
    body += `<line x1="${M.left}" x2="${M.left + PW}" y1="${y(t.value).toFixed(1)}" y2="${y(t.value).toFixed(1)}" stroke="${COLOURS.grid}" stroke-width="1"/>`;
    body += `<text x="${M.left - 6}" y="${(y(t.value) + 4).toFixed(1)}" ${FONT} font-size="11" text-anchor="end" fill="#222222">${escapeXml(t.label)}</text>`;
  }
  for (const s of ticks(maxSeconds)) {
    body += `<text x="${x(s).toFixed(1)}" y="${M.top + PH + 16}" ${FONT} font-size="11" text-anchor="middle" fill="#222222">${fmt(s)}</text>`;
  }
  body += `<line x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#222222" stroke-width="1"/>`;
  body += `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PH}" stroke="#222222" stroke-width="1"/>`;
  body += `<text x="${M.left + PW}" y="${M.top + PH + 32}" ${FONT} font-size="11" text-anchor="end" fill="#222222">${escapeXml(xLabel)}</text>`;
  return { body, x, y };
}

function stepPath(points: CurvePoint[], x: (s: number) => number, y: (v: number) => number, untilS: number): string {
  let d = `M${x(0).toFixed(1)},${y(0).toFixed(1)}`;
  let last = 0;
  for (const p of points) {
    const s = Math.max(0, p.ms / 1000);
    d += ` H${x(s).toFixed(1)} V${y(p.share).toFixed(1)}`;
    last = p.share;
  }
  return `${d} H${x(untilS).toFixed(1)} V${y(last).toFixed(1)}`;
}

function legend(items: { label: string; colour: string; dash?: string }[]): string {
  let out = '';
  let cx = M.left;
  const ly = H - 14;
  for (const item of items) {
    out += `<line x1="${cx}" x2="${cx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${item.colour}" stroke-width="3"${item.dash ? ` stroke-dasharray="${item.dash}"` : ''}/>`;
    out += `<text x="${cx + 27}" y="${ly}" ${FONT} font-size="11" fill="#111111">${escapeXml(item.label)}</text>`;
    cx += 36 + item.label.length * 6.5;
  }
  return out;
}

/** The reach curve: reached and acknowledged (and per channel) over seconds since the press, with instruction changes and the end marked. */
export function reachChart(c: ReachCurve, lang: Lang): string {
  const t = TEXT[lang];
  const untilS = Math.max(1, c.untilMs / 1000);
  const a = axes(untilS, [0, 0.25, 0.5, 0.75, 1].map((v) => ({ value: v, label: `${v * 100} %` })), 1, t.seconds);
  let body = a.body;
  for (const m of c.markers) {
    const mx = a.x(Math.max(0, m.ms / 1000)).toFixed(1);
    const label = m.kind === 'all_clear' ? t.allClear : m.kind === 'cancelled' ? t.cancelled : t.instruction;
    body += `<line x1="${mx}" x2="${mx}" y1="${M.top}" y2="${M.top + PH}" stroke="${COLOURS.marker}" stroke-width="1.5" stroke-dasharray="2 3"/>`;
    body += `<text x="${mx}" y="${M.top - 4}" ${FONT} font-size="10" text-anchor="middle" fill="#222222">${escapeXml(label)}</text>`;
  }
  const line = (points: CurvePoint[], colour: string, dash?: string) =>
    `<path d="${stepPath(points, a.x, a.y, untilS)}" fill="none" stroke="${colour}" stroke-width="${dash ? 2 : 3}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  body += line(c.socket, COLOURS.socket, '6 3') + line(c.push, COLOURS.push, '2 2') + line(c.acknowledged, COLOURS.acknowledged) + line(c.reached, COLOURS.reached);
  body += legend([
    { label: t.reached, colour: COLOURS.reached }, { label: t.acknowledged, colour: COLOURS.acknowledged },
    { label: `${t.reached} ${t.socket}`, colour: COLOURS.socket, dash: '6 3' }, { label: `${t.reached} ${t.push}`, colour: COLOURS.push, dash: '2 2' },
  ]);
  return frame(t.reachTitle, t.reachDesc, 'reach', body);
}

const ROLL_COLOURS = { safe: '#1b5e20', needHelp: '#b00020', notOnSite: '#5f4b00', none: '#9e9e9e' } as const;

/** The roll call over time: how many had answered safe, needs help, not on site, and not at all; stacked. */
export function rollCallChart(steps: RollCallStep[], untilMs: number, lang: Lang): string {
  const t = TEXT[lang];
  const total = steps[0] ? steps[0].safe + steps[0].needHelp + steps[0].notOnSite + steps[0].none : 0;
  const untilS = Math.max(1, untilMs / 1000, ...steps.map((s) => s.ms / 1000));
  const yTicks = ticks(Math.max(1, total), 4).map((v) => ({ value: v, label: fmt(v) }));
  const a = axes(untilS, yTicks, Math.max(1, total), t.seconds);
  let body = a.body;
  const keys = ['safe', 'needHelp', 'notOnSite', 'none'] as const;
  steps.forEach((s, i) => {
    const x1 = a.x(Math.max(0, s.ms / 1000));
    const x2 = a.x((steps[i + 1]?.ms ?? untilS * 1000) / 1000);
    let base = 0;
    for (const k of keys) {
      const v = s[k];
      if (v > 0 && x2 > x1) {
        body += `<rect x="${x1.toFixed(1)}" y="${a.y(base + v).toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(a.y(base) - a.y(base + v)).toFixed(1)}" fill="${ROLL_COLOURS[k]}"/>`;
      }
      base += v;
    }
  });
  body += legend(keys.map((k) => ({ label: t[k], colour: ROLL_COLOURS[k] })));
  return frame(t.rollTitle, t.rollDesc, 'rollcall', body);
}

/** Bars with their values written on them: the statistics page's charts. */
export function barChart(id: string, title: string, desc: string, bars: { label: string; value: number | null; text: string }[], max: number): string {
  const n = Math.max(1, bars.length);
  const slot = PW / n;
  const y = (v: number) => M.top + PH - (max === 0 ? 0 : (v / max) * PH);
  let body = `<line x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#222222" stroke-width="1"/>`;
  bars.forEach((b, i) => {
    const w = Math.min(slot * 0.7, 60);
    const x = M.left + i * slot + (slot - w) / 2;
    if (b.value !== null) {
      body += `<rect x="${x.toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${w.toFixed(1)}" height="${(M.top + PH - y(b.value)).toFixed(1)}" fill="${COLOURS.reached}"/>`;
    }
    body += `<text x="${(x + w / 2).toFixed(1)}" y="${(b.value === null ? M.top + PH - 4 : y(b.value) - 4).toFixed(1)}" ${FONT} font-size="11" text-anchor="middle" fill="#111111">${escapeXml(b.text)}</text>`;
    body += `<text x="${(x + w / 2).toFixed(1)}" y="${M.top + PH + 16}" ${FONT} font-size="10" text-anchor="middle" fill="#222222">${escapeXml(b.label)}</text>`;
  });
  return frame(title, desc, id, body);
}
