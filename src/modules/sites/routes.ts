import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Nullable, OrganisationParams, SiteParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import { SITE_KINDS, createSite, listSites, updateSite, visibleSite, type Site } from './sites.js';

const Kind = StringEnum(SITE_KINDS);
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Address = Nullable(Type.String({ maxLength: 300, pattern: '^[^\\u0000]*$' }));
const Notes = (maxLength: number, description: string) => Nullable(Type.String({ maxLength, pattern: '^[^\\u0000]*$', description }));
const BuildingNotes = Notes(2000, 'What staff need to know about the building: entrances, stairs, where the alarm panel is');
const FloorNotes = Notes(2000, 'Floors and rooms, e.g. "Plan 2: sal 201–214, personalrum"');
const AssemblyPoint = Notes(500, 'Återsamlingsplats: where everyone gathers after an evacuation');

const Municipality = Nullable(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Kommun (for reports to Arbetsmiljöverket)' }));

const SiteView = Type.Object({
  id: Uuid, organisationId: Uuid, name: Type.String(), kind: Kind, address: Nullable(Type.String()), municipality: Nullable(Type.String()),
  buildingNotes: Nullable(Type.String()), floorNotes: Nullable(Type.String()), assemblyPoint: Nullable(Type.String()),
  createdAt: Timestamp, updatedAt: Timestamp,
});
const SiteDetails = {
  address: Type.Optional(Address), municipality: Type.Optional(Municipality), buildingNotes: Type.Optional(BuildingNotes), floorNotes: Type.Optional(FloorNotes),
  assemblyPoint: Type.Optional(AssemblyPoint),
};

const present = (s: Site) => ({ ...s, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString() });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/organisations/:organisationId/sites', {
    schema: {
      tags: ['sites'], summary: 'Sites of an organisation', params: OrganisationParams,
      response: { 200: Type.Object({ sites: Type.Array(SiteView) }), ...commonErrors },
    },
  }, async (request) => ({ sites: (await listSites(app.db, request.principal, request.params.organisationId)).map(present) }));

  app.post('/organisations/:organisationId/sites', {
    schema: {
      tags: ['sites'], summary: 'Add a site (organisation admins)', params: OrganisationParams,
      body: Type.Object({ name: Name, kind: Kind, ...SiteDetails }, { additionalProperties: false }),
      response: { 201: SiteView, ...commonErrors },
    },
  }, async (request, reply) => {
    const site = await createSite(app.db, request.principal, request.params.organisationId, request.body, request.id);
    return reply.status(201).send(present(site));
  });

  app.get('/sites/:siteId', {
    schema: { tags: ['sites'], summary: 'One site', params: SiteParams, response: { 200: SiteView, ...commonErrors } },
  }, async (request) => present(await visibleSite(app.db, request.principal, request.params.siteId)));

  app.patch('/sites/:siteId', {
    schema: {
      tags: ['sites'], summary: 'Change a site (its rektor or organisation admins)', params: SiteParams,
      body: Type.Object({ name: Type.Optional(Name), kind: Type.Optional(Kind), ...SiteDetails },
        { additionalProperties: false, minProperties: 1 }),
      response: { 200: SiteView, ...commonErrors },
    },
  }, async (request) => present(await updateSite(app.db, request.principal, request.params.siteId, request.body, request.id)));
};

export default routes;
