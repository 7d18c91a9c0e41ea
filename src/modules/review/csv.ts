/**
 * CSV for spreadsheets: UTF-8 with a byte order mark (so Excel reads å, ä, ö), semicolons by default
 * (Swedish Excel's list separator), CRLF line ends. A text cell that a spreadsheet would take for a
 * formula (=, +, -, @, tab, carriage return first) gets a leading apostrophe (OWASP's CSV injection advice).
 */

export type Cell = string | number | boolean | null;
export const SEPARATORS = { semicolon: ';', comma: ',', tab: '\t' } as const;
export type Separator = keyof typeof SEPARATORS;

const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralise(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function cell(value: Cell, sep: string): string {
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = neutralise(value);
  return text.includes(sep) || /["\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: string[], rows: Cell[][], separator: Separator): string {
  const sep = SEPARATORS[separator];
  return `\uFEFF${[header, ...rows].map((r) => r.map((v) => cell(v, sep)).join(sep)).join('\r\n')}\r\n`;
}
