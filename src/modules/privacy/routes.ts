import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse, IdParams, OrganisationParams, commonErrors } from '../../lib/schemas.js';
import { erasePerson } from './erase.js';
import { exportPersonalData } from './export.js';
import { ErasureBody, ErasureResult, PersonalDataExport, RetentionBody, RetentionView } from './schemas.js';
import { changeIncidentRetention, retentionOf } from './settings.js';

/** Dates become ISO strings, as the response schemas say; nothing else changes. */
type Wire<T> = T extends Date ? string : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;
const wire = <T>(value: T): Wire<T> => JSON.parse(JSON.stringify(value)) as Wire<T>;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me/export', {
    schema: {
      tags: ['privacy'], summary: 'Everything Samlarm holds about the signed-in person, as JSON (the export is audited)',
      response: { 200: PersonalDataExport, ...commonErrors },
    },
  }, async (request) => wire(await exportPersonalData(app.db, app.clock, request.principal, request.principal.personId, request.id)));

  app.get('/people/:id/export', {
    schema: {
      tags: ['privacy'], summary: 'Everything Samlarm holds about a person the caller manages, as JSON (the export is audited)',
      params: IdParams,
      response: { 200: PersonalDataExport, ...commonErrors },
    },
  }, async (request) => wire(await exportPersonalData(app.db, app.clock, request.principal, request.params.id, request.id)));

  app.post('/people/:id/erase', {
    schema: {
      tags: ['privacy'],
      summary: 'Erase a person on request (organisation admins): pseudonymised at once, keeping only what a kept incident needs',
      params: IdParams,
      body: ErasureBody,
      response: { 200: ErasureResult, ...commonErrors, 409: ErrorResponse },
    },
  }, async (request) => {
    const result = await erasePerson(app.db, app.clock, request.principal, request.params.id, request.body, request.id);
    app.realtime.endSessions({ personId: result.personId });
    return result;
  });

  app.get('/organisations/:organisationId/retention', {
    schema: {
      tags: ['privacy'], summary: 'How long the organisation\'s data is kept (organisation admins)',
      params: OrganisationParams,
      response: { 200: RetentionView, ...commonErrors },
    },
  }, async (request) => wire(await retentionOf(app.db, app.config, request.principal, request.params.organisationId)));

  app.put('/organisations/:organisationId/retention', {
    schema: {
      tags: ['privacy'], summary: 'Whether the organisation keeps its incidents, or for how many years (organisation admins; audited)',
      params: OrganisationParams,
      body: RetentionBody,
      response: { 200: RetentionView, ...commonErrors },
    },
  }, async (request) => wire(await changeIncidentRetention(
    app.db, app.config, request.principal, request.params.organisationId, request.body.incidents, request.id,
  )));
};

export default routes;
