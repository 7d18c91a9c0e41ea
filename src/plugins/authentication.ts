import fp from 'fastify-plugin';
import { AppError } from '../lib/errors.js';
import type { Principal } from '../modules/auth/policies.js';
import { principalForToken } from '../modules/auth/sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in caller; set on every route that is not marked `config: { public: true }`. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Route needs no session (sign-in, health). */
    public?: boolean;
  }
}

/** Extracts the bearer token: `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

/** Authenticates every route in the scope it is registered in, except those marked public. */
export default fp(async (app) => {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new AppError('unauthenticated');
    const principal = await principalForToken(app.db, app.config, token);
    if (!principal) throw new AppError('unauthenticated', { sv: 'Din inloggning har upphört. Logga in igen.', en: 'Your session has ended. Sign in again.' });
    request.principal = principal;
    request.log = request.log.child({ personId: principal.personId });
  });
}, { name: 'authentication', dependencies: ['database'] });
