import fp from 'fastify-plugin';
import pLimit from 'p-limit';
import { Counter, Gauge } from 'prom-client';
import type { Static } from 'typebox';
import { Handshake, SocketRaiseRequest, SocketReceiptRequest, SyncRequest, type Ack } from '../../contract/realtime.js';
import { AppError, errorLanguage, toWireError } from '../../lib/errors.js';
import type { ClientToServerEvents } from '../../contract/realtime.js';
import type { DeviceSocket } from '../../plugins/socket-io.js';
import { principalForToken } from '../auth/sessions.js';
import { incidentSummary } from '../alarms/incidents.js';
import { presentCatchUp } from '../alarms/presenters.js';
import { parser, personRoom, sessionRoom } from './protocol.js';
import { Publisher, type RemoteDelivery } from './publisher.js';
import { SessionEnds, type SessionsEnded, type SessionsTarget } from './sessions.js';
import { SocketBudget } from './budget.js';
import { RollCallSummaries } from './rollcall-summaries.js';
import { SiteInstructions } from './site-instructions.js';

declare module 'fastify' {
  interface FastifyInstance {
    realtime: {
      /** Closes, on every node, the sockets of ended sessions: one session, or all of a person's (but one). */
      endSessions(target: SessionsTarget): void;
    };
  }
}

/**
 * What a connection is sent first (its catch-up, then its sites' instructions) is tried again this many times in
 * all, after 0.5, 1 and 2 s (each jittered by half), when the database cannot answer it: in a reconnection storm
 * thousands of handshakes queue for the pool at once, and a device whose catch-up failed would otherwise wait for
 * its own next sync (the app's is 20 s away) with the alarms it missed.
 */
const ON_CONNECT_ATTEMPTS = 4;
const onConnectDelayMs = (failed: number) => 500 * 2 ** (failed - 1) * (0.5 + Math.random());

/**
 * The share of a node's pool that devices' own database work may hold at once (a bulkhead, ADR 036): their
 * handshakes' session checks, catch-ups and sites' instructions, on connect and on sync. When a node dies, its
 * devices all come to the others at once, thousands of handshakes of a few statements each; the pool's queue is
 * first come, first served, and an alarm raised then would wait behind them. Half the pool: the rest is the alarms'.
 */
const deviceWorkShare = (poolMax: number) => Math.max(1, Math.floor(poolMax / 2));

const parse = {
  handshake: parser(Handshake),
  sync: parser(SyncRequest),
  receipt: parser(SocketReceiptRequest),
  raise: parser(SocketRaiseRequest),
};

/**
 * The device side of the alarm path (docs/realtime.md): bearer-token handshake, a room per person,
 * catch-up from the device's cursor, receipts and raises answered through acks; and, as the alarm
 * pipeline's after-commit processors, committed events to devices and live roll-call counts.
 */
export default fp(async (app) => {
  const { server: io, nodes } = app.io;
  const published = new Counter({
    name: 'samlarm_incident_events_published_total',
    help: 'Timeline events this node published to devices, by type (raised, responded, resolved…)',
    labelNames: ['type'] as const,
    registers: [app.metrics],
  });
  const refused = new Counter({
    name: 'samlarm_socket_events_refused_total',
    help: 'Socket events answered rate_limited, by event',
    labelNames: ['event'] as const,
    registers: [app.metrics],
  });
  const audienceReads = new Counter({
    name: 'samlarm_audience_reads_total',
    help: "Incidents' recipients read from PostgreSQL to deliver an event: misses of the node's cache (a new incident's come with it from the raising node)",
    registers: [app.metrics],
  });
  new Gauge({
    name: 'samlarm_connected_devices',
    help: 'Socket.IO connections open on this node',
    registers: [app.metrics],
    collect() {
      this.set(io.engine.clientsCount);
    },
  });
  const log = app.log.child({ category: 'realtime' });
  const publisher = new Publisher(io, nodes, app.db, app.alarms, log, {
    published: (type) => published.inc({ type }),
    audienceRead: () => audienceReads.inc(),
  });
  const summaries = new RollCallSummaries(app.db, publisher, app.clock, log);
  app.alarms.pipeline.afterCommit('publish-to-devices', (change) => publisher.publish(change));
  app.alarms.pipeline.afterCommit('roll-call-summaries', (change) => summaries.process(change));
  const siteInstructions = new SiteInstructions(app.db, publisher, log);
  app.alarms.pipeline.afterCommit('site-instructions', (change) => siteInstructions.process(change));
  const sessionEnds = new SessionEnds(io, nodes, app.db, log);
  // From other nodes: deliveries, to this node's devices only (each node delivers its own), and ended sessions.
  nodes?.onMessage((payload) => {
    const message = payload as RemoteDelivery | SessionsEnded;
    if (message.kind === 'sessions_ended') sessionEnds.receive(message);
    else void publisher.receive(message);
  });
  // Only when the stream no longer holds what this node had yet to read (ADR 030) may a message be gone:
  // this node's devices then sync from their cursors, and its sockets of ended sessions close.
  nodes?.onGap(() => {
    io.local.emit('sync_hint');
    void sessionEnds.closeEndedAfterGap();
  });
  const budget = new SocketBudget();
  const deviceWork = pLimit(deviceWorkShare(app.config.DATABASE_POOL_MAX));
  new Gauge({
    name: 'samlarm_device_work_waiting',
    help: "Devices' handshakes, catch-ups and site instructions waiting for their share of the database pool (a reconnection storm)",
    registers: [app.metrics],
    collect() {
      this.set(deviceWork.pendingCount);
    },
  });

  app.decorate('realtime', { endSessions: (target) => sessionEnds.end(target) });

  io.use((socket, next) => {
    void (async () => {
      const hello = parse.handshake(socket.handshake.auth);
      const checkedAt = performance.now();
      // A device that gave up while its check waited for its turn is not checked at all.
      const principal = await deviceWork(async () => (socket.conn.readyState === 'open' ? principalForToken(app.db, app.config, hello.token) : null));
      if (!principal) throw new AppError('unauthenticated');
      Object.assign(socket.data, { principal, checkedAt, token: hello.token, deviceId: hello.deviceId });
    })().then(() => next(), (err: unknown) => {
      const { body } = toWireError(err, errorLanguage(undefined, socket.handshake.headers['accept-language']));
      const error = new Error(body.message) as Error & { data: unknown };
      error.data = body;
      next(error);
    });
  });

  io.on('connection', (socket: DeviceSocket) => {
    const { principal, deviceId } = socket.data;
    void socket.join([personRoom(principal.personId), sessionRoom(principal.sessionId)]);
    const socketLog = log.child({ personId: principal.personId, deviceId });

    /**
     * Runs a handler, answering with { ok, data } or { ok: false, error } (never a thrown error), with
     * the session's current rights: roles may have changed since the handshake, and a revoked session
     * stops at its next action. `session: 'checked-by-work'`: the work checks the session itself where it
     * writes (receipts: thousands within a second of an alarm, checked per batch, not per event). Events
     * beyond the socket's and the person's budget are answered rate_limited before anything else is done;
     * a raise has a budget of its own, so a flood never starves it.
     */
    const handle = <T>(
      name: keyof ClientToServerEvents, work: (payload: unknown) => Promise<T>,
      options: { session: 'reread' | 'checked-by-work'; devicesShare?: boolean } = { session: 'reread' },
    ) => {
      socket.on(name, ((...args: unknown[]) => {
        // An event sent without a payload has its acknowledgement first.
        const ack = typeof args.at(-1) === 'function' ? args.at(-1) as (answer: Ack<T>) => void : undefined;
        const payload = typeof args[0] === 'function' ? undefined : args[0];
        const verdict = budget.take(socket.id, principal.personId, name === 'raise' ? 'raise' : 'other');
        if (verdict !== 'ok') {
          refused.inc({ event: name });
          ack?.({ ok: false, error: toWireError(new AppError('rate_limited'), socket.data.principal.language).body });
          if (verdict === 'abusive') {
            socketLog.warn({ event: name }, 'socket disconnected: far over its event budget');
            socket.disconnect(true);
          }
          return;
        }
        const handler = async () => {
          if (options.session === 'reread') {
            const current = await principalForToken(app.db, app.config, socket.data.token);
            if (!current) throw new AppError('unauthenticated');
            socket.data.principal = current;
          }
          return work(payload);
        };
        void (options.devicesShare ? deviceWork(handler) : handler()).then(
          (data) => ack?.({ ok: true, data }),
          (err: unknown) => {
            const { status, body } = toWireError(err, socket.data.principal.language);
            if (status >= 500) socketLog.error({ err, event: name }, 'socket handler failed');
            ack?.({ ok: false, error: body });
            // After the answer, so the device learns why: queued packets are sent before the transport closes.
            if (body.code === 'unauthenticated') socket.disconnect(true);
          },
        );
      }) as never);
    };

    /**
     * The instruction now at each of the person's sites (ADR 027): on connect and with every sync, so a
     * `site_instruction` lost between nodes is at worst late, like any event (invariant 3).
     */
    const sendSiteInstructions = () => deviceWork(async () => {
      if (!socket.connected) return;
      for (const notice of await siteInstructions.welcome(socket.data.principal.personId, app.clock.now())) socket.emit('site_instruction', notice);
    });
    handle('sync', async (payload) => {
      const { cursor, epoch = null } = parse.sync(payload);
      const answer = presentCatchUp(await app.alarms.catchUp(socket.data.principal.personId, { cursor, epoch }));
      void sendSiteInstructions().catch((err: unknown) => socketLog.warn({ err }, 'site instructions on sync failed; the next sync sends them'));
      return answer;
    }, { session: 'reread', devicesShare: true });
    handle('receipt', async (payload) => {
      const r = parse.receipt(payload);
      await app.alarms.recordReceipt(socket.data.principal, r.incidentId, { kind: r.kind, deviceId, channel: 'socket' });
      return null;
    }, { session: 'checked-by-work' });
    handle('raise', async (payload) => {
      const result = await app.alarms.raise(socket.data.principal, parse.raise(payload));
      return { outcome: result.outcome, incident: incidentSummary(result.incident), instruction: result.instruction };
    });
    socket.on('disconnect', () => budget.forget(socket.id, principal.personId));

    // Checked by the handshake's parser: where the device is, for its first catch-up.
    const { cursor = null, epoch = null } = socket.handshake.auth as Static<typeof Handshake>;
    /** Runs `work` until it succeeds, ON_CONNECT_ATTEMPTS times at most and while the socket stays connected; undefined if it never did. */
    const onConnect = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
      for (let attempt = 1; socket.connected; attempt++) {
        try {
          return await work();
        } catch (err) {
          if (attempt === ON_CONNECT_ATTEMPTS) {
            socketLog.warn({ err, attempts: attempt }, `${what} on connect failed; the device's next sync sends it`);
            return undefined;
          }
          socketLog.debug({ err, attempt }, `${what} on connect failed; trying again`);
          await new Promise((resolve) => setTimeout(resolve, onConnectDelayMs(attempt)));
        }
      }
      return undefined;
    };
    void (async () => {
      const live = await onConnect('catch-up', () => deviceWork(async () => {
        if (!socket.connected) return false;
        // Checked again now that the socket is in its session's rooms, if this node read of an end since the
        // handshake's check: a sign-out that committed after the check but before the join would otherwise
        // have missed this socket (ADR 035). Most handshakes (a reconnection storm's thousands) need no second query.
        if (sessionEnds.recent.mayHaveEnded(principal, socket.data.checkedAt) && !(await principalForToken(app.db, app.config, socket.data.token))) {
          socket.disconnect(true);
          return false;
        }
        socket.emit('catch_up', presentCatchUp(await app.alarms.catchUp(principal.personId, { cursor, epoch })));
        return true;
      }));
      if (live) await onConnect('site instructions', sendSiteInstructions);
    })();
  });

  app.addHook('onClose', async () => {
    summaries.close();
  });
}, { name: 'realtime', dependencies: ['database', 'config', 'metrics', 'clock', 'alarms', 'socket-io'] });
