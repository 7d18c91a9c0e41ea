import pg from 'pg';
import type { Log } from '../lib/log.js';
import type { Config } from '../config/config.js';
import { isConnectionError } from '../lib/errors.js';

export type Db = pg.Pool;
export type Tx = pg.PoolClient;
/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** Count columns come back as strings from pg; bigint ids stay strings on purpose (no precision loss). */
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export interface PoolOptions {
  /**
   * The client-side bound on each query (DATABASE_QUERY_TIMEOUT_MS). `false` for a pool whose queries
   * may wait as long as they need: migrations wait for another node's migrations and may build indexes.
   */
  queryTimeout?: boolean;
}

/**
 * The node's pool. Nothing in it waits forever, even on a PostgreSQL that is frozen or cut off without
 * a word (a hung host, a silent network cut: connections stay open and nothing answers): acquiring a
 * connection is bounded (connectionTimeoutMillis), every query is bounded on the server
 * (statement_timeout) and, for a server that no longer runs, on the client (query_timeout), and TCP
 * keepalive finds dead peers on idle connections. The other way round, a node that stalls inside a
 * transaction cannot hold its locks for longer than idle_in_transaction_session_timeout: the server
 * ends that connection and rolls its transaction back (ADR 034).
 */
export function createPool(connectionString: string, config: Config, log: Log, options: PoolOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString,
    max: config.DATABASE_POOL_MAX,
    connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
    statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    ...(options.queryTimeout === false ? {} : { query_timeout: config.DATABASE_QUERY_TIMEOUT_MS }),
    keepAlive: true,
    keepAliveInitialDelayMillis: config.DATABASE_KEEPALIVE_IDLE_MS,
    // Idle connections close, but not the last few: a new backend's first alarm pays for its cold caches (ADR 038).
    min: Math.min(config.DATABASE_POOL_MIN, config.DATABASE_POOL_MAX),
    idleTimeoutMillis: config.DATABASE_POOL_IDLE_TIMEOUT_MS,
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

/** The database did not finish in time: as far as the caller is concerned, it is unavailable. */
export class DatabaseDeadlineError extends Error {
  readonly code = 'SAMLARM_DB_DEADLINE';
  constructor(ms: number) {
    super(`the database did not answer within the deadline of ${ms} ms`);
  }
}

/**
 * Runs `work` under a deadline: after `ms` the returned promise rejects with DatabaseDeadlineError
 * (which answers `503 database_unavailable`) and `signal` aborts, so the work can let go of what it
 * holds. The work itself is not stopped; `inTransaction` uses the signal to end its connection.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DatabaseDeadlineError(ms);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface TransactionOptions {
  /**
   * A deadline for the whole transaction: acquiring a connection, every query and the commit. When it
   * passes, the answer is DatabaseDeadlineError at once and the connection is ended, so the transaction
   * rolls back on the server instead of committing later behind the caller's back. Only a COMMIT the
   * server had already received can still take effect: an idempotent caller (a press id) finds it on retry.
   */
  deadlineMs?: number;
}

/** Runs `work` in a transaction and commits, or rolls back on any error. */
export async function inTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  if (options.deadlineMs === undefined) return runTransaction(db, work);
  return withDeadline(options.deadlineMs, (signal) => runTransaction(db, work, signal));
}

async function runTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const client = await db.connect();
  let released = false;
  /** Back to the pool; with an error, the connection is ended instead (the server rolls back what it had). */
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  if (signal?.aborted) {
    release();
    throw signal.reason;
  }
  const onAbort = () => release(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that failed or timed out is in an unknown state (a timed-out query may still be running
    // on it, its transaction still open): end it rather than reuse it, where a later COMMIT would take its
    // half-done work along. A ROLLBACK sent on it would only wait for another timeout.
    if (isConnectionError(err)) {
      release(err as Error);
      throw err;
    }
    const rollback = await client.query('ROLLBACK').then(() => undefined, (rollbackErr: unknown) => rollbackErr as Error);
    release(rollback);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    release();
  }
}
