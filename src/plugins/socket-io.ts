import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract/realtime.js';
import type { Principal } from '../modules/auth/policies.js';
import { InterNodeStream } from './inter-node-stream.js';

/** What a connected socket carries once its handshake is accepted (modules/realtime). */
export interface SocketData {
  principal: Principal;
  token: string;
  deviceId: string;
}

/** Socket.IO's own server-side events are not used: messages between nodes go over the inter-node stream. */
type InterNodeEvents = Record<string, never>;

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterNodeEvents, SocketData>;
export type DeviceSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterNodeEvents, SocketData>;

/** Messages to every other node, in order, from where each node was (ADR 030). */
export interface InterNode {
  send(payload: unknown): void;
  onMessage(listener: (payload: unknown) => void): void;
  /** The stream no longer holds what this node had yet to read (trimmed, or lost with Redis): messages may be gone. */
  onGap(listener: () => void): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    io: {
      server: IoServer;
      /** The other nodes, behind Redis; null on a single node (REDIS_URL unset). */
      nodes: InterNode | null;
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
 * REDIS_URL is set, and the inter-node stream that carries deliveries to the other nodes (ADR 030).
 * Infrastructure only: the protocol spoken over it is modules/realtime's.
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
  let adapterRedis: Redis | undefined;
  let stream: InterNodeStream | undefined;
  if (app.config.REDIS_URL) {
    // A connection of its own with the offline queue on: the adapter's reads wait out a Redis restart.
    // Commands wait out an outage however long it lasts (maxRetriesPerRequest null): a session's
    // disconnect or a delivery is sent late rather than dropped.
    adapterRedis = new Redis(app.config.REDIS_URL, { retryStrategy: (n) => Math.min(n * 100, 1000), maxRetriesPerRequest: null });
    const watched = (client: Redis) => {
      client.on('error', (err) => app.log.debug({ err: err.message }, 'adapter redis error'));
      handleFireAndForget(client, app.log);
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
    stream = new InterNodeStream(adapterRedis, adapterRedis.duplicate({ connectionName: 'samlarm-inter-node' }), `${app.config.REDIS_KEY_PREFIX}inter-node`, app.log);
  }
  const nodes = stream ?? null;
  app.decorate('io', { server, nodes });
  // Read once every module has said what it listens for: nothing read is for no one.
  app.addHook('onReady', async () => nodes?.start());

  app.addHook('preClose', async () => {
    // Close transports without a disconnect packet: clients see the connection drop and reconnect
    // to another node (disconnectSockets(true) would make them give up).
    server.engine.close();
  });
  app.addHook('onClose', async () => {
    // close() publishes the node's goodbye without waiting for it: QUIT is queued behind it, so it goes
    // out before the connection ends (and does not hang if Redis is away).
    await server.of('/').adapter.close();
    await stream?.close();
    if (adapterRedis) {
      const client = adapterRedis;
      await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
      client.disconnect();
    }
  });
}, { name: 'socket-io', dependencies: ['config'] });
