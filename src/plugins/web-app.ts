import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Paths that belong to the server, never to the web app: unknown ones stay JSON 404s. */
const SERVER_PREFIXES = ['/api/', '/socket.io/', '/docs', '/healthz', '/readyz', '/metrics'];

const NOT_BUILT = `<!doctype html><html lang="sv"><meta charset="utf-8"><title>Samlarm</title>
<body style="font-family:sans-serif;max-width:40rem;margin:2rem auto;line-height:1.5">
<h1>Samlarm: webbappen är inte byggd</h1>
<p>Kör <code>npm run build:web</code> (eller <code>npm start</code>, som bygger den först) och ladda om sidan.</p>
<h1 lang="en">Samlarm: the web app has not been built</h1>
<p lang="en">Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it first) and reload.</p>
<p>API: <a href="/docs">/docs</a></p></body></html>`;

/**
 * Serves the built web app (web/dist) at `/`: hashed assets cached for good, the shell and the service
 * worker revalidated on every load (a stale service worker would keep a stale app alive), and every
 * other browser path answered with the shell so that deep links like /alarm/:id work on reload.
 */
export default fp<{ root?: string }>(async (app, options) => {
  const root = options.root ?? fileURLToPath(new URL('../../web/dist/', import.meta.url));
  const isServerPath = (url: string) => SERVER_PREFIXES.some((p) => url === p.replace(/\/$/, '') || url.startsWith(p));

  if (!existsSync(`${root}/index.html`)) {
    app.log.warn({ root }, 'web app not built: run npm run build:web');
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT));
    return;
  }

  await app.register(fastifyStatic, {
    root,
    // Routes for the files that exist now; everything else falls through to the shell below.
    wildcard: false,
    index: false,
    cacheControl: false,
    schemaHide: true,
    setHeaders: (reply, path) => {
      if (path.includes('/assets/')) {
        reply.header('cache-control', 'public, max-age=31536000, immutable');
        return;
      }
      reply.header('cache-control', 'no-cache');
      if (path.endsWith('/sw.js')) reply.header('service-worker-allowed', '/');
    },
  });

  const shell = (url: string) => (isServerPath(url.split('?')[0] ?? url) ? null : 'index.html');
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const file = shell(request.url);
    if (!file) return reply.callNotFound();
    return reply.header('cache-control', 'no-cache').sendFile(file);
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
}, { name: 'web-app' });
