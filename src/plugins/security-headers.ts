import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';

/**
 * The web app's Content-Security-Policy. The app has no inline script or style (Vite emits files; Preact
 * sets styles through the DOM, which a CSP does not restrict), so everything comes from the service's
 * own origin. The device token lives in localStorage for up to a year: an injected script is the way
 * to steal it, and `script-src 'self'` is the guard. `frame-ancestors 'none'`: no other site may
 * frame the hold-to-raise buttons (click-jacking an alarm).
 */
export const CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  // 'self' covers the same origin's ws:/wss: for Socket.IO.
  'connect-src': ["'self'"],
};

/** The policy as a header value, for the parts that set their own (the OpenAPI UI). */
export function cspHeader(directives: Record<string, string[]>): string {
  return Object.entries(directives).map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}

/** A year, in seconds: what HSTS preload lists and most guides ask for. */
const HSTS_MAX_AGE = 365 * 24 * 3600;

/**
 * Browser security headers on every answer (the app, the API, /docs), through @fastify/helmet, and
 * `Cache-Control: no-store` on every API answer that sets no caching of its own: they carry personal
 * data, and the sign-in answer carries a token.
 */
export default fp(async (app) => {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // Browsers ignore HSTS over plain HTTP, so sending it always is safe, and behind a TLS proxy it
    // pins the browser to HTTPS. Subdomains are the operator's to decide (deploy/nginx.conf shows how).
    strictTransportSecurity: { maxAge: HSTS_MAX_AGE, includeSubDomains: false },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
}, { name: 'security-headers' });
