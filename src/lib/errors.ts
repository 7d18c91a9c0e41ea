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
  // Hardening (issue 14).
  json_too_deep: { status: 400, sv: 'Förfrågans innehåll är för djupt kapslat.', en: 'The request body nests arrays or objects too deeply.' },
  bad_url: { status: 400, sv: 'Förfrågans adress är inte giltig.', en: 'The address of the request is not valid.' },
  url_too_long: { status: 414, sv: 'En del av förfrågans adress är för lång.', en: 'A part of the address of the request is too long.' },
  // Post-incident review (src/modules/review).
  review_stale: {
    status: 409,
    sv: 'Någon sparade efterarbetet efter att du öppnade det. Läs in det igen för att se deras version och gör sedan din ändring igen; varje version sparas.',
    en: 'Someone saved the review record after you opened it. Reload it to see their revision, then make your change again; every revision is kept.',
  },
  review_closed: {
    status: 409,
    sv: 'Efterarbetet är godkänt och stängt. Öppna det igen för att ändra det.',
    en: 'The review record is signed off. Reopen it to change it.',
  },
  // Administration and sign-in with the organisation's own accounts (issue 12).
  csv_invalid: {
    status: 400,
    sv: 'Filen gick inte att läsa som CSV (UTF-8, en rubrikrad, ; eller , mellan kolumnerna).',
    en: 'The file could not be read as CSV (UTF-8, a header row, ; or , between columns).',
  },
  link_invalid: {
    status: 400,
    sv: 'Länken fungerar inte: den är använd, har gått ut eller är ofullständig. Be om en ny.',
    en: 'This link does not work: it has been used, has expired or is incomplete. Ask for a new one.',
  },
  password_sign_in_disabled: {
    status: 403,
    sv: 'Din organisation loggar in med sina egna konton. Använd den knappen i stället.',
    en: 'Your organisation signs in with its own accounts. Use that button instead.',
  },
  account_deactivated: { status: 403, sv: 'Kontot är inaktiverat. Kontakta din administratör.', en: 'This account is deactivated. Ask your administrator.' },
  oidc_not_configured: {
    status: 409,
    sv: 'Inloggning med organisationens konton är inte inställd.',
    en: 'Sign-in with this organisation\'s accounts is not set up.',
  },
  oidc_state_invalid: {
    status: 400,
    sv: 'Inloggningen startades inte här, har gått ut eller är redan använd. Börja om.',
    en: 'This sign-in was not started here, has expired or was already used. Start again.',
  },
  oidc_nonce_mismatch: {
    status: 400,
    sv: 'Svaret från inloggningstjänsten hör inte till den här inloggningen. Börja om.',
    en: 'The sign-in answer does not belong to this sign-in. Start again.',
  },
  oidc_failed: {
    status: 400,
    sv: 'Organisationens inloggningstjänst nekade inloggningen (en kod som gått ut eller redan använts). Börja om.',
    en: 'The organisation\'s sign-in service refused the sign-in (an expired or used code). Start again.',
  },
  oidc_provider_unavailable: {
    status: 502,
    sv: 'Organisationens inloggningstjänst går inte att nå. Logga in med lösenord eller försök igen senare.',
    en: 'The organisation\'s sign-in service cannot be reached. Sign in with a password, or try again later.',
  },
  oidc_no_account: {
    status: 403,
    sv: 'Det finns inget Samlarm-konto för dig i den här organisationen. Be din administratör lägga till dig.',
    en: 'There is no Samlarm account for you in this organisation. Ask your administrator to add you.',
  },
  oidc_other_organisation: {
    status: 403,
    sv: 'Ditt Samlarm-konto hör till en annan organisation. Logga in via den organisationen.',
    en: 'Your Samlarm account belongs to another organisation. Sign in through that organisation.',
  },
  oidc_subject_mismatch: {
    status: 403,
    sv: 'Ditt Samlarm-konto är kopplat till ett annat konto hos inloggningstjänsten. Kontakta din administratör.',
    en: 'Your Samlarm account is linked to another account at the sign-in service. Ask your administrator.',
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
  FST_ERR_BAD_URL: 'bad_url',
  FST_ERR_MAX_PARAM_LENGTH: 'url_too_long',
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
  // The statement timeout: the database did not answer in time, which for a caller is the same as not at all.
  '57014': 'database_unavailable',
};

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'SAMLARM_DB_DEADLINE',
  // 25P03: the server ended a transaction left idle too long (a node that stalled in it).
  '25P03', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006',
]);

/** True when an error means "the database cannot be reached (in time)", as opposed to a bad query. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  // "... is not queryable": pg's answer to a query on a client whose connection has just failed.
  // "Query read timeout": pg's query_timeout, a server that does not answer at all.
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|is not queryable|Query read timeout/i
    .test(err.message);
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
