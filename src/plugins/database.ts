import fp from 'fastify-plugin';
import { createPool, type Db } from '../db/pool.js';
import { adviseOnSettings } from '../db/settings.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
}

/** Decorates `app.db`, the node's PostgreSQL pool, says once what in its settings holds up alarms, and closes it with the app. */
export default fp<{ connectionString: string }>(async (app, opts) => {
  const pool = createPool(opts.connectionString, app.config, app.log);
  app.decorate('db', pool);
  app.addHook('onReady', () => adviseOnSettings(pool, app.log));
  app.addHook('onClose', async () => {
    await pool.end();
  });
}, { name: 'database', dependencies: ['config'] });
