import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, type ErrorCode } from '../lib/errors.js';
import { isConnectionError } from '../db/pool.js';

interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

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

function toBody(err: FastifyError | AppError | Error): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    const body: ErrorBody = { code: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    return { status: err.status, body };
  }
  const fastifyError = err as FastifyError;
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((v) => ({
      in: fastifyError.validationContext,
      path: v.instancePath,
      message: v.message,
    }));
    return { status: 400, body: { code: 'validation_failed', message: ERRORS.validation_failed.message, details } };
  }
  if (err instanceof SyntaxError && fastifyError.statusCode === 400) {
    return { status: 400, body: { code: 'invalid_json', message: ERRORS.invalid_json.message } };
  }
  const mapped = (fastifyError.code && FASTIFY_CODES[fastifyError.code]) || (fastifyError.code && PG_CODES[fastifyError.code]);
  if (mapped) return { status: ERRORS[mapped].status, body: { code: mapped, message: ERRORS[mapped].message } };
  if (fastifyError.statusCode === 429) return { status: 429, body: { code: 'rate_limited', message: err.message || ERRORS.rate_limited.message } };
  if (isConnectionError(err)) {
    return { status: 503, body: { code: 'database_unavailable', message: ERRORS.database_unavailable.message } };
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, body: { code: 'validation_failed', message: ERRORS.validation_failed.message } };
  }
  return { status: 500, body: { code: 'internal_error', message: ERRORS.internal_error.message } };
}

function sendError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toBody(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: body.code, status }, 'request rejected');
  if (status === 503) reply.header('retry-after', '1');
  return reply.status(status).send(body);
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any route or hook runs (bad
 * percent-encoding, an over-long path parameter). Without it Fastify answers with its own body, which
 * echoes the URL back and carries no code of ours.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(err, request, reply);
}

/** The one error handler: every error leaves as `{ code, message, details? }`; 5xx internals stay in the log. */
export default fp(async (app) => {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send({ code: 'not_found', message: ERRORS.not_found.message }),
  );
});
