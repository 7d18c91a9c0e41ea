import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TObject } from 'typebox';
import { IdParams, NoContent, Nullable, OrganisationParams, SiteParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import {
  CAP_CATEGORIES, CAP_RESPONSE_TYPES, CAP_SEVERITIES, CAP_URGENCIES, SOUND_PROFILES, defaultDeliveryPolicy,
  createAlarmType, listAlarmTypes, raisableAlarmTypes, updateAlarmType, visibleAlarmType, type AlarmType,
} from './alarm-types.js';
import { setSiteInstruction, siteInstructions, type SiteAlarmInstruction } from './site-instructions.js';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
const Bilingual = (max: number) => Type.Object({ sv: Text(max), en: Text(max) }, { additionalProperties: false });
const Cap = Type.Object({
  category: StringEnum(CAP_CATEGORIES),
  event: Text(100),
  responseType: StringEnum(CAP_RESPONSE_TYPES),
  severity: StringEnum(CAP_SEVERITIES),
  urgency: StringEnum(CAP_URGENCIES),
}, { additionalProperties: false, description: 'CAP 1.2 mapping used when the alarm is exported or forwarded' });
const Colour = Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'Hex colour, e.g. #c62828' });
const Icon = Type.String({ pattern: '^[a-z0-9-]{1,40}$' });
const Sound = StringEnum(SOUND_PROFILES, { description: 'silent: vibrate only, never a sound (lockdown)' });
const Seconds = (minimum: number, maximum: number, description: string) => Type.Integer({ minimum, maximum, description });
const Delivery = Type.Object({
  pushTtlSeconds: Seconds(30, 86400, 'How long push services keep trying to reach a phone that is off'),
  repushAfterSeconds: Nullable(Seconds(5, 3600, 'Push again to recipients with no device receipt after this long, and again each time it passes; null: never')),
  maxRepushes: Type.Integer({ minimum: 0, maximum: 20 }),
  contactsAfterSeconds: Nullable(Seconds(5, 86400, 'Alert the groups\' escalation contacts with the names of those unreached after this long; null: never')),
  smsToContacts: Type.Boolean({ description: 'Also send escalation contacts an SMS through the configured gateway' }),
  smsWhenNoPush: Type.Boolean({
    description: 'At raise time, send the alarm by SMS (through the configured gateway) to each recipient with a phone number and no device that can receive push. Default: on, off for silent types (an SMS makes a sound; its text says "tyst larm")',
  }),
}, { additionalProperties: false, description: 'Delivery and escalation policy, frozen into each alarm when raised' });
const Precedence = Type.Integer({ minimum: 0, maximum: 1000, description: 'Higher wins when several alarms are active at a site' });
// Type.Partial drops the object's options, so a change would otherwise accept unknown nested fields.
const Change = <T extends TObject>(schema: T) => Type.Partial(schema, { additionalProperties: false, minProperties: 1 });

const AlarmTypeView = Type.Object({
  id: Uuid, organisationId: Nullable(Uuid), builtIn: Type.Boolean(), key: Type.String(),
  label: Type.Object({ sv: Type.String(), en: Type.String() }),
  instruction: Type.Object({ sv: Type.String(), en: Type.String() }),
  colour: Type.String(), icon: Type.String(), sound: Sound, precedence: Type.Integer(), cap: Cap, delivery: Delivery,
  archived: Type.Boolean(), createdAt: Timestamp, updatedAt: Timestamp,
});

const SiteInstructionView = Type.Object({
  alarmTypeId: Uuid, instruction: Type.Object({ sv: Type.String(), en: Type.String() }), updatedAt: Timestamp,
});
const SiteTypeParams = Type.Object({ siteId: Uuid, alarmTypeId: Uuid });
const presentInstruction = (i: SiteAlarmInstruction) => ({ ...i, updatedAt: new Date(i.updatedAt).toISOString() });

const present = (t: AlarmType) => ({ ...t, createdAt: new Date(t.createdAt).toISOString(), updatedAt: new Date(t.updatedAt).toISOString() });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/organisations/:organisationId/alarm-types', {
    schema: {
      tags: ['alarm types'], summary: 'Built-in and the organisation\'s own alarm types, highest precedence first',
      params: OrganisationParams,
      querystring: Type.Object({ includeArchived: Type.Boolean({ default: false }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ alarmTypes: Type.Array(AlarmTypeView) }), ...commonErrors },
    },
  }, async (request) => ({
    alarmTypes: (await listAlarmTypes(app.db, request.principal, request.params.organisationId, request.query.includeArchived)).map(present),
  }));

  app.post('/organisations/:organisationId/alarm-types', {
    schema: {
      tags: ['alarm types'], summary: 'Add a custom alarm type, e.g. a medical emergency (organisation admins)',
      params: OrganisationParams,
      body: Type.Object({
        key: Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' }),
        label: Bilingual(60), instruction: Bilingual(1000), colour: Colour, icon: Icon, sound: Sound, precedence: Precedence, cap: Cap,
        delivery: Type.Optional(Change(Delivery)),
      }, { additionalProperties: false }),
      response: { 201: AlarmTypeView, ...commonErrors, 409: commonErrors[400] },
    },
  }, async (request, reply) => {
    const input = { ...request.body, delivery: defaultDeliveryPolicy(request.body.sound, request.body.delivery) };
    const created = await createAlarmType(app.db, request.principal, request.params.organisationId, input, request.id);
    return reply.status(201).send(present(created));
  });

  app.get('/sites/:siteId/alarm-types', {
    schema: {
      tags: ['alarm types'],
      summary: 'The alarm types the caller may raise at the site, highest precedence first, and whether they may start drills there',
      params: SiteParams,
      response: { 200: Type.Object({ alarmTypes: Type.Array(AlarmTypeView), drill: Type.Boolean() }), ...commonErrors },
    },
  }, async (request) => {
    const { alarmTypes, drill } = await raisableAlarmTypes(app.db, request.principal, request.params.siteId);
    return { alarmTypes: alarmTypes.map(present), drill };
  });

  app.get('/alarm-types/:id', {
    schema: { tags: ['alarm types'], summary: 'One alarm type', params: IdParams, response: { 200: AlarmTypeView, ...commonErrors } },
  }, async (request) => present(await visibleAlarmType(app.db, request.principal, request.params.id)));

  app.patch('/alarm-types/:id', {
    schema: {
      tags: ['alarm types'], summary: 'Change or archive a custom alarm type (organisation admins; built-in types are fixed)',
      params: IdParams,
      body: Type.Object({
        label: Type.Optional(Change(Bilingual(60))), instruction: Type.Optional(Change(Bilingual(1000))),
        colour: Type.Optional(Colour), icon: Type.Optional(Icon), sound: Type.Optional(Sound),
        precedence: Type.Optional(Precedence), cap: Type.Optional(Change(Cap)), delivery: Type.Optional(Change(Delivery)), archived: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: AlarmTypeView, ...commonErrors, 409: commonErrors[400] },
    },
  }, async (request) => present(await updateAlarmType(app.db, request.principal, request.params.id, request.body, request.id)));

  app.get('/sites/:siteId/alarm-instructions', {
    schema: {
      tags: ['alarm types'], summary: 'The site\'s own instruction per alarm type (shown with the alarm, after the type\'s own)',
      params: SiteParams,
      response: { 200: Type.Object({ instructions: Type.Array(SiteInstructionView) }), ...commonErrors },
    },
  }, async (request) => ({
    instructions: (await siteInstructions(app.db, request.principal, request.params.siteId)).map(presentInstruction),
  }));

  app.put('/sites/:siteId/alarm-instructions/:alarmTypeId', {
    schema: {
      tags: ['alarm types'], summary: 'Set the site\'s own instruction for an alarm type (its rektor, organisation admins)',
      params: SiteTypeParams, body: Bilingual(1000),
      response: { 200: SiteInstructionView, ...commonErrors },
    },
  }, async (request) => {
    const saved = await setSiteInstruction(app.db, request.principal, request.params.siteId, request.params.alarmTypeId, request.body, request.id);
    if (!saved) throw new Error('instruction not saved');
    return presentInstruction(saved);
  });

  app.delete('/sites/:siteId/alarm-instructions/:alarmTypeId', {
    schema: {
      tags: ['alarm types'], summary: 'Remove the site\'s own instruction for an alarm type', params: SiteTypeParams,
      response: { 204: NoContent, ...commonErrors },
    },
  }, async (request, reply) => {
    await setSiteInstruction(app.db, request.principal, request.params.siteId, request.params.alarmTypeId, null, request.id);
    return reply.status(204).send(null);
  });
};

export default routes;
