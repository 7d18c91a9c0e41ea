import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.js';

/** How the Fastify app serves the built web app: caching, the shell for deep links, API 404s untouched. */
describe('web app: serving web/dist', () => {
  let t: TestApp;
  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run npm run build:web (npm test does)');
    t = await startApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (url: string) => {
    const res = await t.app.inject({ method: 'GET', url });
    return { status: res.statusCode, type: String(res.headers['content-type']), cache: res.headers['cache-control'], headers: res.headers, body: res.body };
  };

  it('serves the shell at / and for deep links such as /alarm/:id, revalidated on every load', async () => {
    for (const url of ['/', '/alarm/6f1c1d8e-8d0c-4d7e-9d1f-1d2a3b4c5d6e', '/admin/groups/x?y=1']) {
      const res = await get(url);
      expect(res.status).toBe(200);
      expect(res.type).toContain('text/html');
      expect(res.cache).toBe('no-cache');
      expect(res.body).toContain('<div id="app">');
    }
  });

  it('serves hashed assets as immutable and the service worker as no-cache with scope /', async () => {
    const asset = readdirSync('web/dist/assets').find((f) => f.endsWith('.js'));
    const js = await get(`/assets/${asset}`);
    expect(js.status).toBe(200);
    expect(js.cache).toBe('public, max-age=31536000, immutable');
    const sw = await get('/sw.js');
    expect(sw.status).toBe(200);
    expect(sw.cache).toBe('no-cache');
    expect(sw.headers['service-worker-allowed']).toBe('/');
    expect((await get('/manifest.webmanifest')).status).toBe(200);
  });

  it('leaves unknown API paths as JSON 404s, not the shell', async () => {
    const res = await get('/api/v1/no-such-thing');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'not_found' });
  });
});
