/**
 * The error catalogue: every error a client can see, with its stable machine code, HTTP status and
 * a human message in Swedish and English. Clients branch on `code`, never on `message`; the message
 * is in the caller's language (see `errorLanguage`), ready to show.
 */
export const ERRORS = {
  validation_failed: { status: 400, sv: 'Förfrågan är inte giltig.', en: 'The request is not valid.' },
  invalid_json: { status: 400, sv: 'Förfrågans innehåll är inte giltig JSON.', en: 'The request body is not valid JSON.' },
  invalid_reference: {
    status: 400,
    sv: 'Förfrågan hänvisar till något som inte finns eller inte är ditt.',
    en: 'The request refers to something that does not exist or is not yours.',
  },
  unauthenticated: { status: 401, sv: 'Logga in först.', en: 'Sign in first.' },
  invalid_credentials: { status: 401, sv: 'Fel e-postadress eller lösenord.', en: 'Wrong e-mail address or password.' },
  forbidden: { status: 403, sv: 'Du har inte behörighet att göra detta.', en: 'You are not allowed to do this.' },
  role_not_grantable: { status: 403, sv: 'Du får inte ge den här rollen.', en: 'You may not grant this role.' },
  not_found: { status: 404, sv: 'Hittades inte.', en: 'Not found.' },
  email_taken: { status: 409, sv: 'E-postadressen används redan.', en: 'Someone already uses this e-mail address.' },
  conflict: { status: 409, sv: 'Förfrågan krockar med det nuvarande läget.', en: 'The request conflicts with the current state.' },
  builtin_immutable: { status: 409, sv: 'Inbyggda larmtyper kan inte ändras.', en: 'Built-in alarm types cannot be changed.' },
  contradicts_instruction: {
    status: 409,
    sv: 'Larmet säger emot det personalen på platsen har blivit tillsagd att göra. Bekräfta för att larma ändå; alla ser ändringen.',
    en: 'This alarm contradicts what staff at the site have been told to do. Confirm to raise it anyway; everyone will see the change.',
  },
  incident_ended: { status: 409, sv: 'Larmet är redan avslutat.', en: 'The incident has already ended.' },
  push_endpoint_not_allowed: { status: 400, sv: 'Den här push-adressen är inte tillåten.', en: 'This push endpoint is not allowed.' },
  too_many_devices: {
    status: 409,
    sv: 'Du har för många enheter registrerade för larm. Logga ut från en enhet du inte använder och försök igen.',
    en: 'You have too many devices registered for alarms. Sign out of a device you no longer use, then try again.',
  },
  no_push_subscription: {
    status: 409,
    sv: 'Enheten tar inte emot push. Slå på notiser först.',
    en: 'This device has no push subscription. Turn on notifications first.',
  },
  real_alarm_active: {
    status: 409,
    sv: 'Ett skarpt larm pågår på platsen: inga övningar förrän faran är över.',
    en: 'A real alarm is active at this site: no drills until all clear.',
  },
  body_too_large: { status: 413, sv: 'Förfrågan är för stor.', en: 'The request body is too large.' },
  unsupported_media_type: { status: 415, sv: 'Skicka JSON (Content-Type: application/json).', en: 'Send JSON (Content-Type: application/json).' },
  account_locked: { status: 429, sv: 'För många misslyckade inloggningar. Försök igen senare.', en: 'Too many failed sign-ins. Try again later.' },
  rate_limited: { status: 429, sv: 'För många förfrågningar. Vänta lite.', en: 'Too many requests. Slow down.' },
  internal_error: { status: 500, sv: 'Något gick fel hos oss.', en: 'Something went wrong on our side.' },
  database_unavailable: {
    status: 503,
    sv: 'Databasen går inte att nå. Är det en nödsituation: ring 112.',
    en: 'The database is unavailable. If this is an emergency, call 112.',
  },
  not_ready: { status: 503, sv: 'Tjänsten är inte redo.', en: 'The service is not ready.' },
  try_again: {
    status: 503,
    sv: 'Ändringen krockade med en annan i samma ögonblick och gjordes inte. Skicka den igen. Är det en nödsituation: ring 112.',
    en: 'The change met another one at the same moment and was not made. Send it again. If this is an emergency, call 112.',
  },
  // Links between organisations (docs/linking.md).
  link_status_conflict: {
    status: 409,
    sv: 'Samverkansavtalet har inte den status som krävs för detta.',
    en: 'The link does not have the status this needs.',
  },
  linked_alarm_not_held: {
    status: 409,
    sv: 'Larmet från den andra organisationen väntar inte längre på ert beslut.',
    en: 'The alarm from the other organisation is no longer waiting for your decision.',
  },
  linked_end_needs_reason: {
    status: 400,
    sv: 'Skriv varför ni avslutar larmet innan organisationen som larmade har gett faran över.',
    en: 'Say why you end this alarm before the organisation that raised it has given the all clear.',
  },
} as const satisfies Record<string, { status: number; sv: string; en: string }>;

export type ErrorCode = keyof typeof ERRORS;
export type Language = 'sv' | 'en';
/** A message in both of the UI's languages. */
export interface Bilingual {
  sv: string;
  en: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  /** What to tell the person, in both languages: the catalogue's, or a more precise one. */
  readonly text: Bilingual;

  constructor(code: ErrorCode, text?: Bilingual, details?: unknown) {
    const entry = ERRORS[code];
    super(text?.en ?? entry.en);
    this.code = code;
    this.status = entry.status;
    this.details = details;
    this.text = text ?? { sv: entry.sv, en: entry.en };
  }
}

export const notFound = (): AppError => new AppError('not_found');
export const forbidden = (): AppError => new AppError('forbidden');

/** An error as it leaves the server, over HTTP and over the socket alike. */
export interface WireError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

// Fastify's own errors that are the client's doing.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
};

// Postgres errors that can only come from input our validation let through (a safety net), and transient conflicts.
const PG_CODES: Record<string, ErrorCode> = {
  '23505': 'conflict',
  '23503': 'invalid_reference',
  '22P02': 'validation_failed',
  '23514': 'validation_failed',
  '22001': 'validation_failed',
  // Two transactions met (a deadlock, a serialisation failure): nothing was written, and the same request succeeds
  // if sent again. Never a 500 that a phone would not retry.
  '40P01': 'try_again',
  '40001': 'try_again',
};

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006',
]);

/** True when an error means "the database cannot be reached", as opposed to a bad query. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  // "... is not queryable": pg's answer to a query on a client whose connection has just failed.
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|is not queryable/i.test(err.message);
}

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  validation?: { instancePath: string; message?: string }[];
  validationContext?: string;
}

function catalogued(code: ErrorCode, language: Language, details?: unknown): { status: number; body: WireError } {
  const body: WireError = { code, message: ERRORS[code][language] };
  if (details !== undefined) body.details = details;
  return { status: ERRORS[code].status, body };
}

/**
 * The one mapping from anything thrown to what a client sees, for HTTP answers and socket acks
 * alike: catalogued errors as they are, validation problems with their paths, the client's own
 * mistakes caught by Fastify or (as a safety net) by Postgres, a database that cannot be reached,
 * a transaction that met another; everything else an internal error that says nothing more.
 */
export function toWireError(err: unknown, language: Language): { status: number; body: WireError } {
  if (err instanceof AppError) return { status: err.status, body: { code: err.code, message: err.text[language], ...(err.details === undefined ? {} : { details: err.details }) } };
  const e = (err ?? {}) as ErrorLike;
  if (e.validation) {
    const details = e.validation.map((v) => ({ in: e.validationContext, path: v.instancePath, message: v.message }));
    return catalogued('validation_failed', language, details);
  }
  if (err instanceof SyntaxError && e.statusCode === 400) return catalogued('invalid_json', language);
  const code = typeof e.code === 'string' ? e.code : '';
  const mapped = FASTIFY_CODES[code] ?? PG_CODES[code];
  if (mapped) return catalogued(mapped, language);
  if (e.statusCode === 429) return catalogued('rate_limited', language);
  if (isConnectionError(err)) return catalogued('database_unavailable', language);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return catalogued('validation_failed', language);
  return catalogued('internal_error', language);
}

/** The language of an error message: the signed-in person's, else the one the client asks for, else Swedish. */
export function errorLanguage(personLanguage: Language | undefined, acceptLanguage: string | undefined): Language {
  if (personLanguage) return personLanguage;
  const first = acceptLanguage?.split(',')[0]?.trim().slice(0, 2).toLowerCase();
  return first === 'en' ? 'en' : 'sv';
}
