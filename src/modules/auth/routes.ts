import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, IdParams, NoContent, Nullable, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import { Counter } from 'prom-client';
import { PASSWORD_MIN_LENGTH, passwordsHashed } from './passwords.js';
import { sendThrottleNotice } from './notices.js';
import { changePassword, failedSignInsOf, listSessions, login, revokeAllSessions, revokeSession, type NewSession } from './sessions.js';

// PostgreSQL text cannot hold NUL: refused here, such input is a 400 rather than a failed query (a 500).
const NO_NUL = '^[^\\u0000]*$';

const SessionKindSchema = StringEnum(['browser', 'device'] as const, {
  description: 'device: a phone or installed app, signed in for a long time; browser: a shared or occasional computer',
});

/** How many times a person may try to change their password within PASSWORD_CHANGE_WINDOW. */
const PASSWORD_CHANGES = 10;
const PASSWORD_CHANGE_WINDOW = '15 minutes';

export const SignedIn = Type.Object({
  token: Type.String(),
  session: Type.Object({ id: Uuid, kind: SessionKindSchema, expiresAt: Timestamp }),
  personId: Uuid,
});

export const presentSignedIn = (session: NewSession) => ({
  token: session.token,
  session: { id: session.sessionId, kind: session.kind, expiresAt: session.expiresAt.toISOString() },
  personId: session.personId,
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  new Counter({
    name: 'samlarm_password_hashes_total',
    help: 'Passwords hashed by this process (argon2id, tens of milliseconds of CPU each)',
    registers: [app.metrics],
    collect() {
      this.reset();
      this.inc(passwordsHashed());
    },
  });
  // The owner's notice goes out after the answer: the client learns nothing from its timing.
  const onThrottled = (email: string, ip: string) => {
    void sendThrottleNotice(app.db, app.mail, email, ip).catch((err: unknown) => app.log.warn({ err }, 'sign-in notice failed'));
  };

  app.post('/auth/login', {
    config: {
      public: true,
      rateLimit: { max: app.config.LOGIN_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' },
    },
    schema: {
      tags: ['auth'],
      summary: 'Sign in with e-mail and password; returns a bearer token (also the Socket.IO auth.token)',
      security: [],
      body: Type.Object({
        email: Type.String({ minLength: 3, maxLength: 254, pattern: NO_NUL }),
        password: Type.String({ minLength: 1, maxLength: 1024 }),
        kind: Type.Optional(SessionKindSchema),
        label: Type.Optional(Type.String({ maxLength: 100, pattern: NO_NUL, description: 'A name for this device, e.g. "Annas telefon"' })),
      }, { additionalProperties: false }),
      response: {
        200: SignedIn,
        400: ErrorResponse,
        401: ErrorResponse,
        403: ErrorResponse,
        429: ErrorResponse,
        503: ErrorResponse,
      },
    },
  }, async (request, reply) => {
    const { email, password, kind, label } = request.body;
    try {
      const session = await login(app.db, app.config, {
        email,
        password,
        kind: kind ?? 'device',
        label,
        userAgent: request.headers['user-agent'],
        ip: request.ip,
      }, onThrottled);
      return presentSignedIn(session);
    } catch (err) {
      const details = (err as { details?: { retryAfterSeconds?: number } }).details;
      if (details?.retryAfterSeconds) reply.header('retry-after', String(details.retryAfterSeconds));
      throw err;
    }
  });

  app.post('/auth/logout', {
    schema: { tags: ['auth'], summary: 'End this session', response: { 204: NoContent, ...commonErrors } },
  }, async (request, reply) => {
    await revokeSession(app.db, request.principal.personId, request.principal.sessionId);
    app.realtime.endSessions({ sessionId: request.principal.sessionId });
    return reply.status(204).send(null);
  });

  app.post('/auth/logout-all', {
    schema: { tags: ['auth'], summary: 'End every session of the caller (all devices)', response: { 204: NoContent, ...commonErrors } },
  }, async (request, reply) => {
    await revokeAllSessions(app.db, request.principal.personId);
    app.realtime.endSessions({ personId: request.principal.personId });
    return reply.status(204).send(null);
  });

  app.get('/auth/sessions', {
    schema: {
      tags: ['auth'],
      summary: "The caller's open sessions",
      response: {
        200: Type.Object({
          sessions: Type.Array(Type.Object({
            id: Uuid,
            kind: SessionKindSchema,
            label: Nullable(Type.String()),
            userAgent: Nullable(Type.String()),
            createdAt: Timestamp,
            lastSeenAt: Timestamp,
            expiresAt: Timestamp,
            current: Type.Boolean(),
            platform: Nullable(Type.String()),
            pushSubscribed: Type.Boolean({ description: 'Alarms reach this device by push with the app closed' }),
          })),
        }),
        ...commonErrors,
      },
    },
  }, async (request) => {
    const sessions = await listSessions(app.db, request.principal.personId);
    return {
      sessions: sessions.map((s) => ({
        id: s.id,
        kind: s.kind,
        label: s.label,
        userAgent: s.user_agent,
        createdAt: s.created_at.toISOString(),
        lastSeenAt: s.last_seen_at.toISOString(),
        expiresAt: s.expires_at.toISOString(),
        current: s.id === request.principal.sessionId,
        platform: s.platform,
        pushSubscribed: s.push_subscribed,
      })),
    };
  });

  app.get('/auth/sign-in-failures', {
    schema: {
      tags: ['auth'],
      summary: 'Failed sign-ins with the caller\'s e-mail address over the last 30 days, per client address',
      response: {
        200: Type.Object({
          failures: Type.Array(Type.Object({ clientAddress: Nullable(Type.String()), count: Type.Integer(), lastAt: Timestamp })),
        }),
        ...commonErrors,
      },
    },
  }, async (request) => ({
    failures: (await failedSignInsOf(app.db, request.principal.personId)).map((f) => ({
      clientAddress: f.ip, count: f.failures, lastAt: f.last_failure.toISOString(),
    })),
  }));

  app.delete('/auth/sessions/:id', {
    schema: { tags: ['auth'], summary: 'End one of the caller\'s sessions (e.g. a lost phone)', params: IdParams, response: { 204: NoContent, ...commonErrors } },
  }, async (request, reply) => {
    await revokeSession(app.db, request.principal.personId, request.params.id);
    app.realtime.endSessions({ sessionId: request.params.id });
    return reply.status(204).send(null);
  });

  app.post('/auth/password', {
    config: {
      // Per person, after authentication: a stolen session cannot guess the current password quickly.
      rateLimit: {
        max: PASSWORD_CHANGES, timeWindow: PASSWORD_CHANGE_WINDOW, hook: 'preHandler',
        keyGenerator: (request) => `password:${request.principal.personId}`,
      },
    },
    schema: {
      tags: ['auth'],
      summary: 'Change the caller\'s password; every other session is ended',
      body: Type.Object({
        currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
        newPassword: Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: 1024 }),
      }, { additionalProperties: false }),
      response: { 204: NoContent, ...commonErrors, 429: ErrorResponse },
    },
  }, async (request, reply) => {
    await changePassword(app.db, request.principal, request.body, request.id);
    app.realtime.endSessions({ personId: request.principal.personId, exceptSessionId: request.principal.sessionId });
    return reply.status(204).send(null);
  });
};

export default routes;
