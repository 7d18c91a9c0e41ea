import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, IdParams, Nullable, OrganisationParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import type { AppError } from '../../lib/errors.js';
import { ROLE_NAMES } from '../auth/policies.js';
import { PASSWORD_MIN_LENGTH } from '../auth/passwords.js';
import { SignedIn, presentSignedIn } from '../auth/routes.js';
import { visibleOrganisation } from '../organisations/organisations.js';
import { createAccessLink, inspectAccessLink, redeemAccessLink } from './access-links.js';
import { decodeCsvBody } from './csv.js';
import { IMPORT_CHANGES, IMPORT_PROBLEMS, importStaff } from './import.js';
import { linkMail } from './link-mail.js';
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

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'];
/** A staff list of a large school administration, and room to spare; the JSON routes keep 256 KiB. */
const CSV_BODY_LIMIT = 4 * 1024 * 1024;
const LinkToken = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' });

const ImportResult = Type.Object({
  dryRun: Type.Boolean(),
  columns: Type.Array(Type.String()),
  ignoredColumns: Type.Array(Type.String({ description: 'Header cells the import does not understand; their values are not read' })),
  summary: Type.Object({ created: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer(), refused: Type.Integer() }),
  rows: Type.Array(Type.Object({
    line: Type.Integer({ description: 'Line in the file (the header is line 1)' }),
    email: Nullable(Type.String()),
    name: Nullable(Type.String()),
    outcome: StringEnum(['created', 'updated', 'unchanged', 'refused'] as const),
    personId: Nullable(Uuid),
    problems: Type.Array(StringEnum(IMPORT_PROBLEMS)),
    changes: Type.Array(StringEnum(IMPORT_CHANGES)),
  })),
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  // Only this plugin's routes take CSV; decoded here so that the import route sees text or a 400.
  app.addContentTypeParser(CSV_TYPES, { parseAs: 'buffer', bodyLimit: CSV_BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, decodeCsvBody(body as Buffer));
    } catch (err) {
      done(err as AppError, undefined);
    }
  });

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
      querystring: Type.Object({
        siteId: Type.Optional(Uuid),
        q: Type.Optional(Type.String({ maxLength: 100, pattern: '^[^\\u0000]*$', description: 'Find in name, e-mail address and phone number' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ people: Type.Array(PersonView) }), ...commonErrors },
    },
  }, async (request) => ({
    people: (await listPeople(app.db, request.principal, request.params.organisationId, request.query)).map(present),
  }));

  app.post('/organisations/:organisationId/people/import', {
    bodyLimit: CSV_BODY_LIMIT,
    schema: {
      tags: ['people'],
      summary: 'Import staff from a CSV file (UTF-8, ; or , between columns, a header row); dryRun=true shows what would happen and writes nothing',
      description: 'Columns (any order, Swedish or English headers): e-post/email, namn/name (or förnamn + efternamn), telefon/phone, '
        + 'enhet/site (site names, several separated by |), roll/role (personal/staff, krisledning/crisis_lead, rektor/site_admin; several separated by |), '
        + 'språk/language (sv, en). Matched by e-mail address within the organisation; sites and roles are only ever added. One transaction, audited.',
      params: OrganisationParams,
      querystring: Type.Object({ dryRun: Type.Boolean() }, { additionalProperties: false }),
      consumes: ['text/csv'],
      body: Type.String({ description: 'The CSV file itself (Content-Type: text/csv)' }),
      response: { 200: ImportResult, ...commonErrors, 413: ErrorResponse, 415: ErrorResponse },
    },
  }, async (request) => importStaff(
    app.db, request.principal, request.params.organisationId, request.body, request.query.dryRun, request.id,
  ));

  app.post('/people/:id/access-link', {
    schema: {
      tags: ['people'],
      summary: 'Make a one-time invitation or password reset link for someone the caller manages; e-mailed too where SMTP is configured',
      params: IdParams,
      body: Type.Object({ purpose: StringEnum(['invite', 'reset'] as const) }, { additionalProperties: false }),
      response: {
        201: Type.Object({
          url: Type.String({ description: 'Absolute with PUBLIC_URL; otherwise a path on this server' }),
          expiresAt: Timestamp,
          emailed: Type.Boolean(),
        }),
        ...commonErrors,
      },
    },
  }, async (request, reply) => {
    const link = await createAccessLink(app.db, app.config, request.principal, request.params.id, request.body.purpose, request.id);
    const url = `${app.config.PUBLIC_URL?.replace(/\/$/, '') ?? ''}/welcome#token=${link.token}`;
    // An e-mail needs an absolute link: never built from the request's Host header, which a client chooses.
    let emailed = false;
    if (app.mail.enabled && app.config.PUBLIC_URL) {
      const sender = await loadPerson(app.db, request.principal.personId);
      emailed = await app.mail.send(linkMail(link, url, sender.name));
    }
    return reply.status(201).send({ url, expiresAt: link.expiresAt.toISOString(), emailed });
  });

  app.post('/access-links/inspect', {
    config: { public: true, rateLimit: { max: app.config.LOGIN_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' } },
    schema: {
      tags: ['people'], summary: 'Who a one-time link is for (the link page asks before a password is chosen)', security: [],
      body: Type.Object({ token: LinkToken }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          purpose: StringEnum(['invite', 'reset'] as const), name: Type.String(), email: Type.String(), language: Language,
          organisationName: Type.String(), passwordSignIn: Type.Boolean(),
        }),
        400: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse,
      },
    },
  }, async (request) => inspectAccessLink(app.db, request.body.token));

  app.post('/access-links/redeem', {
    config: { public: true, rateLimit: { max: app.config.LOGIN_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' } },
    schema: {
      tags: ['people'], summary: 'Use a one-time link: choose a password and sign this device in (other sessions end)', security: [],
      body: Type.Object({
        token: LinkToken, password: Password,
        kind: Type.Optional(StringEnum(['browser', 'device'] as const)),
        label: Type.Optional(Type.String({ maxLength: 100, pattern: '^[^\\u0000]*$' })),
      }, { additionalProperties: false }),
      response: { 200: SignedIn, 400: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
    },
  }, async (request) => {
    const { token, password, kind, label } = request.body;
    const session = await redeemAccessLink(app.db, app.config, token, password, {
      kind: kind ?? 'device', label, userAgent: request.headers['user-agent'], ip: request.ip,
    }, request.id);
    app.realtime.endSessions({ personId: session.personId, exceptSessionId: session.sessionId });
    return presentSignedIn(session);
  });

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
