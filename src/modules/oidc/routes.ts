import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../lib/errors.js';
import { ErrorResponse, Nullable, OrganisationParams, StringEnum, Uuid, commonErrors } from '../../lib/schemas.js';
import { SignedIn, presentSignedIn } from '../auth/routes.js';
import { outboundAgent } from '../delivery/push-sender.js';
import { OidcClients } from './provider-client.js';
import { enabledProviders, readSignInSettings, updateSignInSettings } from './settings.js';
import { callbackUrl, completeSignIn, handleCallback, startSignIn } from './sign-in.js';

const Redirect = Type.Null({ description: 'A redirect (Location) for the browser' });
const SettingsView = Type.Object({
  passwordSignIn: Type.Boolean({ description: 'People may sign in with a password (organisation admins always may)' }),
  oidc: Type.Object({
    enabled: Type.Boolean(),
    issuer: Nullable(Type.String()),
    clientId: Nullable(Type.String()),
    clientSecretSet: Type.Boolean({ description: 'A client secret is stored; it is never sent back' }),
    createAccounts: Type.Boolean({ description: 'Someone the provider vouches for but Samlarm does not know gets an account (staff, no site)' }),
  }),
  redirectUri: Nullable(Type.String({ description: 'Register this at the provider; null until PUBLIC_URL is set' })),
});
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^\\S+$' });

/** Where the browser lands after the provider: the web app finishes the sign-in, or says why not in its own words. */
const toApp = (result: { handoff: string } | { code: string }): string =>
  'handoff' in result ? `/login/oidc#handoff=${result.handoff}` : `/login?oidcError=${encodeURIComponent(result.code)}`;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const agent = outboundAgent({ connectionsPerOrigin: 4, timeoutMs: 10_000, caFile: app.config.OIDC_CA_FILE });
  const clients = new OidcClients(agent);
  app.addHook('onClose', async () => {
    await agent.close();
  });
  const limit = { max: app.config.LOGIN_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' };
  const refusal = (err: unknown): { code: string } => {
    if (err instanceof AppError) return { code: err.code };
    throw err;
  };

  app.get('/auth/oidc/providers', {
    config: { public: true },
    schema: {
      tags: ['auth'], summary: 'Organisations whose people may sign in with their own accounts (OpenID Connect): the sign-in page\'s buttons', security: [],
      response: { 200: Type.Object({ providers: Type.Array(Type.Object({ organisationId: Uuid, name: Type.String() })) }), 503: ErrorResponse },
    },
  }, async () => ({ providers: callbackUrl(app.config) ? await enabledProviders(app.db) : [] }));

  app.get('/auth/oidc/:organisationId/start', {
    config: { public: true, rateLimit: limit },
    schema: {
      tags: ['auth'], summary: 'Start signing in with the organisation\'s accounts: redirects the browser to its OpenID provider', security: [],
      params: OrganisationParams,
      querystring: Type.Object({ kind: Type.Optional(StringEnum(['browser', 'device'] as const)) }, { additionalProperties: false }),
      response: { 302: Redirect, 400: ErrorResponse, 429: ErrorResponse },
    },
  }, async (request, reply) => {
    try {
      const url = await startSignIn(app.db, clients, app.config, request.params.organisationId, request.query.kind ?? 'device');
      return reply.redirect(url.href);
    } catch (err) {
      return reply.redirect(toApp(refusal(err)));
    }
  });

  app.get('/auth/oidc/callback', {
    config: { public: true, rateLimit: limit },
    schema: {
      tags: ['auth'], summary: 'Where the OpenID provider sends the browser back; redirects to the web app with a one-time handoff or an error code',
      security: [],
      querystring: Type.Object({
        state: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
        code: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
        error: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: Type.String({ maxLength: 2048 }) }),
      response: { 302: Redirect, 400: ErrorResponse, 429: ErrorResponse },
    },
  }, async (request, reply) => {
    const query = new URLSearchParams(request.query as Record<string, string>);
    try {
      return reply.redirect(toApp({ handoff: await handleCallback(app.db, clients, app.config, query, request.id) }));
    } catch (err) {
      const { code } = refusal(err);
      request.log.info({ code }, 'sign-in with the organisation\'s accounts refused');
      return reply.redirect(toApp({ code }));
    }
  });

  app.post('/auth/oidc/complete', {
    config: { public: true, rateLimit: limit },
    schema: {
      tags: ['auth'], summary: 'Exchange the one-time handoff from the callback for a session (as POST /auth/login answers)', security: [],
      body: Type.Object({
        handoff: Text(100),
        label: Type.Optional(Type.String({ maxLength: 100, pattern: '^[^\\u0000]*$' })),
      }, { additionalProperties: false }),
      response: { 200: SignedIn, 400: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
    },
  }, async (request) => presentSignedIn(await completeSignIn(app.db, app.config, request.body.handoff, {
    label: request.body.label, userAgent: request.headers['user-agent'], ip: request.ip,
  })));

  app.get('/organisations/:organisationId/sign-in', {
    schema: {
      tags: ['auth'], summary: 'How the organisation\'s people sign in (organisation admins)', params: OrganisationParams,
      response: { 200: SettingsView, ...commonErrors },
    },
  }, async (request) => ({
    ...await readSignInSettings(app.db, request.principal, request.params.organisationId), redirectUri: callbackUrl(app.config),
  }));

  app.put('/organisations/:organisationId/sign-in', {
    schema: {
      tags: ['auth'], summary: 'Set how the organisation\'s people sign in: passwords, and its OpenID provider (organisation admins)',
      params: OrganisationParams,
      body: Type.Object({
        passwordSignIn: Type.Boolean(),
        oidc: Type.Object({
          enabled: Type.Boolean(),
          issuer: Nullable(Type.String({ maxLength: 500, pattern: '^https://[^\\s?#]+$', description: 'The provider\'s issuer URL (https)' })),
          clientId: Nullable(Text(255)),
          clientSecret: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1000, pattern: '^[^\\u0000]*$', description: 'Leave out to keep the stored one' }))),
          createAccounts: Type.Boolean(),
        }, { additionalProperties: false }),
      }, { additionalProperties: false }),
      response: { 200: SettingsView, ...commonErrors },
    },
  }, async (request) => ({
    ...await updateSignInSettings(app.db, request.principal, request.params.organisationId, request.body, request.id),
    redirectUri: callbackUrl(app.config),
  }));
};

export default routes;
