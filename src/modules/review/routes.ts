import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, IdParams, OrganisationParams, StringEnum, Uuid, commonErrors } from '../../lib/schemas.js';
import { EXPORT_FORMATS, exportIncident } from './exports.js';
import { saveRecord } from './record.js';
import { incidentReview, type IncidentReview } from './review.js';
import { RecordResponse, ReviewResponse, RevisionSchema, SaveRecordBody, StatisticsResponse } from './schemas.js';
import { organisationStatistics } from './statistics.js';
import type { Revision } from './record.js';
import { SEPARATORS, type Separator } from './csv.js';

const tags = ['review'];
const Lang = StringEnum(['sv', 'en'] as const, { description: 'Language of the charts (default sv)' });
const DAY_MS = 24 * 60 * 60 * 1000;

const presentRevision = (r: Revision) => ({ ...r, at: new Date(r.at).toISOString() });

function presentReview(r: IncidentReview) {
  const i = r.data.incident;
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    incident: {
      ...i, type: i.type, raisedAt: i.raisedAt.toISOString(), endedAt: iso(i.endedAt),
      pressers: r.data.presses.map((p) => ({ personId: p.personId, name: p.name, pressedAt: p.pressedAt.toISOString(), location: p.location })),
    },
    ...r.computed,
    charts: r.charts,
    record: { current: r.revisions[0] ? presentRevision(r.revisions[0]) : null, draft: r.record, revisions: r.revisions.length, mayEdit: r.mayEdit },
    authorityReport: r.authorityReport,
    cap: r.cap.map(({ sequence, msgType, identifier, sent }) => ({ sequence, msgType, identifier, sent })),
    linked: r.linked,
  };
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/incidents/:id/review', {
    schema: {
      tags, summary: 'The post-incident review: every figure, per channel and person, the account minute by minute, the charts, the record, the draft report (leads and reviewers)',
      params: IdParams,
      querystring: Type.Object({ lang: Type.Optional(Lang) }, { additionalProperties: false }),
      response: { 200: ReviewResponse, ...commonErrors },
    },
  }, async (request) =>
    presentReview(await incidentReview(app.db, app.clock, request.principal, request.params.id, request.query.lang ?? 'sv')));

  app.get('/incidents/:id/review/record', {
    schema: {
      tags, summary: 'The review record: its current revision, every earlier one (newest first), and a draft prefilled from the timeline',
      params: IdParams,
      response: { 200: RecordResponse, ...commonErrors },
    },
  }, async (request) => {
    const review = await incidentReview(app.db, app.clock, request.principal, request.params.id, 'sv');
    return {
      current: review.revisions[0] ? presentRevision(review.revisions[0]) : null,
      draft: review.record,
      revisions: review.revisions.map(presentRevision),
      mayEdit: review.mayEdit,
    };
  });

  app.put('/incidents/:id/review/record', {
    schema: {
      tags, summary: 'Save the review record as a new revision (never overwritten); closed signs it off, open after closed reopens it (leads)',
      params: IdParams,
      body: SaveRecordBody,
      response: { 201: RevisionSchema, ...commonErrors, 409: ErrorResponse },
    },
  }, async (request, reply) => {
    const saved = await saveRecord(app.db, app.clock, request.principal, request.params.id, request.body);
    request.log.info({ incidentId: request.params.id, revision: saved.revision, status: saved.status }, 'review record saved');
    return reply.status(201).send(presentRevision(saved));
  });

  app.get('/incidents/:id/export/:format', {
    schema: {
      tags, summary: 'Export one incident: json (canonical, versioned, with its SHA-256), csv (recipients, or ?table=timeline), pdf (Händelserapport), cap (CAP 1.2 XML). Audited.',
      params: Type.Object({ id: Uuid, format: StringEnum(EXPORT_FORMATS) }),
      querystring: Type.Object({
        table: Type.Optional(StringEnum(['recipients', 'timeline'] as const, { description: 'csv: which table (default recipients)' })),
        separator: Type.Optional(StringEnum(Object.keys(SEPARATORS) as Separator[], { description: 'csv: semicolon (default, Swedish Excel), comma or tab' })),
        message: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'cap: which message of the chain, from 1 (default: the newest)' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Unsafe<Buffer>(Type.String({ description: 'The file: application/json, text/csv, application/pdf or application/cap+xml' })),
        ...commonErrors,
      },
    },
  }, async (request, reply) => {
    const { id, format } = request.params;
    const file = await exportIncident(app.db, app.clock, request.principal, id, format, {
      table: request.query.table ?? 'recipients', separator: request.query.separator ?? 'semicolon', message: request.query.message ?? null,
    }, request.id);
    request.log.info({ incidentId: id, format, bytes: file.body.length }, 'incident exported');
    return reply
      .header('content-type', file.contentType)
      .header('content-disposition', `attachment; filename="${file.filename}"`)
      .header('x-content-sha256', file.sha256)
      .header('cache-control', 'no-store')
      .send(file.body);
  });

  app.get('/organisations/:organisationId/statistics', {
    schema: {
      tags, summary: 'Statistics over incidents: per site, type and month, drills apart; times to all reached and to acknowledgement; unreached rate; device readiness; drill scores',
      params: OrganisationParams,
      querystring: Type.Object({
        from: Type.Optional(Type.String({ format: 'date-time', pattern: '^(?!0000-)', description: 'Default: a year before `to`' })),
        to: Type.Optional(Type.String({ format: 'date-time', pattern: '^(?!0000-)', description: 'Default: now' })),
        siteId: Type.Optional(Uuid),
        lang: Type.Optional(Lang),
      }, { additionalProperties: false }),
      response: { 200: StatisticsResponse, ...commonErrors },
    },
  }, async (request) => {
    const to = request.query.to ? new Date(request.query.to) : app.clock.now();
    const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 365 * DAY_MS);
    return organisationStatistics(app.db, request.principal, request.params.organisationId, {
      from, to, siteId: request.query.siteId ?? null, lang: request.query.lang ?? 'sv',
    });
  });
};

export default routes;
