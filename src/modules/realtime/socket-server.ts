import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import { Server, type DefaultEventsMap } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { AppError, ERRORS } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import { isConnectionError } from '../../db/pool.js';
import type { Principal } from '../auth/policies.js';
import { principalForToken } from '../auth/sessions.js';
import { ReceiptBuffer } from '../alarms/receipts.js';
import { raiseAlarm, type AlarmDeps } from '../alarms/raise.js';
import { incidentSummary } from '../alarms/incidents.js';
import { catchUp } from './catch-up.js';
import { Publisher, REMOTE_DELIVERY, type RemoteDelivery } from './publisher.js';
import { Handshake, RaiseRequest, ReceiptRequest, SyncRequest, parse, type Ack } from './protocol.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** What the alarm use cases need: database, config, clock and the publisher to devices. */
    alarms: AlarmDeps;
    realtime: {
      io: Server;
      receipts: ReceiptBuffer;
      /** Closes, on every node, the sockets of ended sessions: one session, or all of a person's (but one). */
      endSessions(target: { sessionId: string } | { personId: string; exceptSessionId?: string }): void;
    };
  }
}

interface SocketData {
  principal: Principal;
  token: string;
  deviceId: string;
}

/** Server-side events between nodes: deliveries published by another node. */
interface InterNodeEvents {
  [REMOTE_DELIVERY]: (delivery: RemoteDelivery) => void;
}

function errorBody(err: unknown): Ack<never> {
  if (err instanceof AppError) {
    return { ok: false, error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
  }
  const code = isConnectionError(err) ? 'database_unavailable' : 'internal_error';
  return { ok: false, error: { code, message: ERRORS[code].message } };
}

/**
 * The Streams adapter sends its ephemeral messages (heartbeats, serverSideEmit) with PUBLISH and
 * subscribes without awaiting either promise. When the connection closes with one pending (at
 * shutdown, or a test closing its app), the rejection would go unhandled, which ends a Node
 * process. A handler is attached to every such promise; callers that await it still see the error.
 */
function handleFireAndForget(client: Redis, log: { debug: (obj: object, msg: string) => void }): void {
  for (const name of ['publish', 'spublish', 'subscribe', 'ssubscribe'] as const) {
    const original = client[name].bind(client) as (...args: unknown[]) => Promise<unknown>;
    const guarded = (...args: unknown[]) => {
      const result = original(...args);
      result.catch((err: unknown) => log.debug({ err: err instanceof Error ? err.message : String(err), command: name }, 'adapter redis command failed'));
      return result;
    };
    Object.assign(client, { [name]: guarded });
  }
}

export const personRoom = (personId: string): string => `person:${personId}`;
const sessionRoom = (sessionId: string): string => `session:${sessionId}`;

/**
 * Socket.IO on the app's HTTP server: bearer-token handshake, a room per person, catch-up from the
 * device's cursor, receipts, and raising alarms with an ack. Across nodes through the Redis
 * Streams adapter; whatever Redis loses, devices recover from Postgres by cursor.
 */
export default fp<{ clock: Clock }>(async (app, opts) => {
  const io = new Server<DefaultEventsMap, DefaultEventsMap, InterNodeEvents, SocketData>(app.server, {
    path: '/socket.io',
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: 8_000,
    maxHttpBufferSize: 64 * 1024,
    cors: { origin: false },
    // A draining node takes no new connections; refused clients retry, and the balancer sends them elsewhere.
    allowRequest: (_request, callback) => callback(null, !app.lifecycle.draining),
  });
  let adapterRedis: Redis | undefined;
  if (app.config.REDIS_URL) {
    // A connection of its own with the offline queue on: the adapter's reads wait out a Redis restart.
    // Commands wait out an outage however long it lasts (maxRetriesPerRequest null): a session's
    // disconnect or a delivery is sent late rather than dropped.
    adapterRedis = new Redis(app.config.REDIS_URL, { retryStrategy: (n) => Math.min(n * 100, 1000), maxRetriesPerRequest: null });
    const hintAfterReconnect = (client: Redis) => {
      client.on('error', (err) => app.log.debug({ err: err.message }, 'adapter redis error'));
      handleFireAndForget(client, app.log);
      let connectedOnce = false;
      client.on('ready', () => {
        // Whatever reached other nodes through this connection while it was down may be gone (the
        // adapter's pub/sub loses it): ask this node's devices to catch up from their cursors.
        if (connectedOnce) setTimeout(() => io.local.emit('sync_hint'), 200);
        connectedOnce = true;
      });
      return client;
    };
    hintAfterReconnect(adapterRedis);
    // The adapter opens its subscriber and stream-reader connections with duplicate(): watch those too.
    const duplicate = adapterRedis.duplicate.bind(adapterRedis);
    adapterRedis.duplicate = (...args: Parameters<Redis['duplicate']>) => hintAfterReconnect(duplicate(...args));
    io.adapter(createAdapter(adapterRedis, {
      streamName: `${app.config.REDIS_KEY_PREFIX}socket.io`,
      channelPrefix: `${app.config.REDIS_KEY_PREFIX}socket.io`,
      maxLen: 100_000,
      blockTimeInMs: 2000,
      onlyPlaintext: true,
    }));
  }

  const published = new Counter({
    name: 'samlarm_incident_events_published_total',
    help: 'Timeline events this node published to devices, by type (raised, responded, resolved…)',
    labelNames: ['type'] as const,
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
  const publisher = new Publisher(io, app.db, app.log, adapterRedis !== undefined, (type) => published.inc({ type }));
  // Deliveries published by other nodes: to this node's devices only (each node delivers its own).
  io.on(REMOTE_DELIVERY, (d) => {
    void publisher.receive(d);
  });
  const receipts = new ReceiptBuffer(app.db, app.log, (events) => publisher.publish(events));
  const deps: AlarmDeps = {
    db: app.db, config: app.config, clock: opts.clock,
    queueDeliveries: (tx, events) => app.delivery.queue(tx, events),
    publish: (events, audience) => {
      // Committed: this node's delivery worker sends the queued pushes now (other nodes' when they poll).
      app.delivery.worker.poke();
      return publisher.publish(events, audience);
    },
    resync: (personId) => publisher.resync(personId),
  };
  app.decorate('alarms', deps);
  app.decorate('realtime', {
    io,
    receipts,
    // A revoked session must stop receiving at once (a lost phone that only listens would otherwise
    // keep getting alarms); disconnecting with a packet makes the client stop reconnecting.
    endSessions: (target) => {
      if ('sessionId' in target) io.in(sessionRoom(target.sessionId)).disconnectSockets(true);
      else if (target.exceptSessionId) io.in(personRoom(target.personId)).except(sessionRoom(target.exceptSessionId)).disconnectSockets(true);
      else io.in(personRoom(target.personId)).disconnectSockets(true);
    },
  });

  io.use((socket, next) => {
    void (async () => {
      const hello = parse(Handshake, socket.handshake.auth);
      const principal = await principalForToken(app.db, app.config, hello.token);
      if (!principal) throw new AppError('unauthenticated');
      Object.assign(socket.data, { principal, token: hello.token, deviceId: hello.deviceId });
    })().then(() => next(), (err: unknown) => {
      const body = errorBody(err);
      const error = new Error(body.ok ? 'error' : body.error.message) as Error & { data: unknown };
      error.data = body.ok ? undefined : body.error;
      next(error);
    });
  });

  io.on('connection', (socket) => {
    const { principal, deviceId } = socket.data;
    void socket.join([personRoom(principal.personId), sessionRoom(principal.sessionId)]);
    const log = app.log.child({ personId: principal.personId, deviceId });

    const sendCatchUp = async (cursor: string | null) => {
      const result = await catchUp(app.db, socket.data.principal.personId, cursor);
      return result.kind === 'events'
        ? { kind: result.kind, cursor: result.cursor, events: result.events.map(Publisher.envelope) }
        : { kind: result.kind, cursor: result.cursor, reason: result.reason, incidents: result.incidents };
    };

    /** Runs a handler, answering with { ok, data } or { ok: false, error } (never a thrown error). */
    const handle = (name: string, work: (payload: unknown) => Promise<unknown>) => {
      socket.on(name as never, ((payload: unknown, ack?: unknown) => {
        void (async () => {
          // Every action acts with the session's current rights (roles may have changed since the
          // handshake), and a revoked session stops at its next action.
          const current = await principalForToken(app.db, app.config, socket.data.token);
          if (!current) throw new AppError('unauthenticated');
          socket.data.principal = current;
          return work(payload);
        })().then(
          (data) => typeof ack === 'function' && ack({ ok: true, data }),
          (err: unknown) => {
            if (!(err instanceof AppError)) log.error({ err, event: name }, 'socket handler failed');
            if (typeof ack === 'function') ack(errorBody(err));
            // After the answer, so the device learns why: queued packets are sent before the transport closes.
            if (err instanceof AppError && err.code === 'unauthenticated') socket.disconnect(true);
          },
        );
      }) as never);
    };

    handle('sync', async (payload) => sendCatchUp(parse(SyncRequest, payload).cursor));
    handle('receipt', async (payload) => {
      const r = parse(ReceiptRequest, payload);
      await receipts.add({ incidentId: r.incidentId, personId: socket.data.principal.personId, deviceId, kind: r.kind, channel: 'socket', at: new Date() });
      return null;
    });
    handle('raise', async (payload) => {
      const result = await raiseAlarm(deps, socket.data.principal, parse(RaiseRequest, payload));
      return { outcome: result.outcome, incident: incidentSummary(result.incident), instruction: result.instruction };
    });

    const cursor = socket.handshake.auth.cursor;
    void (async () => {
      // Checked again now that the socket is in its session's room: a sign-out that committed after
      // the handshake's check but before the join would otherwise have missed this socket.
      if (!(await principalForToken(app.db, app.config, socket.data.token))) {
        socket.disconnect(true);
        return;
      }
      socket.emit('catch_up', await sendCatchUp(typeof cursor === 'string' ? cursor : null));
    })().catch((err: unknown) => log.warn({ err }, 'catch-up on connect failed; the device will sync again'));
  });

  app.addHook('preClose', async () => {
    // Close transports without a disconnect packet: clients see the connection drop and reconnect
    // to another node (disconnectSockets(true) would make them give up).
    io.engine.close();
  });
  app.addHook('onClose', async () => {
    publisher.close();
    await receipts.flush();
    // close() publishes the node's goodbye without waiting for it: QUIT is queued behind it, so it goes
    // out before the connection ends (and does not hang if Redis is away).
    await io.of('/').adapter.close();
    if (adapterRedis) {
      const client = adapterRedis;
      await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
      client.disconnect();
    }
  });
}, { name: 'realtime', dependencies: ['database', 'config', 'metrics', 'delivery'] });
