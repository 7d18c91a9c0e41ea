import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { databaseTarget } from '../src/db/connect.js';
import { createPool } from '../src/db/pool.js';
import { startNewEpoch } from '../src/modules/alarms/events.js';

/**
 * `npm run db:new-epoch`: the last step of restoring the database from a backup (ADR 029). The restored
 * timeline reuses event ids that devices already hold as cursors; a new epoch makes every device resync
 * instead of skipping the events behind those ids. Harmless at any other time: devices resync once.
 */
const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL });
const database = await databaseTarget(config, log);
const pool = createPool(database.connectionString, config, log);
try {
  log.info({ epoch: await startNewEpoch(pool) }, 'new timeline epoch: every device resyncs on its next catch-up');
} finally {
  await pool.end();
  await database.stop();
}
