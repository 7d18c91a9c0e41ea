import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { EventType} from '../../contract/alarms.js';
import {
  CancelRequest, EventsResponse, IncidentListQuery, IncidentView, InstructionView, MessageRequest, RaiseRequest, RaiseResponse,
  ReceiptRequest, ResolveRequest, ResponseRequest, RollCallView, TimelineQuery,
} from '../../contract/alarms.js';
import { ErrorResponse, IdParams, NoContent, SiteParams, commonErrors } from '../../lib/schemas.js';
import { envelope, type IncidentEvent } from './events.js';
import { presentIncident } from './presenters.js';

const tags = ['alarms'];
const presentEvents = (events: IncidentEvent[]) => ({ events: events.map(envelope) });
const eventsResponse = { 200: EventsResponse, ...commonErrors, 409: ErrorResponse };

/** The alarm path over HTTP: each route validates, calls one use case of `app.alarms`, and presents. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/alarms', {
    schema: {
      tags, summary: 'Raise an alarm (answered only once it is stored; retries with the same pressId never make a second alarm)',
      body: RaiseRequest,
      response: { 201: RaiseResponse, 200: RaiseResponse, ...commonErrors, 409: ErrorResponse },
    },
  }, async (request, reply) => {
    const result = await app.alarms.raise(request.principal, request.body);
    request.log.info({ incidentId: result.incident.id, siteId: result.incident.siteId, outcome: result.outcome }, 'alarm press');
    return reply.status(result.outcome === 'raised' ? 201 : 200)
      .send({ outcome: result.outcome, incident: presentIncident(result.incident), instruction: result.instruction });
  });

  app.get('/incidents', {
    schema: {
      tags, summary: 'Incidents the caller was targeted by or leads, newest first',
      querystring: IncidentListQuery,
      response: { 200: Type.Object({ incidents: Type.Array(IncidentView) }), ...commonErrors },
    },
  }, async (request) => ({
    incidents: (await app.alarms.list(request.principal, {
      state: request.query.state ?? 'active', before: request.query.before ?? null, limit: request.query.limit,
    })).map(presentIncident),
  }));

  app.get('/incidents/:id', {
    schema: {
      tags, summary: 'One incident with the site\'s current instruction', params: IdParams,
      response: { 200: Type.Object({ incident: IncidentView, lead: Type.Boolean(), instruction: InstructionView }), ...commonErrors },
    },
  }, async (request) => {
    const { incident, lead, instruction } = await app.alarms.incident(request.principal, request.params.id);
    return { incident: presentIncident(incident), lead, instruction };
  });

  app.get('/incidents/:id/timeline', {
    schema: {
      tags, summary: 'The incident\'s timeline (leads: everything; others: what was sent to everyone and their own actions)',
      params: IdParams, querystring: TimelineQuery,
      response: { 200: EventsResponse, ...commonErrors },
    },
  }, async (request) => {
    const types = (request.query.types?.split(',') ?? null) as EventType[] | null;
    return presentEvents(await app.alarms.timeline(request.principal, request.params.id, types));
  });

  app.get('/incidents/:id/rollcall', {
    schema: {
      tags, summary: 'Roll call: who was targeted, reached, acknowledged, safe, needs help (leads only)', params: IdParams,
      response: { 200: RollCallView, ...commonErrors },
    },
  }, async (request) => app.alarms.rollCall(request.principal, request.params.id));

  app.post('/incidents/:id/responses', {
    schema: { tags, summary: '"I\'m safe" / "I need help" / "Not on site"', params: IdParams, body: ResponseRequest, response: eventsResponse },
  }, async (request) => presentEvents(await app.alarms.respond(request.principal, request.params.id, request.body)));

  app.post('/incidents/:id/receipts', {
    schema: {
      tags,
      summary: 'A device confirms it has the alarm: its service worker showed a push (delivered) or the person opened it (acknowledged). Stops escalation for that person. Answered once committed; an incident that did not target the caller is not found.',
      params: IdParams, body: ReceiptRequest,
      response: { 202: NoContent, ...commonErrors },
    },
  }, async (request, reply) => {
    await app.alarms.recordReceipt(request.principal, request.params.id, { ...request.body, channel: 'push' });
    return reply.status(202).send(null);
  });

  app.post('/incidents/:id/messages', {
    schema: { tags, summary: 'An instruction from a lead to everyone, or a reply to the leads', params: IdParams, body: MessageRequest, response: eventsResponse },
  }, async (request) => presentEvents(await app.alarms.sendMessage(request.principal, request.params.id, request.body)));

  app.post('/incidents/:id/resolve', {
    schema: { tags, summary: 'All clear (faran över): the site\'s leads only', params: IdParams, body: ResolveRequest, response: eventsResponse },
  }, async (request) => presentEvents(await app.alarms.resolve(request.principal, request.params.id, request.body?.note ?? null)));

  app.post('/incidents/:id/cancel', {
    schema: { tags, summary: 'Cancel a false alarm, with a reason: the site\'s leads only', params: IdParams, body: CancelRequest, response: eventsResponse },
  }, async (request) => presentEvents(await app.alarms.cancel(request.principal, request.params.id, request.body.reason)));

  app.get('/sites/:siteId/instruction', {
    schema: {
      tags, summary: 'What staff at the site must do now', params: SiteParams,
      response: { 200: Type.Object({ instruction: InstructionView }), ...commonErrors },
    },
  }, async (request) => ({ instruction: await app.alarms.siteInstruction(request.principal, request.params.siteId) }));
};

export default routes;
