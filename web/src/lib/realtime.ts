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
/** Receipt errors worth sending again (the server could not store it); others will never succeed. */
const RETRY_RECEIPT = new Set(['database_unavailable', 'internal_error', 'not_ready', 'rate_limited']);

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
  private personId = '';
  /** While a catch-up batch is applied: the incidents to alert for once it is all in. */
  private pending: Set<string> | null = null;
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
    socket.on('connect', () => setState({ connection: 'connected' }));
    socket.on('disconnect', (reason) => {
      setState({ connection: navigator.onLine ? 'connecting' : 'offline' });
      // The server ends a revoked session's sockets; find out whether we are still signed in.
      // Anything but a confirmed sign-out (a 503, the network) must not leave the device deaf: try again.
      if (reason === 'io server disconnect') {
        void api('GET', '/me').then(() => socket.connect(), (err: unknown) => {
          if (err instanceof ApiError && err.code === 'unauthenticated') return;
          window.setTimeout(() => {
            if (this.socket === socket && !socket.connected) socket.connect();
          }, 2000);
        });
      }
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      if (err.data?.code === 'unauthenticated') {
        this.stop();
        this.onSignedOut();
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
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    navigator.serviceWorker?.removeEventListener('message', this.onWorkerMessage);
    setState({ connection: 'offline' });
  }

  /** Forgets everything this device held for the signed-out person. */
  reset(): void {
    if (this.personId) localStorage.removeItem(this.cursorKey());
    this.cursor = null;
    this.seen.clear();
    this.instructionFrom.clear();
    this.receipts.clear();
    stopAlert();
    setState({ incidents: {}, instructions: {}, rollcalls: {}, rollcallVersion: {} });
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  sync(): void {
    const socket = this.socket;
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
    this.socket.emit('receipt', { incidentId: r.incidentId, kind: r.kind }, (ack: Ack<null>) => {
      if (!ack.ok && RETRY_RECEIPT.has(ack.error.code)) r.failed = true;
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
    const view = getState().incidents[incidentId];
    if (!view || view.acknowledged) return;
    this.update(incidentId, { acknowledged: true });
    this.remember(incidentId);
    this.receipt(incidentId, 'acknowledged');
  }

  /** Records the person's own answer at once (the server's `responded` event confirms it). */
  answered(incidentId: string, status: ResponseStatus): void {
    stopAlert(incidentId);
    this.update(incidentId, { myStatus: status, acknowledged: true });
    this.remember(incidentId);
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
    setState((s) => ({ instructions: { ...s.instructions, [incident.siteId]: instruction } }));
  }

  private readonly onOnline = () => {
    setState({ connection: 'connecting' });
    if (this.socket && !this.socket.connected) this.socket.connect();
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
  }

  private applyCatchUp(body: CatchUp): void {
    if (body.kind === 'events') {
      // Alert only for what is still going on after the whole batch: a device that missed a raise and
      // its all clear must not ring for an alarm that is already over.
      this.pending = new Set();
      for (const e of body.events) this.apply(e, false);
      const pending = this.pending;
      this.pending = null;
      for (const id of pending) {
        const view = getState().incidents[id];
        if (view && !view.acknowledged && view.myStatus === null) this.alert(view.incident);
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
    // The server's current state replaces whatever live events said.
    this.instructionFrom.clear();
    for (const siteId of Object.keys(getState().instructions)) instructions[siteId] = null;
    const fresh: Incident[] = [];
    const remembered = this.acknowledgedIds();
    for (const item of list) {
      const old = before[item.incident.id];
      incidents[item.incident.id] = {
        incident: item.incident,
        messages: item.messages.map((m) => ({ key: `m${m.id}`, body: m.body, at: m.at, author: m.authorName })),
        myStatus: item.myStatus,
        acknowledged: (old?.acknowledged ?? remembered.includes(item.incident.id)) || item.myStatus !== null,
        endReason: null,
        escalations: old?.escalations ?? [],
      };
      instructions[item.incident.siteId] = item.instruction;
      if (!old && !incidents[item.incident.id]?.acknowledged) fresh.push(item.incident);
    }
    // Incidents this device showed as active that the server no longer lists have ended: learn how.
    const ended = Object.values(before).filter((v) => v.incident.state === 'active' && !incidents[v.incident.id]);
    for (const v of Object.values(before)) if (v.incident.state !== 'active' && !incidents[v.incident.id]) incidents[v.incident.id] = v;
    setState({ incidents, instructions });
    for (const v of ended) {
      void api<{ incident: Incident & { endReason: string | null } }>('GET', `/incidents/${v.incident.id}`)
        .then(({ incident }) => this.upsert(incident, { endReason: incident.endReason }))
        .catch(() => undefined);
    }
    for (const incident of Object.values(incidents)) {
      if (incident.incident.state !== 'active') stopAlert(incident.incident.id);
      else this.receipt(incident.incident.id, 'delivered');
    }
    for (const incident of fresh) this.alert(incident);
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
        const own = e.type === 'raised' && incident.raisedBy.id === this.personId;
        this.upsert(incident, own ? { acknowledged: true } : e.type === 'reraised' ? { acknowledged: false } : {});
        if (incident.state !== 'active') return;
        this.receipt(incident.id, 'delivered');
        if (own) this.remember(incident.id);
        if (e.type !== 'reraised' && getState().incidents[incident.id]?.acknowledged) return;
        if (this.pending) this.pending.add(incident.id);
        else this.alert(incident);
        return;
      }
      case 'message': {
        const body = String(data.body ?? '');
        const author = typeof data.authorName === 'string' ? data.authorName : null;
        const view = getState().incidents[e.incidentId];
        if (view) this.update(e.incidentId, { messages: [...view.messages, { key: `e${e.id}`, body, at: e.at, author }] });
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
      const view: IncidentView = {
        incident: { ...old?.incident, ...incident },
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
