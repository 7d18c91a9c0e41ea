import type { NewEvent } from '../alarms/events.js';
import type { ClaimedDelivery } from './outbox.js';
import type { SendOutcome } from './push-sender.js';

/**
 * What the delivery worker decides, as pure functions of a claimed row, an outcome and the time:
 * whether to send at all, and what an attempt's outcome makes of the row. The worker (worker.ts) only
 * claims, sends and writes; these rules have unit tests of their own (test/delivery-decisions.test.ts).
 */

/** An attempt's outcome: what the push service or gateway said, or why nothing was sent. */
export type Outcome = SendOutcome | { result: 'cancelled'; error: string } | { result: 'expired'; error: string };

/** A row's next state after an attempt, as the outbox records it. */
export interface Settled {
  state: 'queued' | 'sent' | 'failed' | 'gone' | 'cancelled';
  /** When a retry is due (state queued), else null. */
  dueAt: Date | null;
  status: number | null;
  error: string | null;
  /** The outcome as counted and reviewed: a retry that ran out of attempts or time counts as failed. */
  result: 'sent' | 'gone' | 'retry' | 'failed' | 'cancelled' | 'expired';
}

/** Exponential backoff from 1 s to 60 s with ±20 % jitter, unless the service asked for longer. `random` in [0, 1). */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, random: number): number {
  const backoff = Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.max(backoff * (0.8 + random * 0.4), retryAfterMs ?? 0);
}

/**
 * Whether a claimed row is still worth sending now; the outcome that ends it without a request if not.
 * Checked at claim time, not when queued: between the two the incident may have ended, the person
 * confirmed on another device, or a newer push replaced this one on the phone.
 */
export function skipReason(row: ClaimedDelivery, now: Date): Outcome | null {
  // After all clear or cancel only the all clear itself goes out: anything else would replace it on the phone.
  // A site's instruction (ADR 027) says what holds at the site now, back to normal included; a newer one cancels it.
  if (row.incident_state !== null && row.incident_state !== 'active' && row.kind !== 'all_clear' && row.kind !== 'site_instruction') {
    return { result: 'cancelled', error: 'incident ended' };
  }
  // Escalation for a person stops once any of their devices has confirmed (invariant 2).
  if (row.confirmed && (row.kind === 'alarm' || row.kind === 'reminder')) return { result: 'cancelled', error: 'confirmed by a device' };
  if (row.superseded && row.kind !== 'all_clear') return { result: 'cancelled', error: 'superseded by a newer push' };
  if (now >= new Date(row.expires_at)) return { result: 'expired', error: 'time to live passed before it could be sent' };
  if (row.channel === 'sms') return row.address ? null : { result: 'cancelled', error: 'no phone number' };
  if (!row.endpoint || !row.p256dh || !row.auth) return { result: 'cancelled', error: 'subscription removed or its session ended' };
  return null;
}

/** What is left of a push's time to live now: the push service must not keep it longer than the outbox would. */
export const remainingTtlSeconds = (row: ClaimedDelivery, now: Date): number =>
  Math.max(1, Math.floor((new Date(row.expires_at).getTime() - now.getTime()) / 1000));

/** A gateway's 404 says nothing about a subscription: for SMS it is a failure like any other 4xx. */
export const smsOutcome = (outcome: SendOutcome): Outcome =>
  outcome.result === 'gone' ? { result: 'failed', status: outcome.status, error: `${outcome.status} from the SMS gateway` } : outcome;

/** What an attempt's outcome makes of the row: done, gone, failed, or queued again at backoff. */
export function settle(row: ClaimedDelivery, outcome: Outcome, at: Date, maxAttempts: number, random: number): Settled {
  const status = 'status' in outcome ? outcome.status : null;
  const error = 'error' in outcome ? outcome.error : null;
  switch (outcome.result) {
    case 'sent':
      return { state: 'sent', dueAt: null, status, error, result: 'sent' };
    case 'gone':
      return { state: 'gone', dueAt: null, status, error, result: 'gone' };
    case 'retry': {
      const next = new Date(at.getTime() + retryDelayMs(row.attempts, outcome.retryAfterMs, random));
      // No attempt left, or the next one would come after the push has expired: it has failed.
      if (row.attempts >= maxAttempts || next >= new Date(row.expires_at)) return { state: 'failed', dueAt: null, status, error, result: 'failed' };
      return { state: 'queued', dueAt: next, status, error, result: 'retry' };
    }
    case 'expired':
      return { state: 'failed', dueAt: null, status, error, result: 'expired' };
    case 'failed':
      return { state: 'failed', dueAt: null, status, error, result: 'failed' };
    case 'cancelled':
      return { state: 'cancelled', dueAt: null, status, error, result: 'cancelled' };
  }
}

/** The review's record of one attempt (never sent to devices); null for a push not about an incident (a test push). */
export function attemptEvent(row: ClaimedDelivery, settled: Settled, at: Date): NewEvent | null {
  if (!row.incident_id || !row.organisation_id || !row.site_id) return null;
  return {
    incidentId: row.incident_id, organisationId: row.organisation_id, siteId: row.site_id, drill: row.drill === true,
    type: 'delivery_attempt', audience: 'review', actorPersonId: null, at,
    data: {
      deliveryId: row.id, personId: row.person_id, channel: row.channel, kind: row.kind, attempt: row.attempts,
      outcome: settled.result, status: settled.status, error: settled.error, nextAttemptAt: settled.dueAt?.toISOString() ?? null,
    },
  };
}

/** What the outbox holds of a person's alarm SMS (ADR 025), as the roll call's query gathers it. */
export interface SmsRowFacts {
  smsDeliveredAt: Date | null;
  smsSentAt: Date | null;
  smsPending: boolean | null;
  smsFailedAt: Date | null;
}

/**
 * What the roll call says of a person's alarm SMS: delivered (the gateway's report) over sent over still
 * queued over failed; null when none was queued for them (or it was cancelled: they confirmed on a device).
 */
export function smsProgress(facts: SmsRowFacts): { state: 'queued' | 'sent' | 'delivered' | 'failed'; at: Date | null } | null {
  if (facts.smsDeliveredAt) return { state: 'delivered', at: facts.smsDeliveredAt };
  if (facts.smsSentAt) return { state: 'sent', at: facts.smsSentAt };
  if (facts.smsPending) return { state: 'queued', at: null };
  if (facts.smsFailedAt) return { state: 'failed', at: facts.smsFailedAt };
  return null;
}
