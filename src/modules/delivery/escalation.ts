import { randomUUID } from 'node:crypto';
import type { Queryable, Tx } from '../../db/pool.js';
import { escalationContactsOf } from '../alarm-groups/alarm-groups.js';
import type { NewEvent } from '../alarms/events.js';
import { incidentBrief } from '../alarms/incidents.js';
import { siteInstruction } from '../alarms/instruction.js';
import { groupsReached, unreachedRecipients } from '../alarms/recipients.js';
import { enqueueIncidentPush, enqueuePeoplePush, OUTBOX_SQL } from './outbox.js';
import { policyOf, scheduleSteps } from './incident-pushes.js';
import { buildPayload, cut, type IncidentContext } from './payload.js';

const ESCALATION_SQL = {
  // Due steps, and running ones whose node died (the lease is the due time while running).
  claim: `
    WITH due AS (
      SELECT id FROM escalation_steps WHERE state IN ('pending', 'running') AND due_at <= $1
       ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
    )
    UPDATE escalation_steps e SET state = 'running', claim = $3, due_at = $1::timestamptz + make_interval(secs => $4::double precision / 1000)
      FROM due WHERE e.id = due.id
    RETURNING e.id, e.incident_id AS "incidentId", e.step, e.round, e.claim`,
  lockStep: "SELECT id FROM escalation_steps WHERE id = $1 AND claim = $2 AND state = 'running' FOR UPDATE",
  finish: "UPDATE escalation_steps SET state = $2, finished_at = $3, claim = NULL WHERE id = $1",
} as const;

export interface ClaimedStep {
  id: string;
  incidentId: string;
  step: 'repush' | 'contacts';
  round: number;
  claim: string;
}

export interface EscalationDeps {
  now: Date;
  /** The SMS gateway's origin, when one is configured. */
  smsOrigin: string | null;
}

const SMS_MAX_CHARS = 640;
/** Names of the unreached carried by an `escalated` event (it goes to every lead's device). */
const ESCALATED_NAMES = 50;

/**
 * Runs one due escalation step in the caller's transaction and returns the timeline events it
 * makes. Repush: the recipients with no device receipt get the alarm again, and the next round is
 * scheduled. Contacts: the groups' escalation contacts are told who is unreached (push, and SMS
 * when the policy says so). Nothing happens once the incident has ended or everyone is reached.
 */
export async function runEscalationStep(tx: Tx, step: ClaimedStep, deps: EscalationDeps): Promise<NewEvent[]> {
  if (!(await tx.query(ESCALATION_SQL.lockStep, [step.id, step.claim])).rowCount) return [];
  const incident = await incidentBrief(tx, step.incidentId);
  if (!incident || incident.state !== 'active') {
    await tx.query(ESCALATION_SQL.finish, [step.id, 'cancelled', deps.now]);
    return [];
  }
  const unreached = await unreachedRecipients(tx, step.incidentId);
  await tx.query(ESCALATION_SQL.finish, [step.id, 'done', deps.now]);
  if (unreached.length === 0) return [];

  const event = (type: NewEvent['type'], data: Record<string, unknown>): NewEvent => ({
    incidentId: step.incidentId, organisationId: incident.organisationId, siteId: incident.siteId, drill: incident.drill,
    type, audience: 'leads', actorPersonId: null, data, at: deps.now,
  });
  const policy = policyOf(incident);
  const instruction = await siteInstruction(tx, incident.siteId);
  if (step.step === 'repush') {
    const input = { kind: 'reminder' as const, incident, instruction, at: deps.now };
    const pushes = await enqueueIncidentPush(tx, {
      incidentId: step.incidentId, kind: 'reminder', ttlSeconds: policy.pushTtlSeconds, now: deps.now, exceptPersonId: null,
      onlyPersonIds: unreached.map((u) => u.personId),
      payloads: { sv: buildPayload(input, 'sv'), en: buildPayload(input, 'en') },
    });
    if (policy.repushAfterSeconds !== null && step.round < policy.maxRepushes) {
      const next = new Date(incident.raisedAt.getTime() + (step.round + 1) * policy.repushAfterSeconds * 1000);
      await scheduleSteps(tx, step.incidentId, [{ step: 'repush', round: step.round + 1, dueAt: next }]);
    }
    // Who was reminded is in the delivery attempts (review); the event goes to every lead's device, so it
    // carries the count, not 10,000 ids.
    return [event('repushed', { round: step.round, unreached: unreached.length, pushes })];
  }

  const contacts = await escalationContactsOf(tx, await groupsReached(tx, step.incidentId));
  const names = unreached.map((u) => u.name);
  const input = { kind: 'escalation' as const, incident, unreached: names, at: deps.now };
  const payloads = { sv: buildPayload(input, 'sv'), en: buildPayload(input, 'en') };
  const pushes = await enqueuePeoplePush(tx, {
    incidentId: step.incidentId, kind: 'escalation', ttlSeconds: policy.pushTtlSeconds, now: deps.now, payloads,
    personIds: contacts.flatMap((c) => (c.personId ? [c.personId] : [])),
  });
  const sms = policy.smsToContacts && deps.smsOrigin ? contacts.filter((c) => c.phone) : [];
  for (const contact of sms) {
    await tx.query(OUTBOX_SQL.enqueueSms, [
      step.incidentId, contact.personId, deps.smsOrigin, contact.phone, JSON.stringify(smsPayload(incident, payloads.sv.title, names)),
      policy.pushTtlSeconds, deps.now,
    ]);
  }
  return [event('escalated', {
    // The first names (what a lead's screen shows), and how many in all; the roll call lists everyone.
    unreached: unreached.slice(0, ESCALATED_NAMES).map((u) => ({ personId: u.personId, name: u.name })),
    unreachedCount: unreached.length,
    contacts: contacts.map((c) => ({ personId: c.personId, name: c.name, group: c.groupName, sms: sms.includes(c) })),
    pushes,
  })];
}

/** SMS text in Swedish (contacts outside the system have no language setting), with as many names as fit. */
function smsPayload(context: IncidentContext, title: string, names: string[]) {
  let text = `${title}: ${names.join(', ')}`;
  const length = Array.from(text).length;
  if (length > SMS_MAX_CHARS) text = cut(text, length - SMS_MAX_CHARS);
  return { message: text, incidentId: context.id, drill: context.drill };
}

/** Claims due escalation steps for this node (SKIP LOCKED: nodes claiming at once take different ones). */
export async function claimEscalationSteps(db: Queryable, now: Date, limit: number, leaseMs: number): Promise<ClaimedStep[]> {
  return (await db.query<ClaimedStep>(ESCALATION_SQL.claim, [now, limit, randomUUID(), leaseMs])).rows;
}
