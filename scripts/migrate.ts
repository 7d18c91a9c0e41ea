import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { databaseTarget } from '../src/db/connect.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded default) and exits. */
const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL });
const database = await databaseTarget(config, log);
// No client-side query timeout: migrations may wait for another node's, or build an index.
const pool = createPool(database.connectionString, config, log, { queryTimeout: false });
try {
  const applied = await migrate(pool, log);
  log.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
} finally {
  await pool.end();
  await database.stop();
}
