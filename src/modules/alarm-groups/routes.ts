import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, NoContent, Nullable, SiteParams, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import {
  createGroup, deleteGroup, listGroups, readGroup, replaceAlarmTypes, replaceEscalationContacts, replaceMembers, updateGroup,
  type AlarmGroup,
} from './alarm-groups.js';

const Name = Type.String({ minLength: 1, maxLength: 120, pattern: '\\S' });
const Description = Nullable(Type.String({ maxLength: 1000 }));
const MemberIds = Type.Array(Uuid, { maxItems: 5000, uniqueItems: true });
const GroupAlarmTypes = Type.Array(Type.Object({
  alarmTypeId: Uuid,
  receives: Type.Boolean({ description: 'Members receive this alarm type when it is raised at the site' }),
  mayRaise: Type.Boolean({ description: 'Members may raise this alarm type at the site' }),
}, { additionalProperties: false }), { maxItems: 100 });
const Contacts = Type.Array(Type.Object({
  personId: Type.Optional(Nullable(Uuid)),
  name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  phone: Type.Optional(Nullable(Type.String({ pattern: '^\\+?[0-9 ()-]{5,30}$' }))),
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
}, { additionalProperties: false }), { maxItems: 20, description: 'In escalation order' });

const GroupView = Type.Object({
  id: Uuid, siteId: Uuid, organisationId: Uuid, name: Type.String(), description: Nullable(Type.String()),
  members: Type.Array(Type.Object({ id: Uuid, name: Type.String() })),
  alarmTypes: Type.Array(Type.Object({ alarmTypeId: Uuid, key: Type.String(), receives: Type.Boolean(), mayRaise: Type.Boolean() })),
  escalationContacts: Type.Array(Type.Object({
    personId: Nullable(Uuid), name: Nullable(Type.String()), phone: Nullable(Type.String()), email: Nullable(Type.String()),
  })),
  createdAt: Timestamp, updatedAt: Timestamp,
});

const present = (g: AlarmGroup) => ({ ...g, createdAt: g.createdAt.toISOString(), updatedAt: g.updatedAt.toISOString() });
const tags = ['alarm groups'];
const groupResponse = { 200: GroupView, ...commonErrors, 409: commonErrors[400] };

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/sites/:siteId/alarm-groups', {
    schema: {
      tags, summary: 'Alarm groups of a site (its rektor, crisis leads, organisation admins)', params: SiteParams,
      response: { 200: Type.Object({ alarmGroups: Type.Array(GroupView) }), ...commonErrors },
    },
  }, async (request) => ({ alarmGroups: (await listGroups(app.db, request.principal, request.params.siteId)).map(present) }));

  app.post('/sites/:siteId/alarm-groups', {
    schema: {
      tags, summary: 'Create an alarm group at a site (its rektor, organisation admins)', params: SiteParams,
      body: Type.Object({
        name: Name, description: Type.Optional(Description), memberIds: Type.Optional(MemberIds),
        alarmTypes: Type.Optional(GroupAlarmTypes), escalationContacts: Type.Optional(Contacts),
      }, { additionalProperties: false }),
      response: { 201: GroupView, ...commonErrors, 409: commonErrors[400] },
    },
  }, async (request, reply) => {
    const group = await createGroup(app.db, request.principal, request.params.siteId, request.body, request.id);
    return reply.status(201).send(present(group));
  });

  app.get('/alarm-groups/:id', {
    schema: { tags, summary: 'One alarm group', params: IdParams, response: { 200: GroupView, ...commonErrors } },
  }, async (request) => present(await readGroup(app.db, request.principal, request.params.id)));

  app.patch('/alarm-groups/:id', {
    schema: {
      tags, summary: 'Rename or describe an alarm group', params: IdParams,
      body: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Description) }, { additionalProperties: false, minProperties: 1 }),
      response: groupResponse,
    },
  }, async (request) => present(await updateGroup(app.db, request.principal, request.params.id, request.body, request.id)));

  app.delete('/alarm-groups/:id', {
    schema: { tags, summary: 'Delete an alarm group', params: IdParams, response: { 204: NoContent, ...commonErrors } },
  }, async (request, reply) => {
    await deleteGroup(app.db, request.principal, request.params.id, request.id);
    return reply.status(204).send(null);
  });

  app.put('/alarm-groups/:id/members', {
    schema: {
      tags, summary: 'Replace the members of an alarm group', params: IdParams,
      body: Type.Object({ personIds: MemberIds }, { additionalProperties: false }),
      response: groupResponse,
    },
  }, async (request) => present(await replaceMembers(app.db, request.principal, request.params.id, request.body.personIds, request.id)));

  app.put('/alarm-groups/:id/alarm-types', {
    schema: {
      tags, summary: 'Replace which alarm types the group receives and may raise', params: IdParams,
      body: Type.Object({ alarmTypes: GroupAlarmTypes }, { additionalProperties: false }),
      response: groupResponse,
    },
  }, async (request) => present(await replaceAlarmTypes(app.db, request.principal, request.params.id, request.body.alarmTypes, request.id)));

  app.put('/alarm-groups/:id/escalation-contacts', {
    schema: {
      tags, summary: 'Replace the escalation contacts, in order', params: IdParams,
      body: Type.Object({ contacts: Contacts }, { additionalProperties: false }),
      response: groupResponse,
    },
  }, async (request) =>
    present(await replaceEscalationContacts(app.db, request.principal, request.params.id, request.body.contacts, request.id)));
};

export default routes;
