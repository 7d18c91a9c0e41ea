import { io, type Socket } from 'socket.io-client';
import { ApiError, api } from './api.ts';
import { escalationOf, mergeNotes } from './escalation.ts';
import { startAlert, stopAlert } from './alert.ts';
import { navigate } from './router.ts';
import { deviceId } from './session.ts';
import { getState, setState, type IncidentView } from './store.ts';
import type { ActiveIncidentState, CatchUp, Envelope, EscalationNote, Incident, Instruction, ResponseStatus, RollCallSummary, Sound } from './types.ts';

type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

/** How often an open app asks for what it may have missed (docs/realtime.md recommends 20 s). */
const SYNC_EVERY_MS = 20_000;
const LEAD_TYPES = new Set(['joined', 'recipients_computed', 'reply', 'responded', 'delivered', 'acknowledged', 'raised', 'reraised']);

const newer = (a: string, b: string | null): boolean => b === null || BigInt(a) > BigInt(b);
const messageKey = (messageId: string | number): string => `m${messageId}`;
/** Adds a message once (a resync and a catch-up can both bring it), in the order they were sent. */
function withMessage(messages: IncidentView['messages'], message: IncidentView['messages'][number]): IncidentView['messages'] {
  if (messages.some((m) => m.key === message.key)) return messages;
  return [...messages, message].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
/** Receipt errors worth sending again (the server could not store it); others will never succeed. */
const RECEIPT_TIMEOUT_MS = 10_000;
const RETRY_RECEIPT = new Set(['database_unavailable', 'internal_error', 'not_ready', 'rate_limited', 'try_again']);

/**
 * The device side of docs/realtime.md: one Socket.IO connection that authenticates with the token,
 * this installation's id and the cursor; applies live events and catch-up answers; moves the cursor
 * only from catch-up and sync answers; confirms receipt of every alarm; syncs on hints, on
 * reconnect, when the app comes to the foreground and every 20 s.
 */
class RealtimeClient {
  private socket: Socket | null = null;
  private cursor: string | null = null;
  private readonly seen = new Set<string>();
  private timer: number | undefined;
  private retry: number | undefined;
  /** Handshakes refused in a row, for the backoff. */
  private refusals = 0;
  /** Bumped on stop: answers and timers of an earlier session (another person, perhaps) are dropped. */
  private generation = 0;
  /** Per incident, the pending retry of learning how it ended. */
  private readonly ending = new Map<string, number>();
  /** Per incident, the newest re-alert applied, and the newest the person has seen (it never rings again). */
  private readonly lastRealert = new Map<string, string>();
  private readonly realertSeen = new Map<string, string>();
  private personId = '';
  /** While a catch-up batch is applied: the incidents to alert for once it is all in. */
  private pending: Set<string> | null = null;
  /** Of those, the ones re-alerted in the batch: they ring even for someone who answered the first alert. */
  private realerted = new Set<string>();
  private onSignedOut: () => void = () => undefined;
  /** Per site: the id of the event whose instruction is shown, so that a late, older event cannot replace it. */
  private readonly instructionFrom = new Map<string, string>();
  /** Receipts not yet confirmed by the server; `failed` ones are sent again at the next sync. */
  private readonly receipts = new Map<string, { incidentId: string; kind: 'delivered' | 'acknowledged'; failed: boolean }>();

  start(token: string, personId: string, onSignedOut: () => void): void {
    this.stop();
    this.personId = personId;
    this.onSignedOut = onSignedOut;
    this.cursor = localStorage.getItem(this.cursorKey());
    setState({ connection: 'connecting' });
    const socket = io({
      path: '/socket.io',
      transports: ['websocket'],
      // A function, so that every reconnect presents the latest cursor.
      auth: (cb) => cb({ token, deviceId: deviceId(), cursor: this.cursor }),
      reconnectionDelay: 300,
      reconnectionDelayMax: 3000,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.refusals = 0;
      setState({ connection: 'connected' });
      // Receipts whose answer was lost with the last connection go again.
      for (const [key, r] of this.receipts) if (r.failed) this.sendReceipt(key);
    });
    socket.on('disconnect', (reason) => {
      setState({ connection: navigator.onLine ? 'connecting' : 'offline' });
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
        this.onSignedOut();
        return;
      }
      // A handshake the server refused (database down, a node starting) is not retried by Socket.IO
      // itself; a device that stopped trying would be deaf until reloaded.
      if (!socket.active) {
        this.refusals += 1;
        this.reconnect(socket, Math.min(500 * 2 ** Math.min(this.refusals, 5), 10_000));
      }
    });
    socket.on('catch_up', (body: CatchUp) => this.applyCatchUp(body));
    socket.on('event', (e: Envelope) => this.apply(e, true));
    socket.on('sync_hint', () => this.sync());
    socket.on('rollcall', (r: { incidentId: string; summary: RollCallSummary }) => {
      setState((s) => ({ rollcalls: { ...s.rollcalls, [r.incidentId]: r.summary } }));
      this.bumpRollcall(r.incidentId);
    });
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
    this.generation += 1;
    for (const timer of this.ending.values()) window.clearTimeout(timer);
    this.ending.clear();
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    navigator.serviceWorker?.removeEventListener('message', this.onWorkerMessage);
    setState({ connection: 'offline' });
  }

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

  /** Forgets everything this device held for the signed-out person. */
  reset(): void {
    if (this.personId) localStorage.removeItem(this.cursorKey());
    this.cursor = null;
    this.seen.clear();
    this.instructionFrom.clear();
    this.receipts.clear();
    this.lastRealert.clear();
    this.realertSeen.clear();
    stopAlert();
    setState({ incidents: {}, instructions: {}, rollcalls: {}, rollcallVersion: {} });
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  sync(): void {
    const socket = this.socket;
    if (socket && !socket.connected && !socket.active && navigator.onLine) this.reconnect(socket, 0);
    if (!socket?.connected) return;
    for (const [key, r] of this.receipts) if (r.failed) this.sendReceipt(key);
    socket.emit('sync', { cursor: this.cursor }, (ack: Ack<CatchUp>) => {
      if (ack.ok) this.applyCatchUp(ack.data);
    });
  }

  /**
   * Confirms receipt. Emitted while disconnected, Socket.IO buffers it and sends it on reconnect; one the
   * server could not store (database down) is sent again at the next sync, or the person stays "not reached".
   */
  receipt(incidentId: string, kind: 'delivered' | 'acknowledged'): void {
    const key = `${incidentId}:${kind}`;
    this.receipts.set(key, { incidentId, kind, failed: false });
    this.sendReceipt(key);
  }

  private sendReceipt(key: string): void {
    const r = this.receipts.get(key);
    if (!r || !this.socket) return;
    r.failed = false;
    // Socket.IO drops the answer of a packet sent just before a connection died; without a timeout
    // the receipt would wait forever and the person stay "not reached".
    this.socket.timeout(RECEIPT_TIMEOUT_MS).emit('receipt', { incidentId: r.incidentId, kind: r.kind }, (err: Error | null, ack?: Ack<null>) => {
      if (err || !ack || (!ack.ok && RETRY_RECEIPT.has(ack.error.code))) r.failed = true;
      else this.receipts.delete(key);
    });
  }

  /** Reminders and escalations read from the timeline (a roll call opened after a reload or a resync). */
  noteEscalations(incidentId: string, notes: EscalationNote[]): void {
    const view = getState().incidents[incidentId];
    if (view && notes.length > 0) this.update(incidentId, { escalations: mergeNotes(view.escalations, notes) });
  }

  /** The person has seen the alarm: stop the sound and confirm it. */
  acknowledge(incidentId: string): void {
    stopAlert(incidentId);
    this.realertSeenNow(incidentId);
    const view = getState().incidents[incidentId];
    if (!view || view.acknowledged) return;
    this.update(incidentId, { acknowledged: true });
    this.remember(incidentId);
    this.receipt(incidentId, 'acknowledged');
  }

  /** Records the person's own answer at once (the server's `responded` event confirms it). */
  answered(incidentId: string, status: ResponseStatus): void {
    stopAlert(incidentId);
    this.realertSeenNow(incidentId);
    this.update(incidentId, { myStatus: status, acknowledged: true });
    this.remember(incidentId);
  }

  private realertSeenNow(incidentId: string): void {
    const last = this.lastRealert.get(incidentId);
    if (last !== undefined) this.realertSeen.set(incidentId, last);
  }

  /** The person closed an ended incident: it leaves the device. */
  dismiss(incidentId: string): void {
    setState((s) => {
      return { incidents: Object.fromEntries(Object.entries(s.incidents).filter(([id]) => id !== incidentId)) };
    });
  }

  /** A raise answer: show the incident at once, before its event arrives. */
  raised(incident: Incident, instruction: Instruction | null): void {
    this.upsert(incident, { acknowledged: true });
    // An event over the open socket may already have brought a newer instruction (a lockdown confirmed
    // meanwhile): the answer never replaces it.
    setState((s) => {
      const shown = s.instructions[incident.siteId];
      if (shown && instruction && Date.parse(shown.since) > Date.parse(instruction.since)) return {};
      return { instructions: { ...s.instructions, [incident.siteId]: instruction } };
    });
    this.sync();
  }

  private readonly onOnline = () => {
    setState({ connection: 'connecting' });
    if (this.socket && !this.socket.connected && !this.socket.active) this.socket.connect();
  };

  /** Going offline drops the socket at once rather than waiting out the ping timeout; `online` reconnects. */
  private readonly onOffline = () => {
    this.socket?.disconnect();
    setState({ connection: 'offline' });
  };

  private readonly onVisible = () => {
    if (document.visibilityState === 'visible') this.sync();
  };

  /** The service worker got a push: the socket may have missed it (a phone waking up). */
  private readonly onWorkerMessage = () => this.sync();

  /** Acknowledged incidents survive a reload, so that catching up does not ring for them again. */
  private remember(incidentId: string): void {
    const ids = [incidentId, ...this.acknowledgedIds().filter((id) => id !== incidentId)].slice(0, 50);
    localStorage.setItem(`samlarm.acknowledged.${this.personId}`, JSON.stringify(ids));
  }

  private acknowledgedIds(): string[] {
    try {
      const ids: unknown = JSON.parse(localStorage.getItem(`samlarm.acknowledged.${this.personId}`) ?? '[]');
      return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
    } catch {
      return [];
    }
  }

  private cursorKey(): string {
    return `samlarm.cursor.${this.personId}`;
  }

  private setCursor(cursor: string): void {
    if (!newer(cursor, this.cursor)) return;
    this.cursor = cursor;
    localStorage.setItem(this.cursorKey(), cursor);
    // Events at or before the cursor never apply again (live ones are skipped, catch-ups start after it).
    for (const id of this.seen) if (!newer(id, cursor)) this.seen.delete(id);
  }

  private applyCatchUp(body: CatchUp): void {
    if (body.kind === 'events') {
      // Alert only for what is still going on after the whole batch: a device that missed a raise and
      // its all clear must not ring for an alarm that is already over.
      this.pending = new Set();
      this.realerted = new Set();
      for (const e of body.events) this.apply(e, false);
      const pending = this.pending;
      this.pending = null;
      for (const id of pending) {
        const view = getState().incidents[id];
        if (view && !view.acknowledged && (view.myStatus === null || this.realerted.has(id))) this.alert(view.incident);
      }
    } else {
      this.resync(body.incidents);
    }
    this.setCursor(body.cursor);
  }

  /** A resync replaces what the device shows with the server's current state. */
  private resync(list: ActiveIncidentState[]): void {
    const before = getState().incidents;
    const incidents: Record<string, IncidentView> = {};
    const instructions: Record<string, Instruction | null> = {};
    // The server's current state replaces whatever live events said; events after its cursor apply again.
    this.instructionFrom.clear();
    this.seen.clear();
    for (const siteId of Object.keys(getState().instructions)) instructions[siteId] = null;
    const fresh: Incident[] = [];
    const remembered = this.acknowledgedIds();
    for (const item of list) {
      const old = before[item.incident.id];
      instructions[item.incident.siteId] = item.instruction;
      // An end this device already knows of (a live event newer than the state) stays: it never reopens.
      if (old && old.incident.state !== 'active') {
        incidents[item.incident.id] = old;
        continue;
      }
      incidents[item.incident.id] = {
        incident: item.incident,
        messages: item.messages.map((m) => ({ key: messageKey(m.id), body: m.body, at: m.at, author: m.authorName })),
        myStatus: item.myStatus,
        acknowledged: (old?.acknowledged ?? remembered.includes(item.incident.id)) || item.myStatus !== null,
        endReason: null,
        escalations: old?.escalations ?? [],
      };
      if (!old && !incidents[item.incident.id]?.acknowledged) fresh.push(item.incident);
    }
    // Incidents this device showed as active that the server no longer lists have ended: silence them
    // at once, keep showing them, and learn how they ended.
    const ended = Object.values(before).filter((v) => v.incident.state === 'active' && !incidents[v.incident.id]);
    for (const v of Object.values(before)) if (!incidents[v.incident.id]) incidents[v.incident.id] = v;
    setState({ incidents, instructions });
    for (const v of ended) {
      stopAlert(v.incident.id);
      this.learnEnd(v.incident.id, 0);
    }
    for (const view of Object.values(incidents)) {
      // Nothing rings while a silent instruction (lockdown) is in force at the incident's site.
      if (view.incident.state !== 'active' || ended.includes(view) || instructions[view.incident.siteId]?.sound === 'silent') stopAlert(view.incident.id);
      if (view.incident.state === 'active' && !ended.includes(view)) this.receipt(view.incident.id, 'delivered');
    }
    for (const incident of fresh) this.alert(incident);
  }

  /** How an incident the server no longer lists as active ended; asked again until it answers. */
  private learnEnd(incidentId: string, attempt: number): void {
    const generation = this.generation;
    const pending = this.ending.get(incidentId);
    if (pending !== undefined) window.clearTimeout(pending);
    this.ending.delete(incidentId);
    void api<{ incident: Incident & { endReason: string | null } }>('GET', `/incidents/${incidentId}`)
      .then(({ incident }) => {
        if (generation === this.generation) this.upsert(incident, { endReason: incident.endReason });
      })
      .catch((err: unknown) => {
        if (generation !== this.generation) return;
        // No longer this person's to see: it leaves the device, as a dismissed one does.
        if (err instanceof ApiError && err.status < 500 && err.status !== 429) {
          this.dismiss(incidentId);
          return;
        }
        this.ending.set(incidentId, window.setTimeout(() => this.learnEnd(incidentId, attempt + 1), Math.min(1000 * 2 ** attempt, 30_000)));
      });
  }

  private apply(e: Envelope, live: boolean): void {
    // A live event at or before the cursor is already in what the last catch-up answer gave us.
    if (live && this.cursor !== null && !newer(e.id, this.cursor)) return;
    if (this.seen.has(e.id)) return;
    this.seen.add(e.id);
    const data = e.data;
    const from = this.instructionFrom.get(e.siteId);
    // Live events from different nodes can arrive out of order: the newest event's instruction holds.
    if ('instruction' in data && (from === undefined || newer(e.id, from))) {
      const instruction = data.instruction as Instruction | null;
      this.instructionFrom.set(e.siteId, e.id);
      setState((s) => ({ instructions: { ...s.instructions, [e.siteId]: instruction } }));
      // A silent instruction (lockdown) now in force silences whatever rings for this site.
      if (instruction?.sound === 'silent') {
        for (const v of Object.values(getState().incidents)) if (v.incident.siteId === e.siteId) stopAlert(v.incident.id);
      }
    }
    const incident = data.incident as Incident | undefined;
    if (LEAD_TYPES.has(e.type)) this.bumpRollcall(e.incidentId);
    switch (e.type) {
      case 'raised':
      case 'reraised': {
        if (!incident) return;
        // The presser's own alarm: shown, but no alarm sound in their hand.
        const own = e.type === 'raised' && incident.raisedBy?.id === this.personId;
        // A re-alert rings again, unless the person has already seen it (a resync applies events again).
        const seenRealert = this.realertSeen.get(incident.id);
        const freshRealert = e.type === 'reraised' && (seenRealert === undefined || newer(e.id, seenRealert));
        if (e.type === 'reraised' && newer(e.id, this.lastRealert.get(incident.id) ?? null)) this.lastRealert.set(incident.id, e.id);
        this.upsert(incident, own ? { acknowledged: true } : freshRealert ? { acknowledged: false } : {});
        // What the device holds, not the event: an end seen first (events can arrive out of order) stays.
        if (getState().incidents[incident.id]?.incident.state !== 'active') return;
        this.receipt(incident.id, 'delivered');
        if (own) this.remember(incident.id);
        if (!freshRealert && getState().incidents[incident.id]?.acknowledged) return;
        if (this.pending) {
          this.pending.add(incident.id);
          if (freshRealert) this.realerted.add(incident.id);
        } else this.alert(incident);
        return;
      }
      case 'message': {
        const body = String(data.body ?? '');
        const author = typeof data.authorName === 'string' ? data.authorName : null;
        const view = getState().incidents[e.incidentId];
        const key = messageKey(String(data.messageId ?? `e${e.id}`));
        if (view) this.update(e.incidentId, { messages: withMessage(view.messages, { key, body, at: e.at, author }) });
        // Ahead of its incident (another node's raise still in flight): let the catch-up apply it again.
        else this.seen.delete(e.id);
        return;
      }
      case 'repushed':
      case 'escalated': {
        const note = escalationOf(e);
        const view = getState().incidents[e.incidentId];
        if (view && note) this.update(e.incidentId, { escalations: mergeNotes(view.escalations, [note]) });
        else this.seen.delete(e.id);
        return;
      }
      case 'responded':
        if (data.personId === this.personId) this.update(e.incidentId, { myStatus: data.status as ResponseStatus });
        return;
      case 'resolved':
      case 'cancelled':
        stopAlert(e.incidentId);
        if (incident) this.upsert(incident, { endReason: typeof data.reason === 'string' ? data.reason : null });
        return;
    }
  }

  private alert(incident: Incident): void {
    if (incident.state !== 'active') return;
    startAlert(incident.id, this.soundOf(incident));
    const path = location.pathname;
    // A lead already watching this incident's roll call stays there.
    if (!path.startsWith(`/incidents/${incident.id}`)) navigate(`/alarm/${incident.id}`);
  }

  /**
   * Silent when the type is, and also when the site's current instruction is (a loud alarm raised
   * during a lockdown must not ring in a hiding place; the push payload says silent then too).
   */
  soundOf(incident: Incident): Sound {
    return incident.type.sound === 'silent' || getState().instructions[incident.siteId]?.sound === 'silent' ? 'silent' : 'loud';
  }

  private upsert(incident: Incident, patch: Partial<IncidentView>): void {
    setState((s) => {
      const old = s.incidents[incident.id];
      // An incident never reopens: an older event's "active" never replaces a resolved or cancelled one.
      const ended = old !== undefined && old.incident.state !== 'active' && incident.state === 'active';
      const view: IncidentView = {
        incident: ended ? old.incident : { ...old?.incident, ...incident },
        messages: old?.messages ?? [],
        myStatus: old?.myStatus ?? null,
        acknowledged: old?.acknowledged ?? this.acknowledgedIds().includes(incident.id),
        endReason: old?.endReason ?? null,
        escalations: old?.escalations ?? [],
        ...patch,
      };
      return { incidents: { ...s.incidents, [incident.id]: view } };
    });
  }

  private update(incidentId: string, patch: Partial<IncidentView>): void {
    setState((s) => {
      const old = s.incidents[incidentId];
      return old ? { incidents: { ...s.incidents, [incidentId]: { ...old, ...patch } } } : {};
    });
  }

  private bumpRollcall(incidentId: string): void {
    setState((s) => ({ rollcallVersion: { ...s.rollcallVersion, [incidentId]: (s.rollcallVersion[incidentId] ?? 0) + 1 } }));
  }
}

export const realtime = new RealtimeClient();
