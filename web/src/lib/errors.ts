/** An error answer from the API, over HTTP or in a socket acknowledgement: branch on `code` (src/lib/errors.ts), never on the message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

/** The request never got an answer (offline, server down, our own deadline passed): distinct from an error answer. */
export class NetworkError extends Error {}

/** A socket acknowledgement's error: it carries the code alone (status 0), the same codes as HTTP. */
export const ackError = (error: { code: string; message: string }): ApiError => new ApiError(0, error.code, error.message);

/** The server's "not now" codes (src/lib/errors.ts: 500, 503, 429), as a socket acknowledgement carries them without a status. */
const NOT_NOW = new Set(['internal_error', 'database_unavailable', 'not_ready', 'try_again', 'rate_limited']);

/**
 * The app's one rule for "ask again": no answer at all (offline, the server down or frozen past our
 * deadline), or the server saying "not now" (5xx, 429). Any other answer, a refusal or a validation error,
 * will not change by asking again, and the screen says so instead.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (!(err instanceof ApiError)) return false;
  return err.status >= 500 || err.status === 429 || NOT_NOW.has(err.code);
}
