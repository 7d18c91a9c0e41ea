import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    /** The node's Redis connection, or null when REDIS_URL is unset (single node, in-process fan-out). */
    redis: Redis | null;
  }
}

export default fp(async (app) => {
  const url = app.config.REDIS_URL;
  if (!url) {
    app.decorate('redis', null);
    return;
  }
  const redis = new Redis(url, {
    // Commands fail at once while disconnected instead of queueing: callers decide what to do.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: true,
  });
  redis.on('error', (err) => app.log.warn({ err: err.message }, 'redis connection error'));
  await redis.connect().catch((err: Error) => app.log.warn({ err: err.message }, 'redis not reachable at start-up'));
  app.decorate('redis', redis);
  app.addHook('onClose', async () => {
    redis.disconnect();
  });
}, { name: 'redis', dependencies: ['config'] });
