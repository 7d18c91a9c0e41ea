import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { EventEnvelope } from '../../src/contract/alarms.js';
import type { Ack, OrgIncidentPayload, SiteInstructionPayload } from '../../src/contract/realtime.js';

/** An event as devices receive it (docs/realtime.md). */
export type Envelope = EventEnvelope;

interface CatchUpResult {
  kind: 'events' | 'resync';
  epoch: string;
  cursor: string;
  events?: Envelope[];
  reason?: string;
  incidents?: { incident: { id: string } }[];
}


export interface DeviceOptions {
  /** Node URLs in order of preference; on a lost connection the device moves to the next one. */
  urls: string[];
  token: string;
  deviceId?: string;
  cursor?: string | null;
  /** The epoch the cursor came from (docs/realtime.md). */
  epoch?: string | null;
  /** Send a delivery receipt for every alarm that reaches the device (default true). */
  autoReceipt?: boolean;
  /** Ask for missed events this often, as the app does (0: never). */
  syncEveryMs?: number;
  /** Sync when a node hints, as the app does (default true); false, with no receipts and no syncs: a device that only listens. */
  answersHints?: boolean;
}

/**
 * A scripted device speaking the realtime protocol as the app does: it keeps a cursor that only
 * catch-up answers advance, de-duplicates events by id, answers sync hints, sends receipts, and on
 * a lost connection reconnects (to the next node) and catches up from its cursor.
 */
export class TestDevice {
  readonly deviceId: string;
  cursor: string | null;
  epoch: string | null;
  /** Every distinct event seen, in cursor order. */
  readonly events: Envelope[] = [];
  /** Every distinct event seen, in the order it arrived (live or in a catch-up answer). */
  readonly arrivals: Envelope[] = [];
  readonly resyncs: CatchUpResult[] = [];
  /** Incidents whose delivery receipt from this device the server has answered as written. */
  readonly confirmed = new Set<string>();
  /** How many times a node told this device to sync (a `sync_hint`). */
  syncHints = 0;
  /** Why each connection ended, as Socket.IO reports it ("io server disconnect" would make a real client give up). */
  readonly disconnectReasons: string[] = [];
  readonly rollcalls: { incidentId: string; summary: Record<string, number> }[] = [];
  /** Every `site_instruction` (ADR 027), live or on connect, in the order it arrived. */
  readonly siteInstructions: SiteInstructionPayload[] = [];
  /** Every `org_incident` (an organisation admin's live list), in the order it arrived. */
  readonly orgIncidents: OrgIncidentPayload[] = [];
  socket!: Socket;
  /** The server closed the connection on purpose (a revoked session): the device stays offline, as the app does. */
  endedByServer = false;
  private readonly seen = new Set<string>();
  private urlIndex = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly options: DeviceOptions) {
    this.deviceId = options.deviceId ?? `test-${randomUUID()}`;
    this.cursor = options.cursor ?? null;
    this.epoch = options.epoch ?? null;
  }

  static async connect(options: DeviceOptions): Promise<TestDevice> {
    const device = new TestDevice(options);
    await device.open();
    if (options.syncEveryMs) device.timer = setInterval(() => void device.sync().catch(() => undefined), options.syncEveryMs);
    return device;
  }

  get url(): string {
    return this.options.urls[this.urlIndex % this.options.urls.length] as string;
  }

  private open(): Promise<void> {
    const socket = io(this.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: (cb) => cb({ token: this.options.token, deviceId: this.deviceId, cursor: this.cursor, epoch: this.epoch }),
    });
    this.socket = socket;
    socket.on('event', (e: Envelope) => this.receive([e]));
    socket.on('catch_up', (r: CatchUpResult) => this.apply(r));
    socket.on('sync_hint', () => {
      this.syncHints += 1;
      if (this.options.answersHints !== false) void this.sync().catch(() => undefined);
    });
    socket.on('rollcall', (r: { incidentId: string; summary: Record<string, number> }) => this.rollcalls.push(r));
    socket.on('site_instruction', (n: SiteInstructionPayload) => this.siteInstructions.push(n));
    socket.on('org_incident', (n: OrgIncidentPayload) => this.orgIncidents.push(n));
    socket.on('disconnect', (reason) => {
      this.disconnectReasons.push(reason);
      if (this.closed) return;
      if (reason === 'io server disconnect') {
        this.endedByServer = true;
        return;
      }
      // Like the app: try the next node after a short pause, until one answers.
      this.urlIndex += 1;
      setTimeout(() => void this.reopen(), 100);
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
  }

  private async reopen(): Promise<void> {
    while (!this.closed) {
      try {
        await this.open();
        return;
      } catch {
        this.urlIndex += 1;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private apply(result: CatchUpResult): void {
    if (result.kind === 'resync') this.resyncs.push(result);
    // Another epoch (a restored database): ids seen before mean nothing in it, as in the app.
    if (this.epoch !== null && result.epoch !== this.epoch) this.seen.clear();
    this.epoch = result.epoch;
    this.receive(result.events ?? []);
    this.cursor = result.cursor;
  }

  private receive(events: Envelope[]): void {
    for (const e of events) {
      if (this.seen.has(e.id)) continue;
      this.seen.add(e.id);
      this.events.push(e);
      this.arrivals.push(e);
      if (this.options.autoReceipt !== false && (e.type === 'raised' || e.type === 'reraised')) {
        void this.emit('receipt', { incidentId: e.incidentId, kind: 'delivered' }).then((ack) => {
          if (ack.ok) this.confirmed.add(e.incidentId);
        }, () => undefined);
      }
    }
    this.events.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /** Sends a protocol event and waits for its ack. */
  emit<T = unknown>(name: string, payload: unknown, timeoutMs = 10_000): Promise<Ack<T>> {
    return this.socket.timeout(timeoutMs).emitWithAck(name, payload) as Promise<Ack<T>>;
  }

  /** Sends a protocol event with no payload at all, only the acknowledgement. */
  emitBare<T = unknown>(name: string, timeoutMs = 10_000): Promise<Ack<T>> {
    return this.socket.timeout(timeoutMs).emitWithAck(name) as Promise<Ack<T>>;
  }

  async sync(): Promise<void> {
    const ack = await this.emit<CatchUpResult>('sync', { cursor: this.cursor, epoch: this.epoch });
    if (ack.ok) this.apply(ack.data);
  }

  raise(payload: Record<string, unknown>) {
    return this.emit<{ outcome: string; incident: { id: string } }>('raise', { pressId: randomUUID(), ...payload });
  }

  /** Events of one type, optionally of one incident. */
  of(type: string, incidentId?: string): Envelope[] {
    return this.events.filter((e) => e.type === type && (!incidentId || e.incidentId === incidentId));
  }

  async waitFor(predicate: (d: TestDevice) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const started = Date.now();
    while (!predicate(this)) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(`device ${this.deviceId}: ${what} not met within ${timeoutMs} ms; saw ${this.events.map((e) => `${e.id}:${e.type}`).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Drops the connection without the device knowing it will come back (like a phone losing signal). */
  goOffline(): void {
    this.closed = true;
    this.socket.disconnect();
  }

  async comeBack(urls?: string[]): Promise<void> {
    this.closed = false;
    if (urls) this.options.urls = urls;
    await this.open();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.socket?.disconnect();
  }
}
