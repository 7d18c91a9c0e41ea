import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../lib/errors.js';
import { Nullable, OrganisationParams, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import { canReadAuditLog, canSeeOrganisation } from '../auth/policies.js';
import { listAudit } from './audit.js';

const AuditEntry = Type.Object({
  id: Type.String(),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.String(),
  actor: Nullable(Type.Object({ id: Uuid, name: Nullable(Type.String()) })),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Nullable(Type.String()),
  at: Timestamp,
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/organisations/:organisationId/audit-log', {
    schema: {
      tags: ['audit'],
      summary: 'Configuration changes in an organisation, newest first (organisation admins)',
      params: OrganisationParams,
      querystring: Type.Object({
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'Page: entries with a smaller id' })),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ entries: Type.Array(AuditEntry), nextBefore: Nullable(Type.String()) }), ...commonErrors },
    },
  }, async (request) => {
    const { organisationId } = request.params;
    const principal = request.principal;
    if (!canSeeOrganisation(principal, organisationId)) throw new AppError('not_found');
    if (!canReadAuditLog(principal, organisationId)) throw new AppError('forbidden');
    const rows = await listAudit(app.db, organisationId, request.query.before ?? null, request.query.limit);
    const last = rows.at(-1);
    return {
      entries: rows.map((r) => ({
        id: r.id,
        action: r.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        actor: r.actor_person_id ? { id: r.actor_person_id, name: r.actor_name } : null,
        before: r.before,
        after: r.after,
        requestId: r.request_id,
        at: r.at.toISOString(),
      })),
      nextBefore: rows.length === request.query.limit && last ? last.id : null,
    };
  });
};

export default routes;
