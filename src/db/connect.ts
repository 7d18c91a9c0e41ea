import type { Log } from '../lib/log.js';
import type { Config } from '../config/config.js';
import { startEmbeddedPostgres } from './embedded.js';

export interface DatabaseTarget {
  connectionString: string;
  embedded: boolean;
  stop(): Promise<void>;
  /** Stops an embedded PostgreSQL at once, synchronously (a process exiting without its graceful shutdown); nothing otherwise. */
  kill(): void;
}

/** DATABASE_URL when given; otherwise the embedded PostgreSQL, started (and initialised) on demand. */
export async function databaseTarget(config: Config, log: Log): Promise<DatabaseTarget> {
  if (config.DATABASE_URL) {
    return { connectionString: config.DATABASE_URL, embedded: false, stop: async () => undefined, kill: () => undefined };
  }
  const handle = await startEmbeddedPostgres({ dataDir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, log });
  return { connectionString: handle.connectionString, embedded: true, stop: handle.stop, kill: handle.kill };
}
