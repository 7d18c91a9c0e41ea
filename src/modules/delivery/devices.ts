import type { Config } from '../../config/config.js';
import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { canManageDevicesAt, canManagePerson, canViewDeviceHealth, type Principal } from '../auth/policies.js';
import { revokeSession } from '../auth/sessions.js';
import { recordAudit } from '../audit/audit.js';
import { loadPerson } from '../people/people.js';
import type { Mailer } from '../../plugins/mail.js';
import { visibleSite } from '../sites/sites.js';
import { OUTBOX_SQL } from './outbox.js';
import { buildPayload } from './payload.js';
import { checkSubscriptionKeys, type PushHostAllowList } from './push-endpoints.js';

const TEST_PUSH_TTL_SECONDS = 300;

export type PushPermission = 'granted' | 'denied' | 'default' | 'unsupported';

/**
 * Whether the push subscription `ps`'s latest finished test push failed: the push service refused it, so the
 * device is counted as unable to receive alarms (and gets them by SMS: ADR 025) until a test push gets through.
 * One definition for the device check, device health, the link warnings and the alarm SMS.
 */
export const LAST_TEST_PUSH_FAILED = `coalesce((SELECT t.state = 'failed' FROM deliveries t
     WHERE t.subscription_id = ps.id AND t.kind = 'test' AND t.state IN ('sent', 'failed', 'gone')
     ORDER BY t.id DESC LIMIT 1), false)`;

const DEVICE_SQL = {
  // Serialises one person's registrations, so that devices registering at once cannot together pass the cap.
  // NO KEY UPDATE: rows referring to the person (sessions, receipts) can still be written meanwhile.
  lockPerson: 'SELECT 1 FROM people WHERE id = $1 FOR NO KEY UPDATE',
  // Other live devices of the person that have a subscription: what the cap counts.
  countOthers: `
    SELECT count(*)::int AS n FROM push_subscriptions ps JOIN live_sessions s ON s.id = ps.session_id
     WHERE ps.person_id = $1 AND ps.session_id <> $2`,
  // Subscriptions of the person's ended sessions are of no use: cleared before counting.
  removeDead: `
    DELETE FROM push_subscriptions ps
     WHERE ps.person_id = $1 AND NOT EXISTS (SELECT 1 FROM live_sessions s WHERE s.id = ps.session_id)`,
  removeForSession: 'DELETE FROM push_subscriptions WHERE session_id = $1',
  // A device registering a new endpoint drops its old one; the same endpoint again keeps its row (and
  // its id, which pushes already queued for the device refer to).
  removeOtherForSession: 'DELETE FROM push_subscriptions WHERE session_id = $1 AND endpoint <> $2',
  // The same browser subscription may move to a new session (signed out and in again on the phone),
  // but never away from another person's live session: knowing an endpoint must not let anyone
  // divert someone else's alarms. No row returned: it belongs to someone else.
  upsert: `
    INSERT INTO push_subscriptions (person_id, session_id, endpoint, origin, p256dh, auth, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (endpoint) DO UPDATE SET person_id = $1, session_id = $2, origin = $4, p256dh = $5, auth = $6,
           expires_at = $7, updated_at = now()
     WHERE push_subscriptions.person_id = $1
        OR NOT EXISTS (SELECT 1 FROM live_sessions s WHERE s.id = push_subscriptions.session_id)
    RETURNING id, created_at AS "createdAt"`,
  report: `
    UPDATE sessions SET push_permission = $2, standalone = $3, platform = $4, status_reported_at = now(), last_seen_at = now()
     WHERE id = $1`,
  device: `
    SELECT s.id AS "sessionId", s.kind, s.label, s.platform, s.push_permission AS "pushPermission", s.standalone,
           ps.id IS NOT NULL AS "pushSubscribed", ps.id IS NOT NULL AND ${LAST_TEST_PUSH_FAILED} AS "testPushFailed",
           s.last_seen_at AS "lastSeenAt", s.status_reported_at AS "reportedAt", ps.last_success_at AS "lastPushAt"
      FROM sessions s LEFT JOIN push_subscriptions ps ON ps.session_id = s.id
     WHERE s.id = $1`,
  subscriptionOf: 'SELECT id FROM push_subscriptions WHERE session_id = $1',
  // Everyone working at the site with their live devices. One row per person; people at large
  // schools number hundreds, and their sessions a few each.
  siteHealth: `
    SELECT p.id AS "personId", p.name, coalesce(p.phone, '') <> '' AS "hasPhone",
           coalesce(json_agg(json_build_object(
             'sessionId', s.id, 'kind', s.kind, 'label', s.label, 'platform', s.platform,
             'pushPermission', s.push_permission, 'pushSubscribed', ps.id IS NOT NULL,
             'testPushFailed', ps.id IS NOT NULL AND ${LAST_TEST_PUSH_FAILED}, 'lastSeenAt', s.last_seen_at) ORDER BY s.last_seen_at DESC) FILTER (WHERE s.id IS NOT NULL), '[]') AS devices
      FROM person_sites x
      JOIN people p ON p.id = x.person_id AND p.active
      LEFT JOIN live_sessions s ON s.person_id = p.id
      LEFT JOIN push_subscriptions ps ON ps.session_id = s.id
     WHERE x.site_id = $1
     GROUP BY p.id, p.name
     ORDER BY p.name`,
  // Of these people, those with a live device that can receive alarms in a pocket (as canReceiveAlarms decides).
  ableToReceive: `
    SELECT DISTINCT p.id FROM people p
      JOIN live_sessions s ON s.person_id = p.id
      JOIN push_subscriptions ps ON ps.session_id = s.id
     WHERE p.id = ANY($1::uuid[]) AND p.active AND s.push_permission IS DISTINCT FROM 'denied' AND NOT ${LAST_TEST_PUSH_FAILED}`,
} as const;

/** Device health that acts: removing a stale device, reminding people whose devices cannot receive alarms. */
export const DEVICE_ACTION_SQL = {
  // An open session of someone who works at the site.
  sessionAtSite: `
    SELECT s.id, s.person_id AS "personId", s.label, s.platform, s.last_seen_at AS "lastSeenAt"
      FROM live_sessions s JOIN person_sites x ON x.person_id = s.person_id AND x.site_id = $2
     WHERE s.id = $1`,
  // The people asked for who work at the site, with how to reach them.
  peopleAtSite: `
    SELECT p.id, p.name, p.email, p.phone, p.language,
           (SELECT count(*)::int FROM push_subscriptions ps JOIN live_sessions s ON s.id = ps.session_id
             WHERE ps.person_id = p.id) AS subscriptions
      FROM people p JOIN person_sites x ON x.person_id = p.id AND x.site_id = $2
     WHERE p.id = ANY($1::uuid[]) AND p.active`,
  // A reminder travels as a test push (no incident, no receipt): it also shows the device works.
  enqueueReminderPushes: `
    INSERT INTO deliveries (person_id, subscription_id, channel, kind, origin, payload, topic, ttl_seconds, due_at, expires_at)
    SELECT ps.person_id, ps.id, 'push', 'test', ps.origin, $2::jsonb, NULL, $3::int, $4, $4::timestamptz + make_interval(secs => $3::int)
      FROM push_subscriptions ps JOIN live_sessions s ON s.id = ps.session_id
     WHERE ps.person_id = $1`,
  enqueueReminderSms: `
    INSERT INTO deliveries (person_id, channel, kind, origin, address, payload, ttl_seconds, due_at, expires_at)
    VALUES ($1, 'sms', 'test', $2, $3, $4::jsonb, $5::int, $6, $6::timestamptz + make_interval(secs => $5::int))`,
  recordReminder: `
    INSERT INTO device_reminders (organisation_id, site_id, person_id, reminded_by, channel)
    VALUES ($1, $2, $3, $4, $5) RETURNING at`,
  // The latest reminder of each person at the site: who sent it, how and when.
  lastReminders: `
    SELECT DISTINCT ON (r.person_id) r.person_id AS "personId", r.at, r.channel, p.name AS "by"
      FROM device_reminders r LEFT JOIN people p ON p.id = r.reminded_by
     WHERE r.site_id = $1
     ORDER BY r.person_id, r.at DESC`,
} as const;

export interface SubscriptionInput {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

/**
 * Registers (or refreshes) the push subscription of the calling device. One per device: a new one
 * replaces the device's old one. The endpoint must be a push service on the allow-list, and a
 * person's devices are capped.
 */
export async function registerSubscription(
  db: Db, config: Config, allowList: PushHostAllowList, principal: Principal, input: SubscriptionInput,
): Promise<{ id: string; createdAt: Date }> {
  const origin = allowList.check(input.endpoint);
  checkSubscriptionKeys(input.keys);
  return inTransaction(db, async (tx) => {
    await tx.query(DEVICE_SQL.lockPerson, [principal.personId]);
    await tx.query(DEVICE_SQL.removeDead, [principal.personId]);
    const others = (await tx.query<{ n: number }>(DEVICE_SQL.countOthers, [principal.personId, principal.sessionId])).rows[0]?.n ?? 0;
    if (others >= config.PUSH_MAX_DEVICES_PER_PERSON) throw new AppError('too_many_devices');
    await tx.query(DEVICE_SQL.removeOtherForSession, [principal.sessionId, input.endpoint]);
    const expires = typeof input.expirationTime === 'number' ? new Date(input.expirationTime) : null;
    const row = (await tx.query<{ id: string; createdAt: Date }>(DEVICE_SQL.upsert, [
      principal.personId, principal.sessionId, input.endpoint, origin, input.keys.p256dh, input.keys.auth, expires,
    ])).rows[0];
    if (!row) throw new AppError('conflict', { sv: 'Push-prenumerationen hör till en annan inloggad enhet. Prenumerera igen för att få en ny.', en: 'This push subscription belongs to another signed-in device. Subscribe again for a new one.' });
    return row;
  });
}

export async function removeSubscription(db: Queryable, principal: Principal): Promise<void> {
  await db.query(DEVICE_SQL.removeForSession, [principal.sessionId]);
}

export interface DeviceView {
  sessionId: string;
  kind: string;
  label: string | null;
  platform: string | null;
  pushPermission: PushPermission | null;
  standalone: boolean | null;
  pushSubscribed: boolean;
  /** Its latest test push did not get through (the push service refused it). */
  testPushFailed: boolean;
  lastSeenAt: Date;
  reportedAt: Date | null;
  lastPushAt: Date | null;
  canReceiveAlarms: boolean;
}

type PushFacts = Pick<DeviceView, 'pushPermission' | 'pushSubscribed' | 'testPushFailed'>;

/**
 * A device can receive alarms in a pocket when push is allowed and subscribed, and its latest test push (if
 * any) got through. ALARM_SMS_SQL and DEVICE_SQL.ableToReceive say the same in SQL.
 */
const canReceiveAlarms = (d: PushFacts): boolean => d.pushSubscribed && d.pushPermission !== 'denied' && !d.testPushFailed;

const withVerdict = (d: Omit<DeviceView, 'canReceiveAlarms'>): DeviceView => ({ ...d, canReceiveAlarms: canReceiveAlarms(d) });

export async function thisDevice(db: Queryable, principal: Principal): Promise<DeviceView> {
  const row = (await db.query<Omit<DeviceView, 'canReceiveAlarms'>>(DEVICE_SQL.device, [principal.sessionId])).rows[0];
  if (!row) throw new AppError('unauthenticated');
  return withVerdict(row);
}

export async function reportDeviceStatus(
  db: Queryable, principal: Principal, status: { pushPermission: PushPermission; standalone: boolean; platform: string },
): Promise<DeviceView> {
  await db.query(DEVICE_SQL.report, [principal.sessionId, status.pushPermission, status.standalone, status.platform]);
  return thisDevice(db, principal);
}

/** Queues a test push to the calling device; the device check shows whether it arrived. */
export async function queueTestPush(db: Queryable, clock: Clock, principal: Principal): Promise<{ deliveryId: string }> {
  const subscription = (await db.query<{ id: string }>(DEVICE_SQL.subscriptionOf, [principal.sessionId])).rows[0];
  if (!subscription) throw new AppError('no_push_subscription');
  const input = { kind: 'test' as const, incident: null, at: clock.now() };
  const row = (await db.query<{ id: string }>(OUTBOX_SQL.enqueueForSubscription, [
    subscription.id, JSON.stringify(buildPayload(input, 'sv')), JSON.stringify(buildPayload(input, 'en')), TEST_PUSH_TTL_SECONDS, clock.now(),
  ])).rows[0];
  if (!row) throw new AppError('no_push_subscription');
  return { deliveryId: row.id };
}

export type DeviceProblem = 'no_device' | 'push_denied' | 'push_failing' | 'push_not_enabled';

export type ReminderChannel = 'push' | 'email' | 'sms' | 'none';
export interface LastReminder { at: Date; channel: ReminderChannel; by: string | null }

export interface PersonDeviceHealth {
  personId: string;
  name: string;
  canReceiveAlarms: boolean;
  /** Cannot receive push, but alarms of types that say so reach them by SMS (a phone number, a gateway: ADR 025). */
  smsAlarms: boolean;
  problem: DeviceProblem | null;
  lastReminder: LastReminder | null;
  devices: ({ sessionId: string; kind: string; label: string | null; platform: string | null; lastSeenAt: string } & PushFacts)[];
}

/** The people of a site, those whose devices cannot receive alarms first. */
export async function siteDeviceHealth(db: Queryable, principal: Principal, siteId: string, smsGateway: boolean): Promise<PersonDeviceHealth[]> {
  const site = await visibleSite(db, principal, siteId);
  if (!canViewDeviceHealth(principal, site)) throw new AppError('forbidden');
  const rows = (await db.query<Omit<PersonDeviceHealth, 'canReceiveAlarms' | 'smsAlarms' | 'problem' | 'lastReminder'> & { hasPhone: boolean }>(
    DEVICE_SQL.siteHealth, [site.id],
  )).rows;
  const reminders = new Map((await db.query<LastReminder & { personId: string }>(DEVICE_ACTION_SQL.lastReminders, [site.id])).rows
    .map(({ personId, ...r }) => [personId, r]));
  const people = rows.map(({ hasPhone, ...person }) => {
    const able = person.devices.some(canReceiveAlarms);
    const problem: DeviceProblem | null = able ? null
      : person.devices.length === 0 ? 'no_device'
        : person.devices.some((d) => d.pushPermission === 'denied') ? 'push_denied'
          : person.devices.some((d) => d.pushSubscribed && d.testPushFailed) ? 'push_failing' : 'push_not_enabled';
    return { ...person, canReceiveAlarms: able, smsAlarms: !able && hasPhone && smsGateway, problem, lastReminder: reminders.get(person.personId) ?? null };
  });
  return [...people.filter((p) => !p.canReceiveAlarms), ...people.filter((p) => p.canReceiveAlarms)];
}

/**
 * A rektor removes a stale device (an old phone) of someone at their site whom they manage: its
 * session ends, and with it its push subscription. The caller closes its sockets.
 */
export async function removeDevice(db: Db, principal: Principal, siteId: string, sessionId: string, requestId: string): Promise<{ personId: string }> {
  return inTransaction(db, async (tx) => {
    const site = await visibleSite(tx, principal, siteId);
    if (!canManageDevicesAt(principal, site)) throw new AppError('forbidden');
    const session = (await tx.query<{ id: string; personId: string; label: string | null; platform: string | null; lastSeenAt: Date }>(
      DEVICE_ACTION_SQL.sessionAtSite, [sessionId, site.id],
    )).rows[0];
    if (!session) throw new AppError('not_found');
    const person = await loadPerson(tx, session.personId);
    if (!canManagePerson(principal, person)) throw new AppError('forbidden');
    await revokeSession(tx, person.id, session.id);
    await recordAudit(tx, {
      organisationId: site.organisationId, actorPersonId: principal.personId, action: 'device.removed',
      entityType: 'person', entityId: person.id, before: null,
      after: { personName: person.name, siteId: site.id, sessionId: session.id, label: session.label, platform: session.platform, lastSeenAt: session.lastSeenAt },
      requestId,
    });
    return { personId: person.id };
  });
}

const REMINDER_TTL_SECONDS = 24 * 60 * 60;

const REMINDER_TEXT = {
  sv: {
    title: 'Samlarm: gör telefonen redo för larm',
    body: (by: string, site: string) => `${by} ber dig kontrollera att Samlarm kan ta emot larm för ${site}. Öppna appen och välj Enhetskontroll.`,
    mailSubject: 'Samlarm: gör telefonen redo för larm',
    mail: (name: string, by: string, site: string, url: string) => `Hej ${name}!\n\n${by} ber dig göra din telefon redo för larm från ${site}. Larm når dig bara på en enhet där du är inloggad i Samlarm och har tillåtit notiser.\n\nÖppna ${url} i telefonen, logga in, tillåt notiser och välj Enhetskontroll. På iPhone: lägg först till Samlarm på hemskärmen.\n`,
  },
  en: {
    title: 'Samlarm: get your phone ready for alarms',
    body: (by: string, site: string) => `${by} asks you to check that Samlarm can receive alarms for ${site}. Open the app and choose Device check.`,
    mailSubject: 'Samlarm: get your phone ready for alarms',
    mail: (name: string, by: string, site: string, url: string) => `Hello ${name},\n\n${by} asks you to get your phone ready for alarms from ${site}. Alarms reach you only on a device where you are signed in to Samlarm and have allowed notifications.\n\nOpen ${url} on your phone, sign in, allow notifications and choose Device check. On iPhone, add Samlarm to the Home Screen first.\n`,
  },
} as const;

export interface ReminderDeps {
  clock: Clock;
  mail: Mailer;
  /** The SMS gateway's origin, when one is configured. */
  smsOrigin: string | null;
  publicUrl: string | null;
}

/**
 * Reminds people at the site to make a device ready for alarms: a push to the devices they have
 * with a subscription; to those with none, an e-mail (SMTP) or else an SMS (the gateway), if
 * configured. Each reminder is recorded: who, how, when and by whom.
 */
export async function remindPeople(
  db: Db, deps: ReminderDeps, principal: Principal, siteId: string, personIds: string[], requestId: string,
): Promise<{ personId: string; channel: ReminderChannel }[]> {
  const ids = [...new Set(personIds.map((id) => id.toLowerCase()))];
  const mails: { to: string; subject: string; text: string }[] = [];
  const result = await inTransaction(db, async (tx) => {
    const site = await visibleSite(tx, principal, siteId);
    if (!canManageDevicesAt(principal, site)) throw new AppError('forbidden');
    const people = (await tx.query<{ id: string; name: string; email: string; phone: string | null; language: 'sv' | 'en'; subscriptions: number }>(
      DEVICE_ACTION_SQL.peopleAtSite, [ids, site.id],
    )).rows;
    if (people.length !== ids.length) throw new AppError('invalid_reference', { sv: 'Någon i listan arbetar inte på platsen eller är inaktiverad.', en: 'Someone on the list does not work at this site, or is deactivated.' });
    const by = (await loadPerson(tx, principal.personId)).name;
    const now = deps.clock.now();
    const out: { personId: string; channel: ReminderChannel }[] = [];
    for (const person of people) {
      const text = REMINDER_TEXT[person.language];
      let channel: ReminderChannel = 'none';
      if (person.subscriptions > 0) {
        const payload = {
          v: 1, kind: 'test', incidentId: null, drill: false, title: text.title, body: text.body(by, site.name),
          tag: 'samlarm-reminder', lang: person.language, alarmType: null, site: { id: site.id, name: site.name }, at: now.toISOString(),
        };
        await tx.query(DEVICE_ACTION_SQL.enqueueReminderPushes, [person.id, JSON.stringify(payload), REMINDER_TTL_SECONDS, now]);
        channel = 'push';
      } else if (deps.mail.enabled && deps.publicUrl) {
        mails.push({ to: person.email, subject: text.mailSubject, text: text.mail(person.name, by, site.name, deps.publicUrl) });
        channel = 'email';
      } else if (deps.smsOrigin && person.phone) {
        const message = `${text.title}. ${text.body(by, site.name)}`;
        await tx.query(DEVICE_ACTION_SQL.enqueueReminderSms, [person.id, deps.smsOrigin, person.phone, JSON.stringify({ message }), REMINDER_TTL_SECONDS, now]);
        channel = 'sms';
      }
      await tx.query(DEVICE_ACTION_SQL.recordReminder, [site.organisationId, site.id, person.id, principal.personId, channel]);
      await recordAudit(tx, {
        organisationId: site.organisationId, actorPersonId: principal.personId, action: 'device.reminded',
        entityType: 'person', entityId: person.id, before: null, after: { personName: person.name, siteId: site.id, channel }, requestId,
      });
      out.push({ personId: person.id, channel });
    }
    return out;
  });
  // After the commit: an e-mail is sent once the reminder is on record (a failed send is logged by the mailer).
  for (const mail of mails) await deps.mail.send(mail);
  return result;
}

/** Which of these people have a device that can receive alarms (a link warns when its receiving groups have none). */
export async function ableToReceive(db: Queryable, personIds: string[]): Promise<Set<string>> {
  if (personIds.length === 0) return new Set();
  return new Set((await db.query<{ id: string }>(DEVICE_SQL.ableToReceive, [personIds])).rows.map((r) => r.id));
}
