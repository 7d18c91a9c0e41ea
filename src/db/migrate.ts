import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Log } from '../lib/log.js';
import { inTransaction, type Db } from './pool.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

// Any constant works; it only has to be the same on every node so concurrent start-ups queue.
const MIGRATION_LOCK_ID = 4_711_112;

const SQL = {
  // Waiting for another node's migrations, and long migrations, must not hit the pool's statement timeout.
  noTimeout: 'SET LOCAL statement_timeout = 0',
  lock: 'SELECT pg_advisory_xact_lock($1)',
  createTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`,
  applied: 'SELECT version FROM schema_migrations',
  record: 'INSERT INTO schema_migrations (version, name) VALUES ($1, $2)',
} as const;

interface MigrationFile {
  version: number;
  name: string;
  file: string;
}

async function listMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  return names.map((name) => {
    const match = /^(\d+)[-_](.+)\.sql$/.exec(name);
    if (!match?.[1]) throw new Error(`migration file name must start with a number: ${name}`);
    return { version: Number(match[1]), name, file: path.join(dir, name) };
  });
}

/**
 * Applies every pending migration in one transaction (all or nothing), forward only. An advisory lock
 * held by the whole run makes several nodes starting at once apply each migration exactly once.
 */
export async function migrate(db: Db, log: Log, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await listMigrations(dir);
  return inTransaction(db, async (tx) => {
    await tx.query(SQL.noTimeout);
    await tx.query(SQL.lock, [MIGRATION_LOCK_ID]);
    await tx.query(SQL.createTable);
    const done = new Set((await tx.query<{ version: number }>(SQL.applied)).rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.query(await readFile(m.file, 'utf8'));
      await tx.query(SQL.record, [m.version, m.name]);
      log.info({ migration: m.name }, 'migration applied');
      applied.push(m.name);
    }
    return applied;
  });
}
