import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/log.js';
import { appendEvents, appendReviewEvents, type IncidentEvent, type NewEvent } from '../alarms/events.js';
import { ESCALATION_SQL, runEscalationStep, type ClaimedStep } from './escalation.js';
import { OUTBOX_SQL, type ClaimedDelivery } from './outbox.js';
import type { PushSender, SendOutcome } from './push-sender.js';
import type { SmsGateway } from './sms-gateway.js';

export interface WorkerDeps {
  db: Db;
  clock: Clock;
  log: Log;
  config: Config;
  sender: PushSender;
  sms: SmsGateway | null;
  /** Sends committed escalation events to the leads' devices. */
  publish: (events: IncidentEvent[]) => Promise<void>;
  /** Counts attempts by channel and outcome (metrics). */
  count: (channel: string, outcome: string) => void;
}

type Outcome = SendOutcome | { result: 'cancelled'; error: string } | { result: 'expired'; error: string };

interface Finish {
  id: string;
  state: 'queued' | 'sent' | 'failed' | 'gone' | 'cancelled';
  dueAt: Date | null;
  status: number | null;
  error: string | null;
  claim: string;
  at: Date;
}

const STEP_BATCH = 10;
const STOP_WAIT_MS = 2000;
const FLUSH_MS = 20;
const FLUSH_MAX = 500;

/** Exponential backoff from 1 s to 60 s with jitter, unless the service asked for longer. */
export function retryDelayMs(attempt: number, retryAfterMs: number | null): number {
  const backoff = Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
  const jittered = backoff * (0.8 + Math.random() * 0.4);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Sends what the outbox holds and runs due escalation steps; one per node, all claiming from the
 * same tables with SKIP LOCKED. A claimed row is sent at once or given back, so a claim's lease
 * only has to outlast one request. Outcomes are written in small batches.
 */
export class DeliveryWorker {
  private readonly node = randomUUID();
  private readonly inFlight = new Map<string, number>();
  private total = 0;
  private readonly sends = new Set<Promise<void>>();
  private finishes: Finish[] = [];
  private reviewEvents: NewEvent[] = [];
  private gone = new Set<string>();
  private succeeded = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private running: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** A poke that came while the worker was busy: the next wait returns at once. */
  private poked = false;
  private stepsCheckedAt = 0;

  constructor(private readonly deps: WorkerDeps) {}

  /** Runs in the background until stop(). */
  start(): void {
    this.stopping = false;
    this.running ??= this.loop();
  }

  /**
   * Stops claiming, gives sends in flight a moment to finish, and writes their outcomes. Sends
   * still hanging after that stay claimed; when their leases end another node sends them.
   */
  async stop(waitMs = STOP_WAIT_MS): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.running;
    this.running = null;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.sends]),
      new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
    await this.flush();
  }

  /** New work was queued on this node: look now rather than at the next poll. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** Runs everything due now to completion (tests drive escalation with their own clock this way). */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      const started = await this.runOnce(true);
      await Promise.allSettled([...this.sends]);
      await this.flush();
      if (started === 0) return;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let started = 0;
      try {
        started = await this.runOnce();
      } catch (err) {
        this.deps.log.warn({ err }, 'delivery worker: claiming failed; trying again');
      }
      if (this.stopping) break;
      if (started === 0 || this.total >= this.deps.config.PUSH_CONCURRENCY) await this.idle(this.deps.config.PUSH_POLL_MS);
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        this.poked = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /**
   * Claims due deliveries, and due escalation steps (at most once per poll interval while
   * deliveries keep the worker busy); returns how many it started.
   */
  async runOnce(allSteps = false): Promise<number> {
    let steps = 0;
    if (allSteps || Date.now() - this.stepsCheckedAt >= this.deps.config.PUSH_POLL_MS) {
      this.stepsCheckedAt = Date.now();
      steps = await this.runEscalationSteps();
    }
    return steps + (await this.claimDeliveries());
  }

  /** Claims for an origin come in batches: refilled when a quarter of its slots are free, not after every send. */
  private get refillBatch(): number {
    return Math.max(1, Math.floor(this.deps.config.PUSH_CONCURRENCY_PER_ORIGIN / 4));
  }

  private async runEscalationSteps(): Promise<number> {
    const { db, clock, config } = this.deps;
    const claim = randomUUID();
    const steps = (await db.query<ClaimedStep>(ESCALATION_SQL.claim, [clock.now(), STEP_BATCH, claim, config.PUSH_CLAIM_LEASE_MS])).rows;
    for (const step of steps) {
      let events: IncidentEvent[];
      try {
        events = await inTransaction(db, async (tx) => appendEvents(tx, await runEscalationStep(tx, step, {
          now: clock.now(), smsOrigin: this.deps.sms?.origin ?? null,
        })));
      } catch (err) {
        // Nothing of the step was written: it stays claimed until its lease ends, then any node runs it again.
        this.deps.log.error({ err, incidentId: step.incidentId, step: step.step }, 'escalation step failed; it runs again when its lease ends');
        continue;
      }
      try {
        await this.deps.publish(events);
      } catch (err) {
        // Committed; devices that missed the events get them on catch-up.
        this.deps.log.warn({ err, incidentId: step.incidentId }, 'escalation events not published; devices catch up');
      }
    }
    return steps.length;
  }

  private async claimDeliveries(): Promise<number> {
    const { db, clock, config } = this.deps;
    const free = Math.min(config.PUSH_CONCURRENCY - this.total, config.PUSH_CONCURRENCY_PER_ORIGIN);
    if (free <= 0) return 0;
    const busy = config.PUSH_CONCURRENCY_PER_ORIGIN - this.refillBatch;
    const saturated = [...this.inFlight].filter(([, n]) => n > busy).map(([origin]) => origin);
    const claim = randomUUID();
    const now = clock.now();
    const rows = (await db.query<ClaimedDelivery>(OUTBOX_SQL.claim, [now, saturated, free, claim, this.node, config.PUSH_CLAIM_LEASE_MS])).rows;
    const start: ClaimedDelivery[] = [];
    const giveBack: string[] = [];
    const planned = new Map<string, number>();
    for (const row of rows) {
      const n = (this.inFlight.get(row.origin) ?? 0) + (planned.get(row.origin) ?? 0);
      if (n < config.PUSH_CONCURRENCY_PER_ORIGIN) {
        planned.set(row.origin, (planned.get(row.origin) ?? 0) + 1);
        start.push(row);
      } else giveBack.push(row.id);
    }
    if (giveBack.length) await db.query(OUTBOX_SQL.release, [giveBack, now, claim]);
    for (const row of start) this.dispatch(row, claim);
    return start.length;
  }

  private dispatch(row: ClaimedDelivery, claim: string): void {
    const { config } = this.deps;
    this.total += 1;
    this.inFlight.set(row.origin, (this.inFlight.get(row.origin) ?? 0) + 1);
    const send = this.attempt(row)
      .catch((err: unknown): Outcome => ({ result: 'retry', status: null, retryAfterMs: null, error: String(err) }))
      .then((outcome) => this.record(row, claim, outcome))
      .finally(() => {
        this.total -= 1;
        const left = (this.inFlight.get(row.origin) ?? 1) - 1;
        if (left === 0) this.inFlight.delete(row.origin);
        else this.inFlight.set(row.origin, left);
        this.sends.delete(send);
        // Look for more when the origin has room for a batch again, or when nothing is in flight.
        if (left === config.PUSH_CONCURRENCY_PER_ORIGIN - this.refillBatch || this.total === 0) this.poke();
      });
    this.sends.add(send);
  }

  private async attempt(row: ClaimedDelivery): Promise<Outcome> {
    const now = this.deps.clock.now();
    // After all clear or cancel only the all clear itself goes out: anything else would replace it on the phone.
    if (row.incident_state !== null && row.incident_state !== 'active' && row.kind !== 'all_clear') {
      return { result: 'cancelled', error: 'incident ended' };
    }
    // Escalation for a person stops once any of their devices has confirmed (invariant 2).
    if (row.confirmed && (row.kind === 'alarm' || row.kind === 'reminder')) return { result: 'cancelled', error: 'confirmed by a device' };
    if (row.superseded && row.kind !== 'all_clear') return { result: 'cancelled', error: 'superseded by a newer push' };
    if (now >= new Date(row.expires_at)) return { result: 'expired', error: 'time to live passed before it could be sent' };
    if (row.channel === 'sms') {
      if (!this.deps.sms || !row.address) return { result: 'cancelled', error: 'no SMS gateway configured' };
      const { message } = row.payload as unknown as { message: string };
      const outcome = await this.deps.sms.send({ to: row.address, message, reference: row.id });
      // A gateway's 404 says nothing about a subscription: it is a failure like any other 4xx.
      return outcome.result === 'gone' ? { result: 'failed', status: outcome.status, error: `${outcome.status} from the SMS gateway` } : outcome;
    }
    if (!row.endpoint || !row.p256dh || !row.auth) return { result: 'cancelled', error: 'subscription removed or its session ended' };
    const ttlSeconds = Math.max(1, Math.floor((new Date(row.expires_at).getTime() - now.getTime()) / 1000));
    const payload = JSON.stringify({ ...row.payload, deliveryId: row.id });
    return this.deps.sender.send({ endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth }, payload, { ttlSeconds, topic: row.topic });
  }

  private record(row: ClaimedDelivery, claim: string, outcome: Outcome): void {
    const { config, clock } = this.deps;
    const at = clock.now();
    const status = 'status' in outcome ? outcome.status : null;
    const error = 'error' in outcome ? outcome.error : null;
    let state: Finish['state'];
    let dueAt: Date | null = null;
    let result: string = outcome.result;
    switch (outcome.result) {
      case 'sent':
        state = 'sent';
        if (row.subscription_id) this.succeeded.add(row.subscription_id);
        break;
      case 'gone':
        state = 'gone';
        if (row.subscription_id) this.gone.add(row.subscription_id);
        break;
      case 'retry': {
        const next = new Date(at.getTime() + retryDelayMs(row.attempts, outcome.retryAfterMs));
        if (row.attempts >= config.PUSH_MAX_ATTEMPTS || next >= new Date(row.expires_at)) {
          state = 'failed';
          result = 'failed';
        } else {
          state = 'queued';
          dueAt = next;
        }
        break;
      }
      case 'expired':
      case 'failed':
        state = 'failed';
        break;
      case 'cancelled':
        state = 'cancelled';
        break;
    }
    this.deps.count(row.channel, result);
    if (outcome.result === 'retry' || outcome.result === 'failed') {
      this.deps.log.debug({ deliveryId: row.id, origin: row.origin, status, error, attempt: row.attempts }, 'delivery attempt failed');
    }
    this.finishes.push({ id: row.id, state, dueAt, status, error, claim, at });
    if (row.incident_id && row.organisation_id && row.site_id) {
      this.reviewEvents.push({
        incidentId: row.incident_id, organisationId: row.organisation_id, siteId: row.site_id, type: 'delivery_attempt',
        audience: 'review', actorPersonId: null,
        data: {
          deliveryId: row.id, personId: row.person_id, channel: row.channel, kind: row.kind, attempt: row.attempts,
          outcome: result, status, error, nextAttemptAt: dueAt?.toISOString() ?? null,
        },
      });
    }
    if (this.finishes.length >= FLUSH_MAX) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes outcomes gathered so far: outbox states, removed subscriptions, review events. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const finishes = this.finishes;
    const events = this.reviewEvents;
    const gone = [...this.gone];
    const succeeded = [...this.succeeded];
    this.finishes = [];
    this.reviewEvents = [];
    this.gone = new Set();
    this.succeeded = new Set();
    this.flushing = this.flushing.then(async () => {
      if (finishes.length === 0) return;
      const { db, clock } = this.deps;
      try {
        await db.query(OUTBOX_SQL.finish, [
          finishes.map((f) => f.id), finishes.map((f) => f.state), finishes.map((f) => f.dueAt), finishes.map((f) => f.status),
          finishes.map((f) => f.error), finishes.map((f) => f.claim), finishes.map((f) => f.at),
        ]);
        if (gone.length) await db.query(OUTBOX_SQL.removeSubscriptions, [gone]);
        if (succeeded.length) await db.query(OUTBOX_SQL.markSuccess, [succeeded, clock.now()]);
        await appendReviewEvents(db, events);
      } catch (err) {
        // The rows stay claimed until their leases end; then they are sent again (at least once).
        this.deps.log.warn({ err, outcomes: finishes.length }, 'delivery outcomes not written; rows will be retried');
      }
    });
    return this.flushing;
  }
}
