import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParams, Nullable, OrganisationParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import { ROLE_NAMES } from '../auth/policies.js';
import { PASSWORD_MIN_LENGTH } from '../auth/passwords.js';
import { visibleOrganisation } from '../organisations/organisations.js';
import {
  createPerson, listPeople, loadPerson, readablePerson, sitesOf, updateMyProfile, updatePerson, type Person,
} from './people.js';

const Language = StringEnum(['sv', 'en'] as const, { description: 'Preferred language of the app and notifications' });
// Something besides spaces, and no NUL, which PostgreSQL text cannot hold (a failed query, a 500, otherwise).
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$' });
const Email = Type.String({ format: 'email', maxLength: 254 });
const Phone = Nullable(Type.String({ pattern: '^\\+?[0-9 ()-]{5,30}$', description: 'E.164 preferred, e.g. +46701234567' }));
const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: 1024 });
const RoleGrantSchema = Type.Object({
  role: StringEnum(ROLE_NAMES),
  siteId: Nullable(Uuid),
}, { additionalProperties: false });
const SiteIds = Type.Array(Uuid, { maxItems: 200, uniqueItems: true });
const Roles = Type.Array(RoleGrantSchema, { maxItems: 50 });

const PersonView = Type.Object({
  id: Uuid, organisationId: Uuid, name: Type.String(), email: Type.String(), phone: Nullable(Type.String()),
  language: Language, active: Type.Boolean(), siteIds: Type.Array(Uuid), roles: Type.Array(RoleGrantSchema),
  createdAt: Timestamp, updatedAt: Timestamp,
});

const SiteSummary = Type.Object({ id: Uuid, organisationId: Uuid, name: Type.String(), kind: Type.String() });
const MeView = Type.Object({
  person: PersonView,
  organisation: Type.Object({ id: Uuid, name: Type.String(), kind: Type.String() }),
  sites: Type.Array(SiteSummary),
});

const present = (p: Person) => ({ ...p, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', {
    schema: { tags: ['people'], summary: 'The signed-in person, their organisation, sites and roles', response: { 200: MeView, ...commonErrors } },
  }, async (request) => {
    const principal = request.principal;
    const [person, organisation, sites] = await Promise.all([
      loadPerson(app.db, principal.personId),
      visibleOrganisation(app.db, principal, principal.organisationId),
      sitesOf(app.db, principal.personId),
    ]);
    return { person: present(person), organisation: { id: organisation.id, name: organisation.name, kind: organisation.kind }, sites };
  });

  app.patch('/me', {
    schema: {
      tags: ['people'], summary: 'Change one\'s own name, phone or language',
      body: Type.Object({ name: Type.Optional(Name), phone: Type.Optional(Phone), language: Type.Optional(Language) },
        { additionalProperties: false, minProperties: 1 }),
      response: { 200: PersonView, ...commonErrors },
    },
  }, async (request) => present(await updateMyProfile(app.db, request.principal, request.body, request.id)));

  app.get('/organisations/:organisationId/people', {
    schema: {
      tags: ['people'], summary: 'People the caller manages: all for organisation admins, those at their sites for rektorer',
      params: OrganisationParams,
      querystring: Type.Object({ siteId: Type.Optional(Uuid) }, { additionalProperties: false }),
      response: { 200: Type.Object({ people: Type.Array(PersonView) }), ...commonErrors },
    },
  }, async (request) => ({
    people: (await listPeople(app.db, request.principal, request.params.organisationId, request.query.siteId ?? null)).map(present),
  }));

  app.post('/organisations/:organisationId/people', {
    schema: {
      tags: ['people'], summary: 'Add a person (organisation admins; rektorer at their own sites)',
      params: OrganisationParams,
      body: Type.Object({
        name: Name, email: Email, phone: Type.Optional(Phone), language: Type.Optional(Language),
        password: Type.Optional(Password), siteIds: SiteIds, roles: Roles,
      }, { additionalProperties: false }),
      response: { 201: PersonView, ...commonErrors, 409: commonErrors[400] },
    },
  }, async (request, reply) => {
    const person = await createPerson(app.db, request.principal, request.params.organisationId, request.body, request.id);
    return reply.status(201).send(present(person));
  });

  app.get('/people/:id', {
    schema: { tags: ['people'], summary: 'One person (themselves, or someone the caller manages)', params: IdParams, response: { 200: PersonView, ...commonErrors } },
  }, async (request) => present(await readablePerson(app.db, request.principal, request.params.id)));

  app.patch('/people/:id', {
    schema: {
      tags: ['people'], summary: 'Change a person, their sites or roles (whoever manages them)',
      params: IdParams,
      body: Type.Object({
        name: Type.Optional(Name), email: Type.Optional(Email), phone: Type.Optional(Phone), language: Type.Optional(Language),
        active: Type.Optional(Type.Boolean()), password: Type.Optional(Password),
        siteIds: Type.Optional(SiteIds), roles: Type.Optional(Roles),
      }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: PersonView, ...commonErrors, 409: commonErrors[400] },
    },
  }, async (request) => {
    const person = await updatePerson(app.db, request.principal, request.params.id, request.body, request.id);
    if (request.body.password || request.body.active === false) app.realtime.endSessions({ personId: person.id });
    return present(person);
  });
};

export default routes;
