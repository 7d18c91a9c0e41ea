import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { postmasterPid, startEmbeddedPostgres } from '../../src/db/embedded.js';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresServer {
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * SIGSTOP to the postmaster and every process it started: what a hung host or a silent network cut
   * looks like. Connections stay open and new ones are accepted by the kernel, but nothing answers.
   */
  freeze(): void;
  /** SIGCONT: the frozen server carries on where it stopped. */
  thaw(): void;
  remove(): Promise<void>;
}

/** The children of a process, from /proc (Linux; the tests run on Debian). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === pid ? [Number(d)] : [];
    } catch {
      return [];
    }
  });
}

/**
 * A real PostgreSQL of our own for tests, in a fresh folder under the system temp dir (which the
 * `postgres` user can enter when we run as root). start/stop let fault tests take it away.
 */
export async function startTestPostgres(): Promise<PostgresServer> {
  const port = await freePort();
  const dataDir = path.join(os.tmpdir(), `samlarm-test-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const log = pino({ level: 'warn' });
  let handle = await startEmbeddedPostgres({ dataDir, port, log });
  const postmaster = (): number => {
    const pid = postmasterPid(dataDir);
    if (pid === null) throw new Error('the test PostgreSQL is not running');
    return pid;
  };
  return {
    adminUrl: handle.adminConnectionString,
    port,
    stop: () => handle.stop(),
    freeze: () => {
      // The postmaster first, so that it starts no new backend meanwhile.
      const pid = postmaster();
      process.kill(pid, 'SIGSTOP');
      for (const child of childrenOf(pid)) process.kill(child, 'SIGSTOP');
    },
    thaw: () => {
      const pid = postmaster();
      for (const child of childrenOf(pid)) process.kill(child, 'SIGCONT');
      process.kill(pid, 'SIGCONT');
    },
    start: async () => {
      handle = await startEmbeddedPostgres({ dataDir, port, log });
    },
    remove: async () => {
      await handle.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A real redis-server on a free port, without persistence. */
export async function startTestRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          child?.kill('SIGKILL');
          throw err;
        }
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        client.disconnect();
      }
    }
  };
  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };
  await start();
  return { url, port, start, stop };
}
