import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorResponse } from '../lib/schemas.js';
import { CSP_DIRECTIVES, cspHeader } from './security-headers.js';

/**
 * Swagger UI is script files too, but it adds a <style> element of its own at run time: the app's
 * policy with inline styles allowed, on /docs only (no script can come in that way).
 */
const DOCS_CSP = cspHeader({ ...CSP_DIRECTIVES, 'style-src': ["'self'", "'unsafe-inline'"] });

/** The OpenAPI reference, generated from the routes' TypeBox schemas: UI at /docs, JSON at /docs/json. */
export default fp(async (app) => {
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Samlarm API',
        description:
          'Safety alerting for schools. Every error is `{ code, message, details? }` with a stable `code`. ' +
          'Authenticate with `Authorization: Bearer <token>` from `POST /api/v1/auth/login`.',
        version: '1',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP, uiConfig: { validatorUrl: null } });
}, { name: 'openapi' });
