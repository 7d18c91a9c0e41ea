import type { Queryable } from '../../db/pool.js';
import type { DeliveryPolicy } from '../alarm-types/alarm-types.js';
import type { SiteInstruction } from '../alarms/instruction.js';
import { LAST_TEST_PUSH_FAILED } from './devices.js';
import { buildPayload, cut, type IncidentContext, type Language } from './payload.js';

const ALARM_SMS_SQL = {
  // The incident's recipients (but the one who pressed) with a phone number and no live device that can
  // receive alarms (devices.ts's canReceiveAlarms): none subscribed, push denied on it, or its last test push
  // failed. One SMS each, in the person's language. Runs in the raise's transaction: one pass over the
  // recipients, a lookup per recipient on the subscriptions' person index and the test pushes' index.
  enqueue: `
    INSERT INTO deliveries (incident_id, person_id, channel, kind, origin, address, payload, ttl_seconds, due_at, expires_at)
    SELECT $1, r.person_id, 'sms', 'alarm', $2, p.phone, CASE WHEN p.language = 'en' THEN $4::jsonb ELSE $3::jsonb END,
           $5::int, $6, $6::timestamptz + make_interval(secs => $5::int)
      FROM alarm_recipients r
      JOIN people p ON p.id = r.person_id AND p.active AND coalesce(p.phone, '') <> ''
     WHERE r.incident_id = $1 AND r.person_id IS DISTINCT FROM $7
       AND NOT EXISTS (
         SELECT 1 FROM push_subscriptions ps
           JOIN live_sessions s ON s.id = ps.session_id AND s.push_permission IS DISTINCT FROM 'denied'
          WHERE ps.person_id = r.person_id AND NOT ${LAST_TEST_PUSH_FAILED})`,
} as const;

/** Long enough for type, site, instruction and link; a gateway splits it into at most five parts. */
const SMS_MAX_CHARS = 640;

const TEXT = {
  sv: { silent: 'Tyst larm: stäng av ljudet på telefonen.', open: 'Öppna Samlarm:', openNoLink: 'Öppna Samlarm för mer.' },
  en: { silent: 'Silent alarm: mute your phone.', open: 'Open Samlarm:', openNoLink: 'Open Samlarm for more.' },
} as const;

/**
 * Whether an alarm goes by SMS to those without push (ADR 025): the type says so, and nothing silent is
 * in force at the site unless the alarm is that silent one (a fire raised during a lockdown stays silent,
 * as its push does: an SMS makes a sound).
 */
export function smsWhenNoPush(policy: Pick<DeliveryPolicy, 'smsWhenNoPush'>, type: IncidentContext['type'], instruction: SiteInstruction | null): boolean {
  if (!policy.smsWhenNoPush) return false;
  return type.sound === 'silent' || instruction?.sound !== 'silent';
}

/**
 * The alarm as one SMS: the drill marker and the type and site first (as the push's title), what to do,
 * where, a silent type's warning, and the link to the alarm in the app.
 */
export function alarmSmsText(incident: IncidentContext, instruction: SiteInstruction | null, lang: Language, publicUrl: string | null, at: Date): string {
  const push = buildPayload({ kind: 'alarm', incident, instruction, at }, lang);
  const t = TEXT[lang];
  const silent = incident.type.sound === 'silent' || instruction?.sound === 'silent' ? `\n${t.silent}` : '';
  const open = publicUrl ? `\n${t.open} ${publicUrl.replace(/\/$/, '')}/alarm/${incident.id}` : `\n${t.openNoLink}`;
  const head = `${push.title}${silent}\n`;
  const tail = open;
  let body = push.body;
  const over = Array.from(`${head}${body}${tail}`).length - SMS_MAX_CHARS;
  if (over > 0) body = cut(body, over);
  return `${head}${body}${tail}`;
}

export interface AlarmSms {
  incident: IncidentContext;
  instruction: SiteInstruction | null;
  ttlSeconds: number;
  now: Date;
  /** Who pressed (they know already). */
  exceptPersonId: string | null;
  smsOrigin: string;
  publicUrl: string | null;
}

/** Queues the alarm by SMS to each recipient who has no device that can receive push; returns how many. */
export async function enqueueAlarmSms(tx: Queryable, sms: AlarmSms): Promise<number> {
  const payload = (lang: Language) => JSON.stringify({
    message: alarmSmsText(sms.incident, sms.instruction, lang, sms.publicUrl, sms.now), incidentId: sms.incident.id, drill: sms.incident.drill,
  });
  const result = await tx.query(ALARM_SMS_SQL.enqueue, [
    sms.incident.id, sms.smsOrigin, payload('sv'), payload('en'), sms.ttlSeconds, sms.now, sms.exceptPersonId,
  ]);
  return result.rowCount ?? 0;
}
