import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../lib/errors.js';
import { ErrorResponse, IdParams, NoContent, Nullable, SiteParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import { canSeeSiteInstruction } from '../auth/policies.js';
import { visibleSite } from '../sites/sites.js';
import { Publisher } from '../realtime/publisher.js';
import { endIncident, respond, sendMessage } from './during.js';
import { EVENT_TYPES, incidentTimeline, type IncidentEvent } from './events.js';
import { listIncidents, visibleIncident, type Incident } from './incidents.js';
import { siteInstruction } from './instruction.js';
import { ALARM_SQL } from './queries.js';
import { raiseAlarm } from './raise.js';
import { pushProgress, rollCall } from './rollcall.js';

const tags = ['alarms'];
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
const Bilingual = Type.Object({ sv: Type.String(), en: Type.String() });

const TypeSnapshotView = Type.Object({
  id: Uuid, key: Type.String(), label: Bilingual, instruction: Bilingual, colour: Type.String(), icon: Type.String(),
  sound: Type.String(), precedence: Type.Integer(),
  cap: Type.Object({ category: Type.String(), event: Type.String(), responseType: Type.String(), severity: Type.String(), urgency: Type.String() }),
});
const Person = Type.Object({ id: Uuid, name: Type.String() });
const IncidentView = Type.Object({
  id: Uuid, organisationId: Uuid, siteId: Uuid, siteName: Type.String(), type: TypeSnapshotView, drill: Type.Boolean(),
  state: StringEnum(['active', 'resolved', 'cancelled'] as const), location: Nullable(Type.String()), message: Nullable(Type.String()),
  raisedBy: Person, raisedAt: Timestamp, lastPressedAt: Timestamp, endedAt: Nullable(Timestamp), endedBy: Nullable(Person),
  endReason: Nullable(Type.String()),
  pressers: Type.Array(Type.Object({ personId: Uuid, name: Type.String(), pressedAt: Type.String() })),
  recipients: Type.Integer(),
});
const InstructionView = Nullable(Type.Object({
  siteId: Uuid, incidentId: Uuid, typeKey: Type.String(), label: Bilingual, text: Bilingual, colour: Type.String(), icon: Type.String(),
  sound: Type.String(), responseType: Type.String(), drill: Type.Boolean(), since: Type.String(), activeIncidents: Type.Integer(),
}, { description: 'What staff at the site must do now; null when no alarm is active' }));
const EventView = Type.Object({
  id: Type.String({ description: 'Cursor' }), incidentId: Uuid, siteId: Uuid, type: Type.String(),
  actorPersonId: Nullable(Uuid), at: Timestamp, data: Type.Unknown(),
});

const presentIncident = (i: Incident) => ({
  ...i,
  raisedAt: new Date(i.raisedAt).toISOString(),
  lastPressedAt: new Date(i.lastPressedAt).toISOString(),
  endedAt: i.endedAt ? new Date(i.endedAt).toISOString() : null,
});
const presentEvents = (events: IncidentEvent[]) => ({ events: events.map(Publisher.envelope) });
const eventsResponse = { 200: Type.Object({ events: Type.Array(EventView) }), ...commonErrors, 409: ErrorResponse };

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/alarms', {
    schema: {
      tags, summary: 'Raise an alarm (answered only once it is stored; retries with the same pressId never make a second alarm)',
      body: Type.Object({
        pressId: Type.String({ format: 'uuid', description: "The device's own id for this press" }),
        siteId: Uuid,
        alarmTypeId: Uuid,
        location: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
        message: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
        drill: Type.Optional(Type.Boolean()),
        confirmContradiction: Type.Optional(Type.Boolean({ description: 'Raise even though it contradicts the current instruction' })),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({ outcome: Type.String(), incident: IncidentView, instruction: InstructionView }),
        200: Type.Object({ outcome: Type.String(), incident: IncidentView, instruction: InstructionView }),
        ...commonErrors, 409: ErrorResponse,
      },
    },
  }, async (request, reply) => {
    const result = await raiseAlarm(app.alarms, request.principal, request.body);
    request.log.info({ incidentId: result.incident.id, siteId: result.incident.siteId, outcome: result.outcome }, 'alarm press');
    return reply.status(result.outcome === 'raised' ? 201 : 200)
      .send({ outcome: result.outcome, incident: presentIncident(result.incident), instruction: result.instruction });
  });

  app.get('/incidents', {
    schema: {
      tags, summary: 'Incidents the caller was targeted by or leads, newest first',
      querystring: Type.Object({
        state: Type.Optional(StringEnum(['active', 'all'] as const, { description: 'active (default) or all' })),
        // The date-time format allows year 0, which PostgreSQL has not (a failed query, a 500, otherwise).
        before: Type.Optional(Type.String({ format: 'date-time', pattern: '^(?!0000-)' })),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ incidents: Type.Array(IncidentView) }), ...commonErrors },
    },
  }, async (request) => ({
    incidents: (await listIncidents(app.db, request.principal, {
      state: request.query.state ?? 'active', before: request.query.before ?? null, limit: request.query.limit,
    })).map(presentIncident),
  }));

  app.get('/incidents/:id', {
    schema: {
      tags, summary: 'One incident with the site\'s current instruction', params: IdParams,
      response: { 200: Type.Object({ incident: IncidentView, lead: Type.Boolean(), instruction: InstructionView }), ...commonErrors },
    },
  }, async (request) => {
    const { incident, lead } = await visibleIncident(app.db, request.principal, request.params.id);
    return { incident: presentIncident(incident), lead, instruction: await siteInstruction(app.db, incident.siteId) };
  });

  app.get('/incidents/:id/timeline', {
    schema: {
      tags, summary: 'The incident\'s timeline (leads: everything; others: what was sent to everyone and their own actions)',
      params: IdParams,
      querystring: Type.Object({
        types: Type.Optional(Type.String({
          pattern: `^(${EVENT_TYPES.join('|')})(,(${EVENT_TYPES.join('|')}))*$`,
          description: 'Only these event types, comma-separated (e.g. repushed,escalated)',
        })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ events: Type.Array(EventView) }), ...commonErrors },
    },
  }, async (request) => {
    const { incident, lead } = await visibleIncident(app.db, request.principal, request.params.id);
    const events = await incidentTimeline(app.db, incident.id, request.query.types?.split(',') ?? null);
    const me = request.principal.personId;
    return presentEvents(lead ? events : events.filter((e) => e.audience === 'all' || e.actorPersonId === me));
  });

  app.get('/incidents/:id/rollcall', {
    schema: {
      tags, summary: 'Roll call: who was targeted, reached, acknowledged, safe, needs help (leads only)', params: IdParams,
      response: {
        200: Type.Object({
          summary: Type.Object({
            targeted: Type.Integer(), delivered: Type.Integer(), acknowledged: Type.Integer(), safe: Type.Integer(),
            needHelp: Type.Integer(), notOnSite: Type.Integer(), noAnswer: Type.Integer(),
          }),
          people: Type.Array(Type.Object({
            personId: Uuid, name: Type.String(), phone: Nullable(Type.String({ description: 'For the lead to call' })), lead: Type.Boolean(), deliveredAt: Nullable(Timestamp), acknowledgedAt: Nullable(Timestamp),
            status: Nullable(Type.String()), text: Nullable(Type.String()), location: Nullable(Type.String()), respondedAt: Nullable(Timestamp),
            push: Type.Object({
              devices: Type.Integer({ description: 'Devices the alarm was pushed to' }),
              acceptedAt: Nullable(Type.String({ format: 'date-time', description: 'When a push service first accepted a push for this person: not a receipt (the phone may be off)' })),
              reminders: Type.Integer({ description: 'Reminder pushes sent by escalation' }),
            }),
          })),
        }),
        ...commonErrors,
      },
    },
  }, async (request) => {
    const { incident, lead } = await visibleIncident(app.db, request.principal, request.params.id);
    if (!lead) throw new AppError('forbidden', 'Only the incident\'s leads see the roll call.');
    const [{ summary, people }, pushes] = await Promise.all([rollCall(app.db, incident.id), pushProgress(app.db, incident.id)]);
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    return {
      summary,
      people: people.map((p) => {
        const push = pushes.get(p.personId);
        return {
          ...p, deliveredAt: iso(p.deliveredAt), acknowledgedAt: iso(p.acknowledgedAt), respondedAt: iso(p.respondedAt),
          push: { devices: push?.devices ?? 0, acceptedAt: iso(push?.acceptedAt ?? null), reminders: push?.reminders ?? 0 },
        };
      }),
    };
  });

  app.post('/incidents/:id/responses', {
    schema: {
      tags, summary: '"I\'m safe" / "I need help" / "Not on site"', params: IdParams,
      body: Type.Object({
        status: StringEnum(['safe', 'need_help', 'not_on_site'] as const),
        text: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
        location: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
      }, { additionalProperties: false }),
      response: eventsResponse,
    },
  }, async (request) => presentEvents(await respond(app.alarms, request.principal, request.params.id, request.body)));

  app.post('/incidents/:id/receipts', {
    schema: {
      tags,
      summary: 'A device confirms it has the alarm: its service worker showed a push (delivered) or the person opened it (acknowledged). Stops escalation for that person.',
      params: IdParams,
      body: Type.Object({
        kind: StringEnum(['delivered', 'acknowledged'] as const),
        deviceId: Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$', description: 'The installation\'s id, as in the socket handshake' }),
      }, { additionalProperties: false }),
      response: { 202: NoContent, ...commonErrors },
    },
  }, async (request, reply) => {
    await visibleIncident(app.db, request.principal, request.params.id);
    await app.realtime.receipts.add({
      incidentId: request.params.id, personId: request.principal.personId, deviceId: request.body.deviceId,
      kind: request.body.kind, channel: 'push', at: new Date(),
    });
    return reply.status(202).send(null);
  });

  app.post('/incidents/:id/messages', {
    schema: {
      tags, summary: 'An instruction from a lead to everyone, or a reply to the leads', params: IdParams,
      body: Type.Object({ kind: StringEnum(['instruction', 'reply'] as const), body: Text(2000) }, { additionalProperties: false }),
      response: eventsResponse,
    },
  }, async (request) => presentEvents(await sendMessage(app.alarms, request.principal, request.params.id, request.body)));

  app.post('/incidents/:id/resolve', {
    schema: {
      tags, summary: 'All clear (faran över): the site\'s leads only', params: IdParams,
      body: Type.Optional(Type.Object({ note: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))) }, { additionalProperties: false })),
      response: eventsResponse,
    },
  }, async (request) =>
    presentEvents(await endIncident(app.alarms, request.principal, request.params.id, { outcome: 'resolved', reason: request.body?.note ?? null })));

  app.post('/incidents/:id/cancel', {
    schema: {
      tags, summary: 'Cancel a false alarm, with a reason: the site\'s leads only', params: IdParams,
      body: Type.Object({ reason: Text(1000) }, { additionalProperties: false }),
      response: eventsResponse,
    },
  }, async (request) =>
    presentEvents(await endIncident(app.alarms, request.principal, request.params.id, { outcome: 'cancelled', reason: request.body.reason })));

  app.get('/sites/:siteId/instruction', {
    schema: {
      tags, summary: 'What staff at the site must do now', params: SiteParams,
      response: { 200: Type.Object({ instruction: InstructionView }), ...commonErrors },
    },
  }, async (request) => {
    const site = await visibleSite(app.db, request.principal, request.params.siteId);
    const worksThere = Boolean((await app.db.query(ALARM_SQL.worksAt, [request.principal.personId, site.id])).rowCount);
    if (!canSeeSiteInstruction(request.principal, site, worksThere)) throw new AppError('forbidden');
    return { instruction: await siteInstruction(app.db, site.id) };
  });
};

export default routes;
