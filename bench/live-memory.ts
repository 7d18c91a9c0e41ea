/**
 * A node's live memory, read through its inspector (the node runs with `--inspect=127.0.0.1:<port>`): a full
 * garbage collection first, then `process.memoryUsage()`. Unlike the resident set, which keeps pages the collector
 * has not given back and the garbage of whatever ran last, this is what the node holds: the JavaScript heap in use
 * and the memory outside it that its objects own (buffers). Native memory that no JavaScript object accounts for is
 * not in it; the resident set, read beside it, bounds that.
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'undici';

export interface LiveMemory {
  /** V8's heap in use after a full collection. */
  heapUsed: number;
  /** Memory owned by JavaScript objects outside the heap (buffers, array buffers included). */
  external: number;
  rss: number;
}

/** The inspector flag for a node whose live memory is read on `port`. */
export const inspectArg = (port: number): string => `--inspect=127.0.0.1:${port}`;

export async function liveMemory(inspectorPort: number): Promise<LiveMemory> {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json() as { webSocketDebuggerUrl: string }[];
  const target = targets[0];
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    pending.get(message.id)?.(message.error ? new Error(message.error.message) : message.result);
    pending.delete(message.id);
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`inspector on port ${inspectorPort} refused the connection`)), { once: true });
  });
  let nextId = 0;
  const call = (method: string, params: Record<string, unknown> = {}) => new Promise<unknown>((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, (result) => (result instanceof Error ? reject(result) : resolve(result)));
    socket.send(JSON.stringify({ id, method, params }));
  });
  try {
    await call('HeapProfiler.collectGarbage');
    const evaluated = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true }) as { result: { value: string } };
    return JSON.parse(evaluated.result.value) as LiveMemory;
  } finally {
    socket.close();
  }
}

/** The largest resident set process `pid` has had so far, in MB (Linux's VmHWM); NaN elsewhere than Linux. */
export function peakResidentMb(pid: number): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Math.round(Number(kb) / 1024);
  } catch {
    return Number.NaN;
  }
}
