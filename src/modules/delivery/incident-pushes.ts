import type { Queryable } from '../../db/pool.js';
import { alarmTypeBriefs, DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from '../alarm-types/alarm-types.js';
import type { NewEvent } from '../alarms/events.js';
import { incidentBrief, type IncidentBrief } from '../alarms/incidents.js';
import type { SiteInstruction } from '../alarms/instruction.js';
import { recipientsOf } from '../alarms/recipients.js';
import type { PendingChange } from '../alarms/pipeline.js';
import { enqueueAlarmSms, smsWhenNoPush } from './alarm-sms.js';
import { buildPayload, heldAskText, type IncidentContext, type Language, type PayloadInput } from './payload.js';
import { enqueueIncidentPush, OUTBOX_SQL } from './outbox.js';

const INCIDENT_PUSH_SQL = {
  // $2–$4: the steps, one array element each (a raise schedules its first repush and its contacts in one round trip).
  scheduleSteps: `
    INSERT INTO escalation_steps (incident_id, step, round, due_at)
    SELECT $1, s.step, s.round, s.due_at FROM unnest($2::text[], $3::int[], $4::timestamptz[]) AS s (step, round, due_at)
    ON CONFLICT (incident_id, step, round) DO NOTHING`,
  cancelSteps: `
    UPDATE escalation_steps SET state = 'cancelled', finished_at = $2, claim = NULL
     WHERE incident_id = $1 AND state IN ('pending', 'running')`,
} as const;

/** The frozen policy of an incident; incidents raised before policies existed get the default without escalation. */
export function policyOf(context: IncidentContext): DeliveryPolicy {
  return (context.type as { delivery?: DeliveryPolicy }).delivery
    ?? { ...DEFAULT_DELIVERY_POLICY, repushAfterSeconds: null, contactsAfterSeconds: null, smsWhenNoPush: false };
}

/** Which events reach pockets, and as what. Receipts, answers and replies do not. */
function pushFor(event: NewEvent): Omit<PayloadInput, 'incident' | 'at'> | null {
  const instruction = (event.data.instruction ?? null) as SiteInstruction | null;
  switch (event.type) {
    case 'raised':
    case 'reraised':
      return { kind: 'alarm', instruction };
    case 'instruction_changed':
      return { kind: 'instruction', instruction };
    // A lead's written instruction (API kind `instruction`) goes out as push kind `message`: `instruction`
    // is the site's current instruction changing (docs/realtime.md, README "What a push carries").
    case 'message':
      return { kind: 'message', message: String(event.data.body ?? '') };
    case 'resolved':
    case 'cancelled':
      return { kind: 'all_clear', instruction, ended: { how: event.type, reason: (event.data.reason ?? null) as string | null } };
    default:
      return null;
  }
}

const ALERTING: ReadonlySet<NewEvent['type']> = new Set(['raised', 'reraised', 'resolved', 'cancelled']);

export interface QueueDeps {
  now: Date;
  /** The SMS gateway's origin, when one is configured. */
  smsOrigin: string | null;
  /** Where people open Samlarm (the link in an alarm's SMS), when configured. */
  publicUrl: string | null;
}

/**
 * The pipeline's `queue-pushes` step: the pushes that a change's events call for, queued in the
 * change's own transaction, so a committed alarm always has its pushes queued (invariant 2 for phones
 * in pockets). An alarm also goes by SMS to recipients with no device that can receive push, when its
 * type says so (ADR 025). A new incident also gets its escalation steps; an ended one has its pending
 * alerts and escalation cancelled.
 */
export async function queueIncidentPushes(tx: Queryable, change: PendingChange, deps: QueueDeps): Promise<void> {
  const { now } = deps;
  const { events } = change;
  // An incident that is itself alerting everyone in this change needs no second push about the instruction.
  const alerted = new Set(events.filter((e) => ALERTING.has(e.type)).map((e) => e.incidentId));
  for (const event of events) {
    if (event.type === 'link_held') {
      await queueHeldAsk(tx, event, now);
      continue;
    }
    const push = pushFor(event);
    if (!push) continue;
    if (push.kind === 'instruction' && alerted.has(event.incidentId)) continue;
    const context = await briefOf(tx, change, event.incidentId);
    if (!context) continue;
    const policy = policyOf(context);
    const input: PayloadInput = { ...push, incident: context, at: now };
    if (push.kind === 'instruction') await tx.query(OUTBOX_SQL.supersedeInstructions, [context.id, now]);
    await enqueueIncidentPush(tx, {
      incidentId: context.id, kind: push.kind, ttlSeconds: policy.pushTtlSeconds, now, exceptPersonId: event.actorPersonId,
      payloads: { sv: buildPayload(input, 'sv'), en: buildPayload(input, 'en') },
    });
    if (push.kind === 'alarm' && deps.smsOrigin && smsWhenNoPush(policy, context.type, push.instruction ?? null)) {
      await enqueueAlarmSms(tx, {
        incident: context, instruction: push.instruction ?? null, ttlSeconds: policy.pushTtlSeconds, now, exceptPersonId: event.actorPersonId,
        smsOrigin: deps.smsOrigin, publicUrl: deps.publicUrl,
      });
    }
    if (event.type === 'raised') await scheduleEscalation(tx, context.id, policy, now);
    if (event.type === 'resolved' || event.type === 'cancelled') {
      await tx.query(OUTBOX_SQL.cancelAlerts, [context.id, now]);
      await tx.query(INCIDENT_PUSH_SQL.cancelSteps, [context.id, now]);
    }
  }
}

/** An incident the change opened, as it was just written (a raise's own), or as stored. */
async function briefOf(tx: Queryable, change: PendingChange, incidentId: string): Promise<IncidentBrief | undefined> {
  return change.newIncidents?.find((opened) => opened.incident.id === incidentId)?.incident ?? incidentBrief(tx, incidentId);
}

/**
 * A linked alarm held at a receiving site (a fire during its lockdown, docs/linking.md) asks that site's leads on
 * their phones too, not only in an open app: a message on the incident they have, so it is as silent as it is.
 */
async function queueHeldAsk(tx: Queryable, event: NewEvent, now: Date): Promise<void> {
  const context = await incidentBrief(tx, event.incidentId);
  const [type] = await alarmTypeBriefs(tx, [String(event.data.alarmTypeId)]);
  if (!context || !type) return;
  const leads = (await recipientsOf(tx, context.id)).filter((r) => r.lead).map((r) => r.personId);
  const drill = event.data.drill === true;
  const payload = (lang: Language) =>
    buildPayload({ kind: 'message', incident: context, message: heldAskText(lang, type.label, String(event.data.organisationName), drill), at: now }, lang);
  await enqueueIncidentPush(tx, {
    incidentId: context.id, kind: 'message', ttlSeconds: policyOf(context).pushTtlSeconds, now, exceptPersonId: null, onlyPersonIds: leads,
    payloads: { sv: payload('sv'), en: payload('en') },
  });
}

async function scheduleEscalation(tx: Queryable, incidentId: string, policy: DeliveryPolicy, raisedAt: Date): Promise<void> {
  const at = (seconds: number) => new Date(raisedAt.getTime() + seconds * 1000);
  const steps: EscalationStep[] = [];
  if (policy.repushAfterSeconds !== null && policy.maxRepushes > 0) steps.push({ step: 'repush', round: 1, dueAt: at(policy.repushAfterSeconds) });
  if (policy.contactsAfterSeconds !== null) steps.push({ step: 'contacts', round: 1, dueAt: at(policy.contactsAfterSeconds) });
  await scheduleSteps(tx, incidentId, steps);
}

export interface EscalationStep {
  step: 'repush' | 'contacts';
  round: number;
  dueAt: Date;
}

/** Schedules an incident's escalation steps, in one statement; a step already scheduled stays as it is. */
export async function scheduleSteps(tx: Queryable, incidentId: string, steps: EscalationStep[]): Promise<void> {
  if (steps.length === 0) return;
  await tx.query(INCIDENT_PUSH_SQL.scheduleSteps, [incidentId, steps.map((s) => s.step), steps.map((s) => s.round), steps.map((s) => s.dueAt)]);
}
