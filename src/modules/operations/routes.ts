import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../lib/errors.js';
import { ErrorResponse, StringEnum } from '../../lib/schemas.js';
import { bearerToken } from '../../plugins/authentication.js';
import { checkReadiness, registerRedisGauge } from './readiness.js';
import { metricsTokenMatches } from './metrics-token.js';

const Check = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()), ms: Type.Integer() });
const ReadinessView = Type.Object({
  status: StringEnum(['ready', 'not_ready']),
  code: Type.Optional(Type.String({ description: 'not_ready when Postgres fails or the node is draining' })),
  failing: Type.Array(Type.String(), { description: 'What makes the node not ready: postgres, draining' }),
  degraded: Type.Array(Type.String(), { description: 'Failing parts the node still works without: redis (other nodes\' devices catch up later)' }),
  checks: Type.Object({ postgres: Check, redis: Type.Optional(Check) }),
});

/** Operations endpoints, outside /api/v1 and without authentication, for load balancers and Prometheus. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  registerRedisGauge(app.metrics, app.redis);

  app.get('/healthz', {
    config: { public: true },
    schema: { tags: ['operations'], summary: 'The process is up', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: { public: true },
    schema: {
      tags: ['operations'], summary: 'Ready for traffic: Postgres answers and the node is not draining; Redis down is reported as degraded (ADR 029)',
      security: [], response: { 200: ReadinessView, 503: ReadinessView },
    },
  }, async (_request, reply) => {
    const result = await checkReadiness(app.db, app.redis, app.lifecycle.draining);
    const postgres = result.checks.postgres ?? { ok: false, ms: 0 };
    const failing = [...(postgres.ok ? [] : ['postgres']), ...(result.draining ? ['draining'] : [])];
    const body = {
      status: result.ready ? 'ready' as const : 'not_ready' as const, failing, degraded: result.degraded, checks: { ...result.checks, postgres },
    };
    if (result.ready) return body;
    return reply.status(503).send({ ...body, code: 'not_ready' });
  });

  app.get('/metrics', {
    config: { public: true },
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics (text format), with `Authorization: Bearer <METRICS_TOKEN>`; not served without METRICS_TOKEN',
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'Prometheus text exposition format' }), 401: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    const expected = app.config.METRICS_TOKEN;
    if (!expected) throw new AppError('not_found');
    if (!metricsTokenMatches(bearerToken(request.headers.authorization), expected)) throw new AppError('unauthenticated');
    reply.header('content-type', app.metrics.contentType);
    return app.metrics.metrics();
  });
};

export default routes;
