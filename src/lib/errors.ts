/**
 * The error catalogue: every error a client can see, with its stable machine code, HTTP status and
 * a human message. Clients branch on `code`, never on `message`.
 */
export const ERRORS = {
  validation_failed: { status: 400, message: 'The request is not valid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_reference: { status: 400, message: 'The request refers to something that does not exist or is not yours.' },
  unauthenticated: { status: 401, message: 'Sign in first.' },
  invalid_credentials: { status: 401, message: 'Wrong e-mail address or password.' },
  forbidden: { status: 403, message: 'You are not allowed to do this.' },
  role_not_grantable: { status: 403, message: 'You may not grant this role.' },
  not_found: { status: 404, message: 'Not found.' },
  email_taken: { status: 409, message: 'Someone already uses this e-mail address.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  builtin_immutable: { status: 409, message: 'Built-in alarm types cannot be changed.' },
  contradicts_instruction: {
    status: 409,
    message: 'This alarm contradicts what staff at the site have been told to do. Confirm to raise it anyway; everyone will see the change.',
  },
  incident_ended: { status: 409, message: 'The incident has already ended.' },
  push_endpoint_not_allowed: { status: 400, message: 'This push endpoint is not allowed.' },
  too_many_devices: {
    status: 409,
    message: 'You have too many devices registered for alarms. Sign out of a device you no longer use, then try again.',
  },
  no_push_subscription: { status: 409, message: 'This device has no push subscription. Turn on notifications first.' },
  real_alarm_active: { status: 409, message: 'A real alarm is active at this site: no drills until all clear.' },
  body_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send JSON (Content-Type: application/json).' },
  account_locked: { status: 429, message: 'Too many failed sign-ins. Try again later.' },
  rate_limited: { status: 429, message: 'Too many requests. Slow down.' },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
  database_unavailable: { status: 503, message: 'The database is unavailable. If this is an emergency, call 112.' },
  not_ready: { status: 503, message: 'The service is not ready.' },
  try_again: { status: 503, message: 'The change met another one at the same moment and was not made. Send it again. If this is an emergency, call 112.' },
  // Administration and sign-in with the organisation's own accounts (issue 12).
  csv_invalid: { status: 400, message: 'The file could not be read as CSV (UTF-8, a header row, ; or , between columns).' },
  link_invalid: { status: 400, message: 'This link does not work: it has been used, has expired or is incomplete. Ask for a new one.' },
  password_sign_in_disabled: { status: 403, message: 'Your organisation signs in with its own accounts. Use that button instead.' },
  account_deactivated: { status: 403, message: 'This account is deactivated. Ask your administrator.' },
  oidc_not_configured: { status: 409, message: 'Sign-in with this organisation\'s accounts is not set up.' },
  oidc_state_invalid: { status: 400, message: 'This sign-in was not started here, has expired or was already used. Start again.' },
  oidc_nonce_mismatch: { status: 400, message: 'The sign-in answer does not belong to this sign-in. Start again.' },
  oidc_failed: { status: 400, message: 'The organisation\'s sign-in service refused the sign-in (an expired or used code). Start again.' },
  oidc_provider_unavailable: { status: 502, message: 'The organisation\'s sign-in service cannot be reached. Sign in with a password, or try again later.' },
  oidc_no_account: { status: 403, message: 'There is no Samlarm account for you in this organisation. Ask your administrator to add you.' },
  oidc_other_organisation: { status: 403, message: 'Your Samlarm account belongs to another organisation. Sign in through that organisation.' },
  oidc_subject_mismatch: { status: 403, message: 'Your Samlarm account is linked to another account at the sign-in service. Ask your administrator.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERRORS[code].message);
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }
}

export const notFound = (): AppError => new AppError('not_found');
export const forbidden = (): AppError => new AppError('forbidden');
