/**
 * bench:fanout's measured devices, spread over several client processes (bench/client-process.ts), so that
 * neither the app nor the baseline is measured through one process's reading of every socket.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Milliseconds on the machine's monotonic clock: the same in every process, so arrivals compare with a raise. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Keyed by the alarm as raised: a linked incident by its source, so one raise is one key on both sides of a link. */
export function raisedKey(e: Record<string, unknown>): string | null {
  if (e.type !== 'raised') return null;
  const incident = (e.data as { incident: { id: string; linkedFrom: { incidentId: string | null } | null } }).incident;
  return String(incident.linkedFrom?.incidentId ?? incident.id);
}

/** The app's devices listen for `event` (an alarm's `raised`); the baseline's for `broadcast` (its key). */
export type ArrivalEvent = 'event' | 'broadcast';

export function arrivalKey(event: ArrivalEvent, payload: Record<string, unknown>): string | null {
  return event === 'event' ? raisedKey(payload) : String(payload.key);
}

export interface FleetDevice {
  index: number;
  url: string;
  auth: Record<string, unknown>;
}

export type ClientCommand =
  | { type: 'connect'; devices: FleetDevice[]; event: ArrivalEvent }
  | { type: 'receipting'; on: boolean }
  | { type: 'arrivals'; key: string; indices: number[]; timeoutMs: number }
  | { type: 'disconnect' };

export type ClientRequest = ClientCommand & { id: number };

export type ClientReply = { id: number } & ({ ok: true; arrivals?: [number, number][] } | { ok: false; error: string });

/** A device as the bench reads it: where it is connected and when each alarm arrived (nowMs). */
export interface Measurable {
  url: string;
  received: Map<string, number>;
}

export class ClientFleet {
  private readonly children: ChildProcess[];
  private readonly waiting = new Map<number, (reply: ClientReply) => void>();
  private next = 0;
  /** The devices, by index, as the bench reads them; arrivals are filled in by `settle`. */
  readonly devices: (Measurable & { index: number })[] = [];

  /** `nodeArgs` go to Node itself in each client process (a benchmark's `--cpu-prof`). */
  constructor(processes: number, nodeArgs: string[] = []) {
    this.children = Array.from({ length: processes }, () => {
      const child = fork(new URL('./client-process.ts', import.meta.url).pathname, [], { execArgv: [...nodeArgs, '--import', 'tsx'], stdio: 'inherit' });
      child.on('message', (reply: ClientReply) => {
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
      });
      return child;
    });
  }

  /** Connects devices, each to its url, dealt over the processes in turn; returns them as the bench reads them. */
  async connect(specs: Omit<FleetDevice, 'index'>[], event: ArrivalEvent): Promise<(Measurable & { index: number })[]> {
    const devices = specs.map((spec, i) => ({ ...spec, index: this.devices.length + i }));
    const added = devices.map((d) => ({ index: d.index, url: d.url, received: new Map<string, number>() }));
    this.devices.push(...added);
    await Promise.all(this.children.map((child, c) => this.ask(child, {
      type: 'connect', event, devices: devices.filter((_, i) => i % this.children.length === c),
    })));
    return added;
  }

  /** While off, devices confirm nothing (the `no_receipts_*` figures). */
  async receipting(on: boolean): Promise<void> {
    await Promise.all(this.children.map((child) => this.ask(child, { type: 'receipting', on })));
  }

  /** Waits until every one of `devices` has `key` (or `timeoutMs`), and records when each copy arrived. */
  async settle(devices: { index: number }[], key: string, timeoutMs: number): Promise<void> {
    const indices = devices.map((d) => d.index);
    const replies = await Promise.all(this.children.map((child) => this.ask(child, { type: 'arrivals', key, indices, timeoutMs })));
    for (const reply of replies) {
      for (const [index, at] of reply.ok ? reply.arrivals ?? [] : []) this.devices[index]?.received.set(key, at);
    }
  }

  /**
   * Disconnects every device and ends the processes: each exits once its devices are gone (writing its CPU
   * profile, if it keeps one); one that has not within a few seconds is killed.
   */
  async close(): Promise<void> {
    await Promise.all(this.children.map(async (child) => {
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
      await this.ask(child, { type: 'disconnect' }).catch(() => undefined);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    }));
    this.kill();
  }

  kill(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }

  private ask(child: ChildProcess, command: ClientCommand): Promise<ClientReply & { ok: true }> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply.ok ? resolve(reply) : reject(new Error(reply.error))));
      child.send({ ...command, id } satisfies ClientRequest);
    });
  }
}
