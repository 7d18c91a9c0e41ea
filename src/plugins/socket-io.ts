import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract/realtime.js';
import type { Principal } from '../modules/auth/policies.js';

/** What a connected socket carries once its handshake is accepted (modules/realtime). */
export interface SocketData {
  principal: Principal;
  token: string;
  deviceId: string;
}

/** Server-side events between nodes: each module that fans out across nodes names its own. */
export type InterNodeEvents = Record<string, (payload: never) => void>;

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterNodeEvents, SocketData>;

declare module 'fastify' {
  interface FastifyInstance {
    io: {
      server: IoServer;
      /** Other nodes exist behind the Redis adapter and receive server-side events. */
      clustered: boolean;
      /**
       * Called after any of the adapter's Redis connections comes back: whatever crossed between nodes
       * while it was down may be lost (the adapter's pub/sub drops it).
       */
      onReconnect(listener: () => void): void;
    };
  }
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

/**
 * Socket.IO on the app's HTTP server, across nodes through the Redis Streams adapter (ADR 007) when
 * REDIS_URL is set. Infrastructure only: the protocol spoken over it is modules/realtime's.
 */
export default fp(async (app) => {
  const server: IoServer = new Server(app.server, {
    path: '/socket.io',
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: 8_000,
    maxHttpBufferSize: 64 * 1024,
    cors: { origin: false },
    // A draining node takes no new connections; refused clients retry, and the balancer sends them elsewhere.
    allowRequest: (_request, callback) => callback(null, !app.lifecycle.draining),
  });
  const listeners: (() => void)[] = [];
  let adapterRedis: Redis | undefined;
  if (app.config.REDIS_URL) {
    // A connection of its own with the offline queue on: the adapter's reads wait out a Redis restart.
    // Commands wait out an outage however long it lasts (maxRetriesPerRequest null): a session's
    // disconnect or a delivery is sent late rather than dropped.
    adapterRedis = new Redis(app.config.REDIS_URL, { retryStrategy: (n) => Math.min(n * 100, 1000), maxRetriesPerRequest: null });
    const watched = (client: Redis) => {
      client.on('error', (err) => app.log.debug({ err: err.message }, 'adapter redis error'));
      handleFireAndForget(client, app.log);
      let connectedOnce = false;
      client.on('ready', () => {
        if (connectedOnce) setTimeout(() => listeners.forEach((listener) => listener()), 200);
        connectedOnce = true;
      });
      return client;
    };
    watched(adapterRedis);
    // The adapter opens its subscriber and stream-reader connections with duplicate(): watch those too.
    const duplicate = adapterRedis.duplicate.bind(adapterRedis);
    adapterRedis.duplicate = (...args: Parameters<Redis['duplicate']>) => watched(duplicate(...args));
    server.adapter(createAdapter(adapterRedis, {
      streamName: `${app.config.REDIS_KEY_PREFIX}socket.io`,
      channelPrefix: `${app.config.REDIS_KEY_PREFIX}socket.io`,
      maxLen: 100_000,
      blockTimeInMs: 2000,
      onlyPlaintext: true,
    }));
  }
  app.decorate('io', { server, clustered: adapterRedis !== undefined, onReconnect: (listener: () => void) => listeners.push(listener) });

  app.addHook('preClose', async () => {
    // Close transports without a disconnect packet: clients see the connection drop and reconnect
    // to another node (disconnectSockets(true) would make them give up).
    server.engine.close();
  });
  app.addHook('onClose', async () => {
    // close() publishes the node's goodbye without waiting for it: QUIT is queued behind it, so it goes
    // out before the connection ends (and does not hang if Redis is away).
    await server.of('/').adapter.close();
    if (adapterRedis) {
      const client = adapterRedis;
      await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
      client.disconnect();
    }
  });
}, { name: 'socket-io', dependencies: ['config'] });
