import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Nullable, OrganisationParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import {
  ORGANISATION_KINDS, createOrganisation, listOrganisations, updateOrganisation, visibleOrganisation, type Organisation,
} from './organisations.js';

const Kind = StringEnum(ORGANISATION_KINDS, { description: 'forvaltning: municipal administration; bolag: municipal company' });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });

const OrganisationNumber = Nullable(Type.String({ pattern: '^[0-9]{6}-[0-9]{4}$', description: 'Organisationsnummer, NNNNNN-NNNN (for reports to Arbetsmiljöverket)' }));
const OrganisationView = Type.Object({ id: Uuid, name: Type.String(), kind: Kind, organisationNumber: Nullable(Type.String()), createdAt: Timestamp, updatedAt: Timestamp });

const present = (o: Organisation) => ({ ...o, createdAt: o.createdAt.toISOString(), updatedAt: o.updatedAt.toISOString() });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/organisations', {
    schema: {
      tags: ['organisations'],
      summary: 'Organisations the caller can see (system admins: all)',
      response: { 200: Type.Object({ organisations: Type.Array(OrganisationView) }), ...commonErrors },
    },
  }, async (request) => ({ organisations: (await listOrganisations(app.db, request.principal)).map(present) }));

  app.post('/organisations', {
    schema: {
      tags: ['organisations'],
      summary: 'Create an organisation (system admins)',
      body: Type.Object({ name: Name, kind: Kind }, { additionalProperties: false }),
      response: { 201: OrganisationView, ...commonErrors },
    },
  }, async (request, reply) => {
    const created = await createOrganisation(app.db, request.principal, request.body, request.id);
    return reply.status(201).send(present(created));
  });

  app.get('/organisations/:organisationId', {
    schema: { tags: ['organisations'], summary: 'One organisation', params: OrganisationParams, response: { 200: OrganisationView, ...commonErrors } },
  }, async (request) => present(await visibleOrganisation(app.db, request.principal, request.params.organisationId)));

  app.patch('/organisations/:organisationId', {
    schema: {
      tags: ['organisations'],
      summary: 'Rename or re-classify an organisation (organisation admins)',
      params: OrganisationParams,
      body: Type.Object({ name: Type.Optional(Name), kind: Type.Optional(Kind), organisationNumber: Type.Optional(OrganisationNumber) },
        { additionalProperties: false, minProperties: 1 }),
      response: { 200: OrganisationView, ...commonErrors },
    },
  }, async (request) =>
    present(await updateOrganisation(app.db, request.principal, request.params.organisationId, request.body, request.id)));
};

export default routes;
