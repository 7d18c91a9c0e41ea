import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerToken } from '../../plugins/authentication.js';
import { AppError } from '../../lib/errors.js';
import { secretMatches } from '../../lib/secrets.js';
import { ErrorResponse, NoContent, Nullable, SiteParams, StringEnum, Timestamp, Uuid, commonErrors } from '../../lib/schemas.js';
import {
  queueTestPush, registerSubscription, remindPeople, removeDevice, removeSubscription, reportDeviceStatus, siteDeviceHealth, thisDevice,
  type DeviceView, type LastReminder,
} from './devices.js';
import { recordSmsReport } from './sms-reports.js';

const PushPermission = StringEnum(['granted', 'denied', 'default', 'unsupported'] as const, {
  description: 'Notification.permission as the device sees it; unsupported: the browser has no Web Push (iOS outside the Home Screen)',
});

const Device = Type.Object({
  sessionId: Uuid,
  kind: Type.String(),
  label: Nullable(Type.String()),
  platform: Nullable(Type.String()),
  pushPermission: Nullable(PushPermission),
  standalone: Nullable(Type.Boolean()),
  pushSubscribed: Type.Boolean(),
  testPushFailed: Type.Boolean({ description: 'Its latest test push did not get through: subscribe again, then send another test push' }),
  lastSeenAt: Timestamp,
  reportedAt: Nullable(Timestamp),
  lastPushAt: Nullable(Timestamp),
  canReceiveAlarms: Type.Boolean({ description: 'Push is allowed and subscribed, and its latest test push (if any) got through: alarms reach this device with the app closed' }),
});

const ReminderChannel = StringEnum(['push', 'email', 'sms', 'none'] as const, {
  description: 'push: to the devices with a subscription; email or sms: for those with none, through the configured transport; none: no way to reach them',
});
const presentReminder = (r: LastReminder | null) => (r ? { ...r, at: new Date(r.at).toISOString() } : null);

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const presentDevice = (d: DeviceView) => ({
  ...d, lastSeenAt: new Date(d.lastSeenAt).toISOString(), reportedAt: iso(d.reportedAt), lastPushAt: iso(d.lastPushAt),
});

// Base64url, as PushSubscription.toJSON() gives the keys.
const Base64Url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+={0,2}$' });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  // Public: it is the server's public key, and a service worker renewing its subscription may have no session at hand.
  app.get('/push/config', {
    config: { public: true },
    schema: {
      tags: ['devices'], summary: 'The server\'s VAPID public key, for PushManager.subscribe({ applicationServerKey })', security: [],
      response: { 200: Type.Object({ vapidPublicKey: Type.String() }) },
    },
  }, async () => ({ vapidPublicKey: app.push.sender().publicKey }));

  app.put('/me/device/push-subscription', {
    schema: {
      tags: ['devices'],
      summary: 'Register or refresh this device\'s push subscription (PushSubscription.toJSON()); replaces the device\'s previous one',
      body: Type.Object({
        endpoint: Type.String({ minLength: 1, maxLength: 2048 }),
        expirationTime: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 8.64e15, description: 'Milliseconds since 1970, as the browser gives it' }))),
        keys: Type.Object({ p256dh: Base64Url(200), auth: Base64Url(100) }, { additionalProperties: false }),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ id: Uuid, createdAt: Timestamp }), ...commonErrors, 409: ErrorResponse },
    },
  }, async (request) => {
    const { id, createdAt } = await registerSubscription(app.db, app.config, app.push.allowList, request.principal, request.body);
    return { id, createdAt: new Date(createdAt).toISOString() };
  });

  app.delete('/me/device/push-subscription', {
    schema: {
      tags: ['devices'], summary: 'Remove this device\'s push subscription (alarms then reach it only while the app is open)',
      response: { 204: NoContent, ...commonErrors },
    },
  }, async (request, reply) => {
    await removeSubscription(app.db, request.principal);
    return reply.status(204).send(null);
  });

  app.get('/me/device', {
    schema: {
      tags: ['devices'], summary: 'This device as the server sees it: push permission, subscription, last seen; can it receive alarms?',
      response: { 200: Device, ...commonErrors },
    },
  }, async (request) => presentDevice(await thisDevice(app.db, request.principal)));

  app.put('/me/device/status', {
    schema: {
      tags: ['devices'], summary: 'Report this device\'s state (push permission, installed to the Home Screen, platform)',
      body: Type.Object({
        pushPermission: PushPermission,
        standalone: Type.Boolean({ description: 'Running as an installed app (display-mode standalone)' }),
        platform: Type.String({ maxLength: 100, pattern: '^[^\\u0000]*$' }),
      }, { additionalProperties: false }),
      response: { 200: Device, ...commonErrors },
    },
  }, async (request) => presentDevice(await reportDeviceStatus(app.db, request.principal, request.body)));

  app.post('/me/device/test-push', {
    config: { rateLimit: { max: 5, timeWindow: '1 minute' } },
    schema: {
      tags: ['devices'], summary: 'Send a test push to this device (the device check)',
      response: { 202: Type.Object({ deliveryId: Type.String() }), ...commonErrors, 409: ErrorResponse, 429: ErrorResponse },
    },
  }, async (request, reply) => {
    const queued = await queueTestPush(app.db, app.clock, request.principal);
    app.delivery.worker.poke();
    return reply.status(202).send(queued);
  });

  app.get('/sites/:siteId/device-health', {
    schema: {
      tags: ['devices'],
      summary: 'People at the site and whether their devices can receive alarms, those who cannot first (rektorer, crisis leads)',
      params: SiteParams,
      response: {
        200: Type.Object({
          people: Type.Array(Type.Object({
            personId: Uuid,
            name: Type.String(),
            canReceiveAlarms: Type.Boolean(),
            smsAlarms: Type.Boolean({
              description: 'Cannot receive push, but has a phone number and an SMS gateway is configured: alarms of types with smsWhenNoPush reach them by SMS',
            }),
            problem: Nullable(StringEnum(['no_device', 'push_denied', 'push_failing', 'push_not_enabled'] as const)),
            lastReminder: Nullable(Type.Object({ at: Timestamp, channel: ReminderChannel, by: Nullable(Type.String()) })),
            devices: Type.Array(Type.Object({
              sessionId: Uuid, kind: Type.String(), label: Nullable(Type.String()), platform: Nullable(Type.String()),
              pushPermission: Nullable(PushPermission), pushSubscribed: Type.Boolean(), testPushFailed: Type.Boolean(), lastSeenAt: Timestamp,
            })),
          })),
        }),
        ...commonErrors,
      },
    },
  }, async (request) => ({
    people: (await siteDeviceHealth(app.db, request.principal, request.params.siteId, app.push.sms !== null))
      .map((p) => ({ ...p, lastReminder: presentReminder(p.lastReminder) })),
  }));

  app.delete('/sites/:siteId/devices/:sessionId', {
    schema: {
      tags: ['devices'],
      summary: 'Remove a stale device of someone at the site (rektorer, organisation admins): its session and push subscription end at once',
      params: Type.Object({ siteId: Uuid, sessionId: Uuid }),
      response: { 204: NoContent, ...commonErrors },
    },
  }, async (request, reply) => {
    await removeDevice(app.db, request.principal, request.params.siteId, request.params.sessionId, request.id);
    app.realtime.endSessions({ sessionId: request.params.sessionId });
    return reply.status(204).send(null);
  });

  app.post('/sites/:siteId/device-reminders', {
    config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
    schema: {
      tags: ['devices'],
      summary: 'Remind people at the site to get a device ready for alarms (push, else e-mail or SMS where configured); each reminder is recorded',
      params: SiteParams,
      body: Type.Object({ personIds: Type.Array(Uuid, { minItems: 1, maxItems: 500, uniqueItems: true }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ reminded: Type.Array(Type.Object({ personId: Uuid, channel: ReminderChannel })) }),
        ...commonErrors, 429: ErrorResponse,
      },
    },
  }, async (request) => {
    const reminded = await remindPeople(app.db, {
      clock: app.clock, mail: app.mail, smsOrigin: app.push.sms?.origin ?? null, publicUrl: app.config.PUBLIC_URL ?? null,
    }, request.principal, request.params.siteId, request.body.personIds, request.id);
    app.delivery.worker.poke();
    return { reminded };
  });

  // The gateway's, not a person's: authenticated by SMS_REPORT_TOKEN before the body is validated (JSON too
  // deep to parse is refused first, as on every route).
  app.post('/sms/reports', {
    config: { public: true },
    preValidation: async (request) => {
      const expected = app.config.SMS_REPORT_TOKEN;
      if (!expected) throw new AppError('not_found');
      if (!secretMatches(bearerToken(request.headers.authorization), expected)) {
        throw new AppError('unauthenticated', { sv: 'SMS-gatewayens token saknas eller är fel.', en: 'The SMS gateway\'s token is missing or wrong.' });
      }
    },
    schema: {
      tags: ['devices'],
      summary: 'The SMS gateway\'s delivery report for an SMS it was given, with `Authorization: Bearer <SMS_REPORT_TOKEN>`; not served without SMS_REPORT_TOKEN',
      body: Type.Object({
        reference: Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'The `reference` the SMS was sent with' }),
        status: StringEnum(['delivered', 'failed'] as const, { description: 'delivered: the phone network handed it to the phone; failed: it will not be' }),
      }, { additionalProperties: false }),
      response: { 204: NoContent, ...commonErrors },
    },
  }, async (request, reply) => {
    await recordSmsReport(app.db, request.body.reference, request.body.status, app.clock.now());
    return reply.status(204).send(null);
  });
};

export default routes;
