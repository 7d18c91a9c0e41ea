import Fastify from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import rateLimit from '@fastify/rate-limit';
import { randomUUID } from 'node:crypto';
import { trustProxySetting, type Config } from './config/config.js';
import configPlugin from './plugins/config.js';
import errorsPlugin, { frameworkErrors } from './plugins/errors.js';
import databasePlugin from './plugins/database.js';
import redisPlugin from './plugins/redis.js';
import metricsPlugin from './plugins/metrics.js';
import openapiPlugin from './plugins/openapi.js';
import authenticationPlugin from './plugins/authentication.js';
import { validatorCompiler } from './plugins/validation.js';
import jsonBodyPlugin from './plugins/json-body.js';
import securityHeadersPlugin from './plugins/security-headers.js';
import operationsRoutes from './modules/operations/routes.js';
import authRoutes from './modules/auth/routes.js';
import organisationRoutes from './modules/organisations/routes.js';
import siteRoutes from './modules/sites/routes.js';
import peopleRoutes from './modules/people/routes.js';
import alarmTypeRoutes from './modules/alarm-types/routes.js';
import alarmGroupRoutes from './modules/alarm-groups/routes.js';
import auditRoutes from './modules/audit/routes.js';
import alarmRoutes from './modules/alarms/routes.js';
import clockPlugin from './plugins/clock.js';
import socketIoPlugin from './plugins/socket-io.js';
import pushPlugin from './plugins/push.js';
import alarmsPlugin from './modules/alarms/plugin.js';
import deliveryPlugin from './modules/delivery/plugin.js';
import linksPlugin from './modules/links/plugin.js';
import linkRoutes from './modules/links/routes.js';
import realtimePlugin from './modules/realtime/plugin.js';
import deliveryRoutes from './modules/delivery/routes.js';
import reviewRoutes from './modules/review/routes.js';
import webAppPlugin from './plugins/web-app.js';
import privacyPlugin from './modules/privacy/plugin.js';
import privacyRoutes from './modules/privacy/routes.js';
import mailPlugin from './plugins/mail.js';
import oidcRoutes from './modules/oidc/routes.js';
import { systemClock, type Clock } from './lib/clock.js';

export interface AppOptions {
  config: Config;
  /** PostgreSQL to use: DATABASE_URL, or the embedded server's address. */
  connectionString: string;
  /** Time as the app sees it (tests inject their own). */
  clock?: Clock;
}

export const API_PREFIX = '/api/v1';

declare module 'fastify' {
  interface FastifyInstance {
    /** Set when shutdown begins: readiness fails so the load balancer stops sending new clients. */
    lifecycle: { draining: boolean };
  }
}

/** Builds the Fastify app without listening, so tests can drive it with inject() or listen themselves. */
export async function buildApp({ config, connectionString, clock = systemClock }: AppOptions) {
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'],
    },
    trustProxy: trustProxySetting(config.TRUST_PROXY),
    genReqId: () => randomUUID(),
    bodyLimit: 256 * 1024,
    frameworkErrors,
    // Clients that send a request slowly (slowloris) are cut off; Fastify's default has no request timeout.
    // Node checks the deadlines every connectionsCheckingInterval (30 s by default, which would stretch them).
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    http: { headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());

  app.decorate('lifecycle', { draining: false });
  await app.register(configPlugin, { config });
  await app.register(clockPlugin, { clock });
  await app.register(errorsPlugin);
  await app.register(jsonBodyPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(metricsPlugin);
  await app.register(databasePlugin, { connectionString });
  await app.register(redisPlugin);
  await app.register(openapiPlugin);
  await app.register(rateLimit, {
    global: false,
    // Shared across nodes when Redis is there; a Redis outage lets requests through rather than failing them.
    ...(app.redis ? { redis: app.redis, skipOnError: true, nameSpace: `${config.REDIS_KEY_PREFIX}rate-limit:` } : {}),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'rate_limited',
      message: `Too many requests. Try again in ${Math.ceil(context.ttl / 1000)} s.`,
    }),
  });

  await app.register(mailPlugin);
  await app.register(pushPlugin);
  await app.register(socketIoPlugin);
  // The alarm core, then the modules that plug into its pipeline (the order of their steps and
  // processors is declared in modules/alarms/pipeline.ts, not here).
  await app.register(alarmsPlugin);
  await app.register(linksPlugin);
  await app.register(deliveryPlugin);
  await app.register(realtimePlugin);
  await app.register(privacyPlugin);
  await app.register(operationsRoutes);
  await app.register(async (api) => {
    await api.register(authenticationPlugin);
    await api.register(authRoutes);
    await api.register(organisationRoutes);
    await api.register(siteRoutes);
    await api.register(peopleRoutes);
    await api.register(alarmTypeRoutes);
    await api.register(alarmGroupRoutes);
    await api.register(auditRoutes);
    await api.register(alarmRoutes);
    await api.register(deliveryRoutes);
    await api.register(reviewRoutes);
    await api.register(privacyRoutes);
    await api.register(oidcRoutes);
    await api.register(linkRoutes);
  }, { prefix: API_PREFIX });
  await app.register(webAppPlugin);

  return app;
}
