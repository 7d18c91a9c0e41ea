import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorLanguage, toWireError, type Language } from '../lib/errors.js';

/** The language of errors told to this caller (the signed-in person's, else Accept-Language). */
export const requestLanguage = (request: FastifyRequest): Language =>
  errorLanguage(request.principal?.language, request.headers['accept-language']);

function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toWireError(err, requestLanguage(request));
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
  app.setNotFoundHandler((request, reply) => sendError(new AppError('not_found'), request, reply));
});
