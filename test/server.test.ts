import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/demo.js';
import { freePort } from './helpers/services.js';

interface Node {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `src/server.ts` the way `npm start` does, on the embedded default (no DATABASE_URL, no REDIS_URL). */
function startNode(env: Record<string, string>): Node {
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  delete inherited.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...inherited, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitReady(port: number, node: Node, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (node.child.exitCode !== null) throw new Error(`server exited early:\n${node.output()}`);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (res?.status === 200) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready within ${timeoutMs} ms:\n${node.output()}`);
}

describe('the service on its embedded default', () => {
  const dataDir = path.join(os.tmpdir(), `samlarm-start-${randomBytes(4).toString('hex')}`, 'postgres');
  afterAll(() => rm(path.dirname(dataDir), { recursive: true, force: true }));

  it('starts with no Postgres or Redis installed, seeds the demo, serves readyz, and shuts down cleanly on SIGTERM', async () => {
    const [port, pgPort] = await Promise.all([freePort(), freePort()]);
    const env = { PORT: String(port), HOST: '127.0.0.1', EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
    const node = startNode(env);
    const readyAfterMs = await waitReady(port, node, 60_000);
    expect(readyAfterMs).toBeLessThan(60_000);
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

    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    const probe = new pg.Client({ connectionString: `postgres://postgres:samlarm@127.0.0.1:${pgPort}/postgres`, connectionTimeoutMillis: 1000 });
    probe.on('error', () => undefined);
    await expect(probe.connect()).rejects.toThrow();

    // The data folder is kept: a second start finds the demo already there and does not seed it twice.
    const again = startNode(env);
    await waitReady(port, again, 60_000);
    const db = new pg.Client({ connectionString: `postgres://postgres:samlarm@127.0.0.1:${pgPort}/samlarm` });
    await db.connect();
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations');
    await db.end();
    expect(rows[0]?.n).toBe(3);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 150_000);

  it('refuses to start with an invalid configuration, naming the variable', async () => {
    const node = startNode({ PORT: 'not-a-port' });
    expect(await node.exited).toBe(1);
    expect(node.output()).toMatch(/invalid configuration: PORT/);
  });
});
