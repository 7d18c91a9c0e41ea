import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { LinkedCounts, RollCallSummary } from '../../contract/alarms.js';
import { ErrorResponse, IdParams, Nullable, OrganisationParams, SiteParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import { confirmHeld, dismissHeld, heldAtSite } from './held.js';
import { sendLinkTest } from './link-test.js';
import { DIRECTIONS } from './crossing.js';
import { LINK_STATUSES, acceptLink, changeLinkStatus, linkDirectory, listLinks, proposeLink, readLink } from './links.js';
import { linkReach } from './reach.js';

const tags = ['links'];
const Direction = StringEnum(DIRECTIONS, { description: 'to_partner: alarms at the proposer\'s sites reach the partner\'s; to_proposer: the other way' });
const Side = StringEnum(['proposer', 'partner'] as const);
const SiteRef = Type.Object({ id: Uuid, name: Type.String() });
const Bilingual = Type.Object({ sv: Type.String(), en: Type.String() });

const LinkView = Type.Object({
  id: Uuid,
  status: StringEnum(LINK_STATUSES),
  side: Side,
  proposer: Type.Object({ organisationId: Uuid, name: Type.String() }),
  partner: Type.Object({ organisationId: Uuid, name: Type.String() }),
  sharePresserName: Type.Boolean({ description: 'The presser\'s name crosses with an alarm' }),
  reviewAt: Type.String({ format: 'date', description: 'After this date both sides are warned; the link keeps working' }),
  reviewDue: Type.Boolean(),
  note: Nullable(Type.String()),
  replacesLinkId: Nullable(Uuid),
  proposedAt: Timestamp,
  decidedAt: Nullable(Timestamp),
  statusChangedAt: Nullable(Timestamp),
  statusReason: Nullable(Type.String()),
  suspendedBy: Nullable(Side),
  pairs: Type.Array(Type.Object({ proposerSite: SiteRef, partnerSite: SiteRef })),
  directions: Type.Array(Type.Object({
    direction: Direction,
    alarmTypes: Type.Array(Type.Object({ id: Uuid, key: Type.String(), label: Bilingual, colour: Type.String(), icon: Type.String() })),
    receiving: Type.Array(Type.Object({
      site: SiteRef,
      groupCount: Type.Integer(),
      /** By name for the receiving side only. */
      groups: Nullable(Type.Array(SiteRef)),
      ableToReceive: Type.Integer({ description: 'Members of the receiving groups with a device that can receive alarms' }),
    })),
  })),
  warnings: Type.Array(Type.Object({
    code: StringEnum(['review_due', 'no_receiving_group', 'nobody_can_receive'] as const),
    direction: Nullable(Direction),
    siteName: Nullable(Type.String()),
  })),
  recent: Type.Array(Type.Object({
    crossingId: Uuid, at: Timestamp, direction: Direction, test: Type.Boolean(), drill: Type.Boolean(), alarmTypeId: Uuid,
    fromSiteName: Type.String(), toSiteName: Type.String(), state: LinkedCounts.properties.state, counts: Nullable(RollCallSummary),
  }), { description: 'The latest alarms and tests that crossed either way: what became of them, counts only' }),
});

const Reason = Type.Optional(Type.Object({ reason: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))) }, { additionalProperties: false }));
const ReceivingGroups = Type.Array(Type.Object({
  siteId: Uuid,
  groupIds: Type.Array(Uuid, { minItems: 1, maxItems: 50, uniqueItems: true }),
}, { additionalProperties: false }), { maxItems: 50 });
const TypeIds = (description: string) => Type.Array(Uuid, { maxItems: 50, uniqueItems: true, description });

const ProposalBody = Type.Object({
  partnerOrganisationId: Uuid,
  pairs: Type.Array(Type.Object({ siteId: Uuid, partnerSiteId: Uuid }, { additionalProperties: false }), {
    minItems: 1, maxItems: 50, uniqueItems: true, description: 'A site of yours and a site of the partner, e.g. the two tenants of one building',
  }),
  outgoingAlarmTypeIds: TypeIds('Alarm types raised at your sites that reach the partner\'s (built-in or your own)'),
  incomingAlarmTypeIds: TypeIds('Alarm types raised at the partner\'s sites that reach yours (built-in only)'),
  /** Your groups that get incoming alarms, for each of your sites. */
  incomingReceivingGroups: Type.Optional(ReceivingGroups),
  sharePresserName: Type.Optional(Type.Boolean({ description: 'Let the presser\'s name cross (default: it does not)' })),
  // Year 0 passes the date format but not PostgreSQL.
  reviewAt: Type.Optional(Type.String({ format: 'date', pattern: '^(?!0000-)', description: 'Default: one year from now' })),
  replacesLinkId: Type.Optional(Uuid),
  note: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
}, { additionalProperties: false });

const HeldView = Type.Object({
  id: Uuid, at: Timestamp, drill: Type.Boolean(),
  alarmType: Type.Object({ id: Uuid, key: Type.String(), label: Bilingual, colour: Type.String(), icon: Type.String() }),
  from: Type.Object({ organisationName: Type.String(), siteName: Type.String() }),
  location: Nullable(Type.String()),
  heldOnIncidentId: Nullable(Uuid),
});
const HeldDecision = Type.Object({ id: Uuid, state: StringEnum(['alerted', 'dismissed', 'not_crossed'] as const), linkedIncidentId: Nullable(Uuid) });

const linkResponse = { 200: LinkView, ...commonErrors, 409: ErrorResponse };

/** Links between organisations (docs/linking.md): each route validates, calls one use case, presents. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const deps = { db: app.db, clock: app.clock };

  app.get('/organisations/:organisationId/links', {
    schema: {
      tags, summary: 'The links of your organisation, either side (admins, crisis leads, rektorer)', params: OrganisationParams,
      response: { 200: Type.Object({ links: Type.Array(LinkView) }), ...commonErrors },
    },
  }, async (request) => ({ links: await listLinks(app.db, app.clock, request.principal, request.params.organisationId) }));

  app.post('/organisations/:organisationId/links', {
    schema: {
      tags, summary: 'Propose a link to another organisation (organisation admins); it takes effect when they accept it',
      params: OrganisationParams, body: ProposalBody, response: { 201: LinkView, ...commonErrors },
    },
  }, async (request, reply) => {
    const { incomingReceivingGroups, ...input } = request.body;
    const link = await proposeLink(deps, request.principal, request.params.organisationId, {
      ...input, incomingReceivingGroups: incomingReceivingGroups ?? [],
    }, request.id);
    return reply.status(201).send(link);
  });

  app.get('/link-partners', {
    schema: {
      tags, summary: 'Organisations and sites you could propose a link to: names and addresses only (organisation admins)',
      response: {
        200: Type.Object({
          organisations: Type.Array(Type.Object({
            id: Uuid, name: Type.String(), kind: Type.String(),
            sites: Type.Array(Type.Object({ id: Uuid, name: Type.String(), address: Nullable(Type.String()) })),
          })),
        }),
        ...commonErrors,
      },
    },
  }, async (request) => ({ organisations: await linkDirectory(app.db, request.principal) }));

  app.get('/links/:id', {
    schema: { tags, summary: 'One link, as your side sees it', params: IdParams, response: { 200: LinkView, ...commonErrors } },
  }, async (request) => readLink(app.db, app.clock, request.principal, request.params.id));

  app.post('/links/:id/accept', {
    schema: {
      tags, summary: 'Accept a proposed link, choosing your groups that receive its alarms (the other side\'s admins or organisation-wide crisis leads)',
      params: IdParams, body: Type.Object({ receivingGroups: ReceivingGroups }, { additionalProperties: false }), response: linkResponse,
    },
  }, async (request) => acceptLink(deps, request.principal, request.params.id, request.body.receivingGroups, request.id));

  for (const change of ['decline', 'suspend', 'resume', 'revoke'] as const) {
    app.post(`/links/:id/${change}`, {
      schema: {
        tags,
        summary: {
          decline: 'Decline a proposal made to you',
          suspend: 'Suspend a link at once: no new alarm crosses until it is resumed (either side)',
          resume: 'Resume a link your organisation suspended',
          revoke: 'Revoke a link (or withdraw a proposal) at once: alarms under way finish, no new one crosses (either side)',
        }[change],
        params: IdParams, body: Reason, response: linkResponse,
      },
    }, async (request) => changeLinkStatus(deps, request.principal, request.params.id, change, request.body?.reason ?? null, request.id));
  }

  app.post('/links/:id/test', {
    schema: {
      tags, summary: 'Send a link test: a drill over the link to each paired site of the other side (organisation admins)',
      params: IdParams,
      body: Type.Optional(Type.Object({ alarmTypeId: Type.Optional(Uuid) }, { additionalProperties: false })),
      response: {
        200: Type.Object({
          sites: Type.Array(Type.Object({
            crossingId: Uuid, siteName: Type.String(), state: StringEnum(['alerted', 'not_crossed'] as const), linkedIncidentId: Nullable(Uuid),
          })),
        }),
        ...commonErrors, 409: ErrorResponse,
      },
    },
  }, async (request) => sendLinkTest(app.alarms.pipeline, app.clock, request.principal, request.params.id, request.body?.alarmTypeId ?? null));

  app.get('/sites/:siteId/link-reach', {
    schema: {
      tags, summary: 'Which other organisations an alarm raised here will also reach, per alarm type', params: SiteParams,
      response: {
        200: Type.Object({
          reach: Type.Array(Type.Object({
            alarmTypeId: Uuid,
            organisations: Type.Array(Type.Object({ organisationId: Uuid, name: Type.String(), siteNames: Type.Array(Type.String()) })),
          })),
        }),
        ...commonErrors,
      },
    },
  }, async (request) => ({ reach: await linkReach(app.db, request.principal, request.params.siteId) }));

  app.get('/sites/:siteId/held-link-alarms', {
    schema: {
      tags, summary: 'Alarms from linked organisations held here because they contradict the site\'s instruction (the site\'s leads)',
      params: SiteParams, response: { 200: Type.Object({ held: Type.Array(HeldView) }), ...commonErrors },
    },
  }, async (request) => ({ held: await heldAtSite(app.db, request.principal, request.params.siteId) }));

  app.post('/link-crossings/:id/confirm', {
    schema: {
      tags, summary: 'Raise a held alarm from a linked organisation at your site (the site\'s leads)', params: IdParams,
      response: { 200: HeldDecision, ...commonErrors, 409: ErrorResponse },
    },
  }, async (request) => confirmHeld(app.alarms.pipeline, app.clock, request.principal, request.params.id, request.id));

  app.post('/link-crossings/:id/dismiss', {
    schema: {
      tags, summary: 'Decline a held alarm from a linked organisation (the site\'s leads)', params: IdParams, body: Reason,
      response: { 200: HeldDecision, ...commonErrors, 409: ErrorResponse },
    },
  }, async (request) => dismissHeld(app.alarms.pipeline, app.clock, request.principal, request.params.id, request.body?.reason ?? null, request.id));
};

export default routes;
