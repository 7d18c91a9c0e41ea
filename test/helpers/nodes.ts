import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './services.js';

export interface AppNode {
  url: string;
  port: number;
  output(): string;
  exited: Promise<number | null>;
  /** SIGKILL: the node dies mid-flight, as a crash would. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts a real Samlarm node (`src/server.ts`, as `npm start` does) in its own process. Without
 * DATABASE_URL in `env` it runs on the embedded default.
 */
export async function startNode(env: Record<string, string>, options: { port?: number; readyTimeoutMs?: number } = {}): Promise<AppNode> {
  const port = options.port ?? (await freePort());
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  delete inherited.REDIS_URL;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
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
    output: () => output,
    exited,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
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
