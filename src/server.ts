import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { buildApp } from './app.js';
import { databaseTarget } from './db/connect.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { missingGcFlags } from './lib/gc-flags.js';
import type { Log } from './lib/log.js';
import { DEMO_PASSWORD, demoAccounts, seedDemo } from './seed/demo.js';

/**
 * A repeated signal this soon after the first is the same request to stop: Ctrl-C at a terminal reaches
 * the node directly and again through `npm start`, which passes signals on. A later one forces the exit.
 */
const SAME_SIGNAL_MS = 1000;

/**
 * Stops the node on SIGTERM, SIGINT or a crash: `close` runs once, bounded by SHUTDOWN_GRACE_MS; then
 * the process exits (0 after a signal, 1 after a crash or a timeout).
 */
function handleShutdown(config: Config, log: Log, close: () => Promise<void>): void {
  let startedAt: number | undefined;
  const exit = (code: number) => process.exit(code);
  const begin = (reason: { signal?: NodeJS.Signals; err?: unknown }) => {
    if (startedAt !== undefined) {
      if (reason.err) log.error({ err: reason.err }, 'error while shutting down');
      if (reason.signal && Date.now() - startedAt > SAME_SIGNAL_MS) {
        log.warn({ signal: reason.signal }, 'second signal: exiting now');
        exit(1);
      }
      return;
    }
    startedAt = Date.now();
    if (reason.err) log.error({ err: reason.err }, 'shutting down after an error');
    else log.info({ signal: reason.signal }, 'shutting down');
    setTimeout(() => {
      log.error({ graceMs: config.SHUTDOWN_GRACE_MS }, 'shutdown took longer than SHUTDOWN_GRACE_MS: exiting now');
      exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    close().then(() => exit(reason.err ? 1 : 0), (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      exit(1);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => begin({ signal }));
  process.on('uncaughtException', (err) => begin({ err }));
  process.on('unhandledRejection', (err) => begin({ err }));
}

/** Migrations on a pool of their own without the client-side query timeout: they may wait for another node's, or build an index. */
async function migrateOnStart(connectionString: string, config: Config, log: Log): Promise<void> {
  const pool = createPool(connectionString, config, log, { queryTimeout: false });
  try {
    await migrate(pool, log);
  } finally {
    await pool.end();
  }
}

/** Starts one Samlarm node: database, migrations, demo seed, HTTP; and shuts it down gracefully. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = pino({ level: config.LOG_LEVEL });
  const missing = missingGcFlags();
  if (missing.length) {
    log.warn(
      { missing },
      'started without the garbage collector flags that npm start and the Dockerfile pass: alarms meet major collections more often (ADR 041)',
    );
  }
  const database = await databaseTarget(config, log);
  // Whatever way the process ends (a failed start, a shutdown past its grace period), an embedded
  // PostgreSQL it started ends with it instead of running on without a parent.
  process.on('exit', () => database.kill());
  const app = await buildApp({ config, connectionString: database.connectionString });

  handleShutdown(config, app.log, async () => {
    // Readiness fails and new socket connections are refused from here on; open ones are dropped
    // without a disconnect packet so devices reconnect, through the load balancer, to another node.
    app.lifecycle.draining = true;
    app.io.server.engine.close();
    await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS));
    await app.close();
    await database.stop();
  });

  if (config.MIGRATE_ON_START) await migrateOnStart(database.connectionString, config, app.log);
  const seed = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && database.embedded);
  if (seed && (await seedDemo(app.db))) {
    app.log.info('demo organisations seeded');
  }
  if (seed) {
    console.log(`\nDemo accounts (password "${DEMO_PASSWORD}"):\n  ${demoAccounts().join('\n  ')}\n`);
  }
  const address = await app.listen({ host: config.HOST, port: config.PORT, backlog: config.LISTEN_BACKLOG });
  app.log.info({ address, embeddedPostgres: database.embedded, redis: Boolean(config.REDIS_URL) }, 'samlarm listening');
}

main().catch((err: unknown) => {
  console.error('samlarm failed to start:', err);
  process.exit(1);
});
