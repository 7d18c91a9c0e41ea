import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateXML } from 'xmllint-wasm';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

/** Reading what the review exports back, as a spreadsheet, a PDF reader or a CAP consumer would. */

const CAP_XSD = readFileSync(fileURLToPath(new URL('../fixtures/CAP-v1.2.xsd', import.meta.url)), 'utf8');

/** Validates a CAP message against the OASIS CAP 1.2 schema; returns the validator's errors (none: valid). */
export async function capErrors(xml: string): Promise<string[]> {
  const result = await validateXML({ xml: [{ fileName: 'alert.xml', contents: xml }], schema: [{ fileName: 'CAP-v1.2.xsd', contents: CAP_XSD }] });
  return result.valid ? [] : result.errors.map((e) => e.rawMessage);
}

/** The text of each page of a PDF, as pdf.js extracts it. */
export async function pdfPages(pdf: Buffer): Promise<string[]> {
  const doc = await getDocument({ data: new Uint8Array(pdf), useSystemFonts: false, disableFontFace: true, isEvalSupported: false }).promise;
  const pages: string[] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const content = await page.getTextContent();
    pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  await doc.destroy();
  return pages;
}

/** Parses CSV as a spreadsheet would: quoted cells, doubled quotes, CRLF rows; the BOM is checked and dropped. */
export function parseCsv(text: string, separator = ';'): string[][] {
  if (!text.startsWith('\uFEFF')) throw new Error('no UTF-8 byte order mark');
  const body = text.slice(1);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) { row.push(cell); cell = ''; } else if (c === '\r' && body[i + 1] === '\n') {
      row.push(cell); rows.push(row); row = []; cell = ''; i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
