import type { Tx } from '../../db/pool.js';
import type { NewEvent } from '../alarms/events.js';
import { siteInstruction } from '../alarms/instruction.js';
import { enqueueIncidentPush, enqueuePeoplePush, OUTBOX_SQL } from './outbox.js';
import { incidentContext, INCIDENT_PUSH_SQL, policyOf } from './incident-pushes.js';
import { buildPayload, cut, type IncidentContext } from './payload.js';

export const ESCALATION_SQL = {
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
  incident: 'SELECT organisation_id AS "organisationId", site_id AS "siteId", state, raised_at AS "raisedAt" FROM incidents WHERE id = $1',
  // Recipients none of whose devices has confirmed, and who did not press it themselves.
  unreached: `
    SELECT r.person_id AS "personId", p.name
      FROM incident_recipients r JOIN people p ON p.id = r.person_id
     WHERE r.incident_id = $1 AND r.delivered_at IS NULL AND r.acknowledged_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM incident_presses ip WHERE ip.incident_id = r.incident_id AND ip.person_id = r.person_id)
     ORDER BY p.name`,
  // The escalation contacts of every group through which the incident reached someone, in the groups' order.
  contacts: `
    SELECT DISTINCT ON (coalesce(c.person_id::text, c.phone, c.id::text))
           c.person_id AS "personId", coalesce(cp.name, c.name) AS name, coalesce(c.phone, cp.phone) AS phone, g.name AS "groupName"
      FROM alarm_groups g
      JOIN alarm_group_escalation_contacts c ON c.group_id = g.id
      LEFT JOIN people cp ON cp.id = c.person_id AND cp.active
     WHERE g.id IN (SELECT unnest(via_groups) FROM incident_recipients WHERE incident_id = $1)
       AND (c.person_id IS NULL OR cp.id IS NOT NULL)
     ORDER BY coalesce(c.person_id::text, c.phone, c.id::text), g.name, c.position`,
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

interface Contact {
  personId: string | null;
  name: string;
  phone: string | null;
  groupName: string;
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
  const incident = (await tx.query<{ organisationId: string; siteId: string; state: string; raisedAt: Date }>(
    ESCALATION_SQL.incident, [step.incidentId],
  )).rows[0];
  const context = await incidentContext(tx, step.incidentId);
  if (!incident || !context || incident.state !== 'active') {
    await tx.query(ESCALATION_SQL.finish, [step.id, 'cancelled', deps.now]);
    return [];
  }
  const unreached = (await tx.query<{ personId: string; name: string }>(ESCALATION_SQL.unreached, [step.incidentId])).rows;
  await tx.query(ESCALATION_SQL.finish, [step.id, 'done', deps.now]);
  if (unreached.length === 0) return [];

  const event = (type: NewEvent['type'], data: Record<string, unknown>): NewEvent => ({
    incidentId: step.incidentId, organisationId: incident.organisationId, siteId: incident.siteId,
    type, audience: 'leads', actorPersonId: null, data,
  });
  const policy = policyOf(context);
  const instruction = await siteInstruction(tx, incident.siteId);
  if (step.step === 'repush') {
    const input = { kind: 'reminder' as const, incident: context, instruction, at: deps.now };
    const pushes = await enqueueIncidentPush(tx, {
      incidentId: step.incidentId, kind: 'reminder', ttlSeconds: policy.pushTtlSeconds, now: deps.now, exceptPersonId: null,
      onlyPersonIds: unreached.map((u) => u.personId),
      payloads: { sv: buildPayload(input, 'sv'), en: buildPayload(input, 'en') },
    });
    if (policy.repushAfterSeconds !== null && step.round < policy.maxRepushes) {
      const next = new Date(incident.raisedAt.getTime() + (step.round + 1) * policy.repushAfterSeconds * 1000);
      await tx.query(INCIDENT_PUSH_SQL.scheduleStep, [step.incidentId, 'repush', step.round + 1, next]);
    }
    // Who was reminded is in the delivery attempts (review); the event goes to every lead's device, so it
    // carries the count, not 10,000 ids.
    return [event('repushed', { round: step.round, unreached: unreached.length, pushes })];
  }

  const contacts = (await tx.query<Contact>(ESCALATION_SQL.contacts, [step.incidentId])).rows;
  const names = unreached.map((u) => u.name);
  const input = { kind: 'escalation' as const, incident: context, unreached: names, at: deps.now };
  const payloads = { sv: buildPayload(input, 'sv'), en: buildPayload(input, 'en') };
  const pushes = await enqueuePeoplePush(tx, {
    incidentId: step.incidentId, kind: 'escalation', ttlSeconds: policy.pushTtlSeconds, now: deps.now, payloads,
    personIds: contacts.flatMap((c) => (c.personId ? [c.personId] : [])),
  });
  const sms = policy.smsToContacts && deps.smsOrigin ? contacts.filter((c) => c.phone) : [];
  for (const contact of sms) {
    await tx.query(OUTBOX_SQL.enqueueSms, [
      step.incidentId, contact.personId, deps.smsOrigin, contact.phone, JSON.stringify(smsPayload(context, payloads.sv.title, names)),
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
