import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config/config.js';
import { buildApp } from './app.js';
import { databaseTarget } from './db/connect.js';
import { migrate } from './db/migrate.js';
import { DEMO_PASSWORD, demoAccounts, seedDemo } from './seed/demo.js';

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
  const database = await databaseTarget(config, log);
  const app = await buildApp({ config, connectionString: database.connectionString });

  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    // Readiness fails and new socket connections are refused from here on; open ones are dropped
    // without a disconnect packet so devices reconnect, through the load balancer, to another node.
    app.lifecycle.draining = true;
    app.io.server.engine.close();
    await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS));
    await app.close();
    await database.stop();
  });

  if (config.MIGRATE_ON_START) await migrate(app.db, app.log);
  const seed = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && database.embedded);
  if (seed && (await seedDemo(app.db))) {
    app.log.info('demo organisations seeded');
  }
  if (seed) {
    console.log(`\nDemo accounts (password "${DEMO_PASSWORD}"):\n  ${demoAccounts().join('\n  ')}\n`);
  }
  const address = await app.listen({ host: config.HOST, port: config.PORT });
  app.log.info({ address, embeddedPostgres: database.embedded, redis: Boolean(config.REDIS_URL) }, 'samlarm listening');
}

main().catch((err: unknown) => {
  console.error('samlarm failed to start:', err);
  process.exit(1);
});
