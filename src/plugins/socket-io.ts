import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract/realtime.js';
import type { Principal } from '../modules/auth/policies.js';
import { InterNodeStream } from './inter-node-stream.js';

/** What a connected socket carries once its handshake is accepted (modules/realtime). */
export interface SocketData {
  principal: Principal;
  /** When the handshake sent its session check (`performance.now()`), for the second look after the join. */
  checkedAt: number;
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
 * Socket.IO on the app's HTTP server, each node with its own devices only, and, when REDIS_URL is set,
 * the inter-node stream that carries what the other nodes must do for theirs: deliveries (ADR 030) and
 * ended sessions (ADR 033). Infrastructure only: the protocol spoken over it is modules/realtime's.
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
  let writer: Redis | undefined;
  let stream: InterNodeStream | undefined;
  const url = app.config.REDIS_URL;
  if (url) {
    // The writer has its offline queue on and waits out an outage however long it lasts
    // (maxRetriesPerRequest null): a delivery or an ended session reaches the other nodes late rather
    // than never. The reader is a connection of its own, since XREAD blocks.
    const connect = (name: string) => {
      const client = new Redis(url, { connectionName: name, retryStrategy: (n) => Math.min(n * 100, 1000), maxRetriesPerRequest: null });
      client.on('error', (err) => app.log.debug({ err: err.message, connection: name }, 'inter-node redis error'));
      return client;
    };
    writer = connect('samlarm-inter-node-writer');
    stream = new InterNodeStream(writer, connect('samlarm-inter-node'), `${app.config.REDIS_KEY_PREFIX}inter-node`, app.log);
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
    await stream?.close();
    if (writer) {
      // QUIT goes out after the appends queued before it, and does not hang if Redis is away.
      const client = writer;
      await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
      client.disconnect();
    }
  });
}, { name: 'socket-io', dependencies: ['config'] });
