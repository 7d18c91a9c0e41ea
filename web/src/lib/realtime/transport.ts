import { io, type Socket } from 'socket.io-client';
import { ApiError, api } from '../api.ts';
import { deviceId } from '../session.ts';
import type { Connection } from '../store.ts';
import type { CatchUp, Envelope, Incident, Position, RollCallSummary, SiteInstructionNotice } from '../types.ts';
import type { Ack, SendReceipt } from './receipts.ts';

/** How often an open app asks for what it may have missed (docs/realtime.md recommends 20 s). */
const SYNC_EVERY_MS = 20_000;
/** How long a receipt waits for its answer before it counts as lost and is sent again later. */
const RECEIPT_TIMEOUT_MS = 10_000;

export interface TransportHandlers {
  /** The cursor and its epoch to present: read at every (re)connect and sync. */
  position(): Position;
  onConnection(state: Connection): void;
  /** The connection is up (just connected, or about to sync): send again what waited for it. */
  onReachable(): void;
  onCatchUp(body: CatchUp): void;
  onEvent(event: Envelope): void;
  onRollcall(incidentId: string, summary: RollCallSummary): void;
  /** The instruction now at one of the person's sites (on connect, with every sync, and when it changes). */
  onSiteInstruction(notice: SiteInstructionNotice): void;
  /** An organisation admin: an incident of their organisation was raised or ended. */
  onOrgIncident(incident: Incident): void;
  /** The server says the session is gone. */
  onSignedOut(): void;
}

/**
 * The device's one Socket.IO connection (docs/realtime.md): the handshake with the token, this
 * installation's id and the cursor with its epoch; reconnects with jitter, also where Socket.IO itself gives up (a
 * refused handshake); asks for what it missed on hints, on reconnect, in the foreground, after a push and
 * every 20 s. It knows nothing of what the events mean.
 */
export class Transport {
  private socket: Socket | null = null;
  private handlers: TransportHandlers | null = null;
  private timer: number | undefined;
  private retry: number | undefined;
  /** Handshakes refused in a row, for the backoff. */
  private refusals = 0;
  /** Connected, and the connection's first catch-up not yet applied. */
  private catchingUp = false;

  start(token: string, handlers: TransportHandlers): void {
    this.stop();
    this.handlers = handlers;
    handlers.onConnection('connecting');
    const socket = io({
      path: '/socket.io',
      transports: ['websocket'],
      // A function, so that every reconnect presents the latest cursor.
      auth: (cb) => cb({ token, deviceId: deviceId(), ...handlers.position() }),
      reconnectionDelay: 300,
      reconnectionDelayMax: 3000,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.refusals = 0;
      this.catchingUp = true;
      handlers.onReachable();
    });
    socket.on('disconnect', (reason) => {
      handlers.onConnection(navigator.onLine ? 'connecting' : 'offline');
      // The server ends a revoked session's sockets; find out whether we are still signed in.
      // Anything but a confirmed sign-out (a 503, the network) must not leave the device deaf: try again.
      if (reason === 'io server disconnect') {
        void api('GET', '/me').then(() => this.reconnect(socket, 0), (err: unknown) => {
          if (err instanceof ApiError && err.code === 'unauthenticated') return;
          this.reconnect(socket, 2000);
        });
      }
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      if (err.data?.code === 'unauthenticated') {
        this.stop();
        handlers.onSignedOut();
        return;
      }
      // A handshake the server refused (database down, a node starting) is not retried by Socket.IO
      // itself; a device that stopped trying would be deaf until reloaded.
      if (!socket.active) {
        this.refusals += 1;
        this.reconnect(socket, Math.min(500 * 2 ** Math.min(this.refusals, 5), 10_000));
      }
    });
    socket.on('catch_up', (body: CatchUp) => this.caughtUp(handlers, body));
    socket.on('event', (e: Envelope) => handlers.onEvent(e));
    socket.on('sync_hint', () => this.sync());
    socket.on('rollcall', (r: { incidentId: string; summary: RollCallSummary }) => handlers.onRollcall(r.incidentId, r.summary));
    socket.on('site_instruction', (n: SiteInstructionNotice) => handlers.onSiteInstruction(n));
    socket.on('org_incident', (n: { incident: Incident }) => handlers.onOrgIncident(n.incident));
    this.timer = window.setInterval(() => this.sync(), SYNC_EVERY_MS);
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    navigator.serviceWorker?.addEventListener('message', this.onWorkerMessage);
  }

  stop(): void {
    if (this.timer !== undefined) window.clearInterval(this.timer);
    this.timer = undefined;
    if (this.retry !== undefined) window.clearTimeout(this.retry);
    this.retry = undefined;
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    navigator.serviceWorker?.removeEventListener('message', this.onWorkerMessage);
    this.handlers?.onConnection('offline');
    this.handlers = null;
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Asks for everything after the cursor (and connects again if the connection is down and the device online). */
  sync(): void {
    const socket = this.socket;
    const handlers = this.handlers;
    if (socket && !socket.connected && !socket.active && navigator.onLine) this.reconnect(socket, 0);
    if (!socket?.connected || !handlers) return;
    handlers.onReachable();
    socket.emit('sync', handlers.position(), (ack: Ack<CatchUp>) => {
      if (ack.ok && this.handlers === handlers) this.caughtUp(handlers, ack.data);
    });
  }

  /**
   * "Connected" means connected and caught up: the indicator turns only once a connection's first
   * catch-up (on connect, or a sync's if that one failed) is on screen, so nothing the phone missed
   * arrives after it says it is up to date.
   */
  private caughtUp(handlers: TransportHandlers, body: CatchUp): void {
    handlers.onCatchUp(body);
    if (!this.catchingUp) return;
    this.catchingUp = false;
    handlers.onConnection('connected');
  }

  /**
   * Sends a receipt. Emitted while disconnected, Socket.IO buffers it and sends it on reconnect; without
   * a timeout a receipt whose answer died with the connection would wait forever.
   */
  readonly sendReceipt: SendReceipt = (receipt) => new Promise((resolve) => {
    if (!this.socket) {
      resolve(null);
      return;
    }
    this.socket.timeout(RECEIPT_TIMEOUT_MS).emit('receipt', receipt, (err: Error | null, ack?: Ack<null>) => resolve(err || !ack ? null : ack));
  });

  /** Connects this socket again after `delay` ms, unless it was replaced, stopped or is already trying. */
  private reconnect(socket: Socket, delay: number): void {
    if (this.socket !== socket) return;
    if (this.retry !== undefined) window.clearTimeout(this.retry);
    // Jittered, so that the phones of a whole school do not all come back in the same instant.
    this.retry = window.setTimeout(() => {
      this.retry = undefined;
      if (this.socket === socket && !socket.connected && !socket.active) socket.connect();
    }, delay * (0.5 + Math.random()));
  }

  private readonly onOnline = () => {
    this.handlers?.onConnection('connecting');
    if (this.socket && !this.socket.connected && !this.socket.active) this.socket.connect();
  };

  /** Going offline drops the socket at once rather than waiting out the ping timeout; `online` reconnects. */
  private readonly onOffline = () => {
    this.socket?.disconnect();
    this.handlers?.onConnection('offline');
  };

  private readonly onVisible = () => {
    if (document.visibilityState === 'visible') this.sync();
  };

  /** The service worker got a push: the socket may have missed it (a phone waking up). */
  private readonly onWorkerMessage = () => this.sync();
}
