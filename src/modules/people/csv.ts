import { parse } from 'csv-parse/sync';
import { AppError } from '../../lib/errors.js';

/** The columns an import understands, whatever the file calls them. */
export type StaffColumn = 'email' | 'name' | 'firstName' | 'lastName' | 'phone' | 'site' | 'role' | 'language';

/** Header names as HR and directory exports spell them, Swedish and English, compared in lower case. */
const ALIASES: Record<StaffColumn, string[]> = {
  email: ['email', 'e-mail', 'e-post', 'epost', 'mail', 'e-postadress', 'epostadress', 'email address', 'e-mail address', 'emailaddress'],
  name: ['name', 'namn', 'full name', 'fullständigt namn', 'displayname', 'display name', 'visningsnamn'],
  firstName: ['förnamn', 'fornamn', 'first name', 'firstname', 'given name', 'givenname'],
  lastName: ['efternamn', 'last name', 'lastname', 'surname', 'family name'],
  phone: ['phone', 'telefon', 'mobil', 'mobile', 'mobilnummer', 'telefonnummer', 'phone number', 'mobile phone', 'mobiltelefon'],
  site: ['site', 'sites', 'enhet', 'enheter', 'verksamhet', 'skola', 'arbetsplats', 'workplace', 'school'],
  role: ['role', 'roles', 'roll', 'roller'],
  language: ['language', 'språk', 'sprak', 'lang'],
};

export const MAX_IMPORT_ROWS = 5000;

export interface StaffRow {
  /** The line in the file (the header is line 1), for the admin to find the row. */
  line: number;
  cells: Partial<Record<StaffColumn, string>>;
}

export interface StaffCsv {
  columns: StaffColumn[];
  /** Header cells that name no column the import understands: shown, never guessed at. */
  ignoredColumns: string[];
  rows: StaffRow[];
}

const columnOf = (header: string): StaffColumn | null => {
  const key = header.trim().toLowerCase().replace(/\s+/g, ' ');
  for (const [column, names] of Object.entries(ALIASES) as [StaffColumn, string[]][]) {
    if (names.includes(key)) return column;
  }
  return null;
};

/** The delimiter the header line uses most outside quotes: exports from Swedish Excel use ';', most others ','. */
function delimiterOf(text: string): string {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  let quoted = false;
  const counts: Record<string, number> = { ';': 0, ',': 0, '\t': 0 };
  for (const c of firstLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && c in counts) counts[c] = (counts[c] ?? 0) + 1;
  }
  return Object.entries(counts).sort((a, b) => b[1] - a[1])[0]?.[0] ?? ',';
}

/** The request body as text: UTF-8 only (a file saved in another encoding is refused, never misread). */
export function decodeCsvBody(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new AppError('csv_invalid', { sv: 'Filen är inte UTF-8-text. Spara den som "CSV UTF-8" och försök igen.', en: 'The file is not UTF-8 text. Save it as "CSV UTF-8" and try again.' });
  }
}

/**
 * Reads a staff list: UTF-8 with or without a byte order mark, `;`, `,` or tab between columns, a
 * header row naming the columns (in any order; see ALIASES), then one person per line. Refuses what
 * is not such a file with 400 csv_invalid; judging each row is the import's business.
 */
export function parseStaffCsv(body: string): StaffCsv {
  const text = body.replace(/^\uFEFF/, '');
  if (text.includes('\u0000')) throw new AppError('csv_invalid', { sv: 'Filen innehåller NUL-tecken: det är ingen textfil.', en: 'The file contains NUL characters: it is not a text file.' });
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: delimiterOf(text), relax_column_count: true, skip_empty_lines: true, trim: true, max_record_size: 10_000, info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw new AppError('csv_invalid', undefined, { reason: err instanceof Error ? err.message.slice(0, 200) : 'unreadable' });
  }
  const header = records[0]?.record;
  const data = records.slice(1);
  if (!header) throw new AppError('csv_invalid', { sv: 'Filen är tom.', en: 'The file is empty.' });
  if (data.length > MAX_IMPORT_ROWS) throw new AppError('csv_invalid', { sv: `Högst ${MAX_IMPORT_ROWS} personer per fil.`, en: `At most ${MAX_IMPORT_ROWS} people per file.` });
  const mapped = header.map(columnOf);
  const columns = [...new Set(mapped.filter((c): c is StaffColumn => c !== null))];
  const hasName = columns.includes('name') || (columns.includes('firstName') && columns.includes('lastName'));
  if (!columns.includes('email') || !hasName) {
    throw new AppError('csv_invalid', { sv: 'Rubrikraden måste ha en kolumn för e-post och en för namn (eller förnamn och efternamn).', en: 'The header row must name an e-mail column and a name column (or first and last name).' }, {
      header: header.slice(0, 50), missing: [...(columns.includes('email') ? [] : ['email']), ...(hasName ? [] : ['name'])],
    });
  }
  const ignoredColumns = header.filter((_, i) => mapped[i] === null).slice(0, 50);
  const rows = data.map(({ record, info }) => {
    const cells: Partial<Record<StaffColumn, string>> = {};
    record.forEach((value, j) => {
      const column = mapped[j];
      if (column && value !== '' && cells[column] === undefined) cells[column] = value;
    });
    // The line the record ends on (csv-parse skips empty lines, and a quoted cell may span lines).
    return { line: info.lines, cells };
  });
  return { columns, ignoredColumns, rows };
}
