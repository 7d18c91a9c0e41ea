import pg from 'pg';
import type { Log } from '../lib/log.js';
import type { Config } from '../config/config.js';

export type Db = pg.Pool;
export type Tx = pg.PoolClient;
/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** Count columns come back as strings from pg; bigint ids stay strings on purpose (no precision loss). */
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export function createPool(connectionString: string, config: Config, log: Log): Db {
  const pool = new pg.Pool({
    connectionString,
    max: config.DATABASE_POOL_MAX,
    connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
    statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    application_name: 'samlarm',
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it kills the process.
  pool.on('error', (err) => {
    // 57P01: the server is shutting down (ours, when the node stops an embedded PostgreSQL, or an operator's).
    if ((err as { code?: string }).code === '57P01') log.info({ code: '57P01' }, 'idle database connection closed by the server');
    else log.warn({ err }, 'idle database connection failed');
  });
  // A client in use is not covered by that: when Postgres goes away mid-transaction, the query fails
  // (and the request answers database_unavailable), then the client emits 'error' too, which must not kill the process.
  pool.on('connect', (client) => client.on('error', (err) => log.debug({ err }, 'database connection in use failed')));
  return pool;
}

/** Runs `work` in a transaction and commits, or rolls back on any error. */
export async function inTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
