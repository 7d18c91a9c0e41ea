import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { DatabaseDeadlineError, createPool, inTransaction, type Db } from '../src/db/pool.js';
import { isConnectionError } from '../src/lib/errors.js';
import { createTestDatabase } from './helpers/app.js';

/**
 * The pool under a database that stops answering (issue 14): a query that never returns, a pool whose
 * only connection is taken. Nothing waits forever, and a transaction cut off by a timeout or a
 * deadline never commits later, in part or at all, behind its caller's back.
 */
describe('the database pool: bounded waits, nothing half written', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let checker: Db;
  const log = pino({ level: 'silent' });
  const QUERY_TIMEOUT_MS = 500;

  /** One connection, a client-side query timeout far below the server's statement timeout (so only the client's fires). */
  const onePool = (): Db => createPool(database.url, {
    ...loadConfig({ LOG_LEVEL: 'silent', DATABASE_POOL_MAX: '1', DATABASE_CONNECT_TIMEOUT_MS: '5000' }),
    DATABASE_STATEMENT_TIMEOUT_MS: 60_000,
    DATABASE_QUERY_TIMEOUT_MS: QUERY_TIMEOUT_MS,
  }, log);

  const marks = async (): Promise<string[]> => (await checker.query<{ mark: string }>('SELECT mark FROM pool_marks ORDER BY mark')).rows.map((r) => r.mark);

  /** A transaction on `pool` after a failure: it commits, and the marks are exactly what the test expects (nothing left over). */
  const commitsAlone = async (pool: Db, mark: string, expected: string[], options: { deadlineMs?: number } = {}): Promise<void> => {
    await inTransaction(pool, async (tx) => {
      await tx.query('INSERT INTO pool_marks VALUES ($1)', [mark]);
    }, options);
    expect(await marks()).toEqual(expected);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    checker = createPool(database.url, loadConfig({ LOG_LEVEL: 'silent' }), log);
    await checker.query('CREATE TABLE pool_marks (mark text PRIMARY KEY)');
  });

  afterAll(async () => {
    await checker?.end();
    await database?.drop();
  });

  it('a query the database does not answer in time fails as "unavailable", and its transaction is not committed by whoever uses the connection next', async () => {
    const pool = onePool();
    try {
      const failed = await inTransaction(pool, async (tx) => {
        await tx.query("INSERT INTO pool_marks VALUES ('half')");
        await tx.query('SELECT pg_sleep(2)');
      }).then(() => null, (err: unknown) => err);
      expect(failed).toBeInstanceOf(Error);
      expect(isConnectionError(failed)).toBe(true);
      // The slow statement has long finished on the server; the next transaction on this pool commits only its own work.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await commitsAlone(pool, 'next', ['next']);
    } finally {
      await pool.end();
      await checker.query('DELETE FROM pool_marks');
    }
  });

  it('a transaction deadline answers at once when it passes, whether in a query or waiting for a connection, and nothing commits later', async () => {
    const pool = createPool(database.url, loadConfig({ LOG_LEVEL: 'silent', DATABASE_POOL_MAX: '1', DATABASE_CONNECT_TIMEOUT_MS: '10000' }), log);
    try {
      // In a query: the work outlives the deadline and would commit after it.
      const slow = inTransaction(pool, async (tx) => {
        await tx.query("INSERT INTO pool_marks VALUES ('late')");
        await tx.query('SELECT pg_sleep(2)');
      }, { deadlineMs: 300 });
      await expect(slow).rejects.toBeInstanceOf(DatabaseDeadlineError);
      await expect(slow).rejects.toSatisfy(isConnectionError);

      // Waiting for the pool's only connection, which a long transaction holds.
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const holder = inTransaction(pool, async () => {
        holding();
        await released;
      });
      await held;
      const waiting = inTransaction(pool, async (tx) => {
        await tx.query("INSERT INTO pool_marks VALUES ('queued')");
      }, { deadlineMs: 300 });
      await expect(waiting).rejects.toBeInstanceOf(DatabaseDeadlineError);
      release();
      await holder;

      // Long after both deadlines: neither committed, and the pool still works.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await commitsAlone(pool, 'after', ['after'], { deadlineMs: 5000 });
    } finally {
      await pool.end();
      await checker.query('DELETE FROM pool_marks');
    }
  });

  it('a transaction left idle past DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS (its node stalled) is rolled back by the server and lets go of its locks', async () => {
    const pool = createPool(database.url, loadConfig({ LOG_LEVEL: 'silent', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '300' }), log);
    let woke = false;
    try {
      const stalled = inTransaction(pool, async (tx) => {
        await tx.query("INSERT INTO pool_marks VALUES ('stalled')");
        await tx.query('SELECT pg_advisory_xact_lock(4711)');
        // The node's side of the transaction goes quiet, as a frozen process does.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        woke = true;
        await tx.query("INSERT INTO pool_marks VALUES ('woke')");
      });
      const failed = stalled.then(() => null, (err: unknown) => err);
      // Another connection waits for the lock; it gets it once the server ends the stalled transaction, long before the node wakes.
      await checker.query('SELECT pg_advisory_lock(4711)');
      expect(woke, 'the lock was free before the stalled side woke').toBe(false);
      await checker.query('SELECT pg_advisory_unlock(4711)');
      const err = await failed;
      expect(err).toBeInstanceOf(Error);
      expect(isConnectionError(err), String(err)).toBe(true);
      expect(await marks()).toEqual([]);
      // The pool let go of the ended connection and works on.
      await commitsAlone(pool, 'next', ['next']);
    } finally {
      await pool.end();
      await checker.query('DELETE FROM pool_marks');
    }
  });

  it('after a quiet spell past DATABASE_POOL_IDLE_TIMEOUT_MS the pool still holds DATABASE_POOL_MIN of the backends it had, and closes the rest', async () => {
    /** Six connections at once, as an alarm's processors take them; the backends' process ids. */
    const busy = async (pool: Db): Promise<number[]> => {
      const clients = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
      const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number));
      for (const c of clients) c.release();
      return pids;
    };
    const quiet = () => new Promise((resolve) => setTimeout(resolve, 1500));
    const config = (min: string) => loadConfig({ LOG_LEVEL: 'silent', DATABASE_POOL_MAX: '6', DATABASE_POOL_MIN: min, DATABASE_POOL_IDLE_TIMEOUT_MS: '200' });
    const kept = createPool(database.url, config('2'), log);
    const none = createPool(database.url, config('0'), log);
    try {
      const [before] = await Promise.all([busy(kept), busy(none)]);
      await quiet();
      expect(kept.totalCount).toBe(2);
      expect(none.totalCount).toBe(0);
      // The next alarm finds a backend that has worked before, not a new one whose caches are cold.
      const after = (await kept.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      expect(before).toContain(after);
      expect(kept.totalCount).toBe(2);
    } finally {
      await Promise.all([kept.end(), none.end()]);
    }
  });
});
