import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../lib/errors.js';
import { Nullable, OrganisationParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import { auditSiteScope, canReadAuditLog, canSeeOrganisation } from '../auth/policies.js';
import { auditLookups, listAudit } from './audit.js';
import { describeAudit } from './describe.js';

const Words = Type.Object({ sv: Type.String(), en: Type.String() });

const AuditEntry = Type.Object({
  id: Type.String(),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.String(),
  actor: Nullable(Type.Object({ id: Uuid, name: Nullable(Type.String()) })),
  text: Type.Array(Words, { description: 'The change in words, one sentence per part, in Swedish and English' }),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Nullable(Type.String()),
  at: Timestamp,
});

const ENTITY_TYPES = ['person', 'site', 'alarm_group', 'alarm_type', 'organisation'] as const;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/organisations/:organisationId/audit-log', {
    schema: {
      tags: ['audit'],
      summary: 'Configuration changes in an organisation, newest first, in words (organisation admins: all; rektorer: their sites)',
      params: OrganisationParams,
      querystring: Type.Object({
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'Page: entries with a smaller id' })),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        siteId: Type.Optional(Uuid),
        personId: Type.Optional(Type.String({ format: 'uuid', description: 'Changes made by or to this person' })),
        entityType: Type.Optional(StringEnum(ENTITY_TYPES)),
        from: Type.Optional(Timestamp),
        until: Type.Optional(Timestamp),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ entries: Type.Array(AuditEntry), nextBefore: Nullable(Type.String()) }), ...commonErrors },
    },
  }, async (request) => {
    const { organisationId } = request.params;
    const principal = request.principal;
    if (!canSeeOrganisation(principal, organisationId)) throw new AppError('not_found');
    if (!canReadAuditLog(principal, organisationId)) throw new AppError('forbidden');
    const q = request.query;
    const scope = auditSiteScope(principal, organisationId);
    // A rektor reads the words only: before and after may hold details of people they may not read.
    const raw = scope === 'all';
    const [rows, lookups] = await Promise.all([
      listAudit(app.db, organisationId, {
        before: q.before ?? null, limit: q.limit, scope,
        siteId: q.siteId, personId: q.personId?.toLowerCase(), entityType: q.entityType, from: q.from, until: q.until,
      }),
      auditLookups(app.db, organisationId),
    ]);
    const last = rows.at(-1);
    return {
      entries: rows.map((r) => ({
        id: r.id,
        action: r.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        actor: r.actor_person_id ? { id: r.actor_person_id, name: r.actor_name } : null,
        text: describeAudit({ action: r.action, entityType: r.entity_type, actorName: r.actor_name, before: r.before, after: r.after }, lookups),
        before: raw ? r.before : null,
        after: raw ? r.after : null,
        requestId: r.request_id,
        at: r.at.toISOString(),
      })),
      nextBefore: rows.length === request.query.limit && last ? last.id : null,
    };
  });
};

export default routes;
