import { spawn, type ChildProcess } from 'node:child_process';
import { GC_FLAGS } from '../../src/lib/gc-flags.js';
import { DEMO_PASSWORD } from '../../src/seed/demo.js';
import { freePort } from './services.js';

export interface AppNode {
  url: string;
  port: number;
  /** The node's process id. */
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  /** False once the process has exited (killed, stopped or crashed). */
  isRunning(): boolean;
  /** SIGKILL: the node dies mid-flight, as a crash would. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGSTOP, then SIGCONT: the node stalls (a hung host, a long pause) and goes on where it was. */
  freeze(): void;
  thaw(): void;
}

/**
 * Starts a real Samlarm node (`src/server.ts`, with the garbage collector's flags, as `npm start` does) in its own
 * process. Without DATABASE_URL in `env` it runs on the embedded default. `nodeArgs` go to Node itself (a
 * benchmark's `--cpu-prof`); `gcFlags: false` leaves out the collector's flags (ADR 041).
 */
export async function startNode(
  env: Record<string, string>, options: { port?: number; readyTimeoutMs?: number; nodeArgs?: string[]; gcFlags?: boolean } = {},
): Promise<AppNode> {
  const port = options.port ?? (await freePort());
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  delete inherited.REDIS_URL;
  const gcFlags = options.gcFlags === false ? [] : GC_FLAGS;
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), ...gcFlags, '--import', 'tsx', 'src/server.ts'], {
    env: { ...inherited, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), SHUTDOWN_DRAIN_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const node: AppNode = {
    url,
    port,
    pid: child.pid as number,
    output: () => output,
    exited,
    isRunning: () => child.exitCode === null && child.signalCode === null,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node exited early:\n${output}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return node;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`node not ready within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An HTTP answer from a node: the status and the parsed JSON body (error bodies carry code and message). */
export interface NodeAnswer<T> {
  status: number;
  body: T & { code?: string; message?: string };
}

/** Calls a node's HTTP API as a client would, with an optional bearer token and JSON body. */
export async function callNode<T = Record<string, unknown>>(
  baseUrl: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<NodeAnswer<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as NodeAnswer<T>['body'] };
}

/** Signs a demo account in through a node and returns its bearer token. */
export async function loginAt(baseUrl: string, email: string): Promise<string> {
  const res = await callNode<{ token: string }>(baseUrl, 'POST', '/api/v1/auth/login', { body: { email, password: DEMO_PASSWORD } });
  if (res.status !== 200) throw new Error(`login ${email} at ${baseUrl} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}
