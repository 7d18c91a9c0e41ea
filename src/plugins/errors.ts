import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { AppError, errorLanguage, toWireError, type Language } from '../lib/errors.js';

/** The language of errors told to this caller (the signed-in person's, else Accept-Language). */
export const requestLanguage = (request: FastifyRequest): Language =>
  errorLanguage(request.principal?.language, request.headers['accept-language']);

/** The one error handler: every error leaves as `{ code, message, details? }`; 5xx internals stay in the log. */
export default fp(async (app) => {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toWireError(err, requestLanguage(request));
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: body.code, status }, 'request rejected');
    if (status === 503) reply.header('retry-after', '1');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toWireError(new AppError('not_found'), requestLanguage(request));
    return reply.status(status).send(body);
  });
});
