import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/config.js';
import { inTransaction, type Db, type Tx } from '../../db/pool.js';
import { Batcher } from '../../lib/batcher.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/log.js';
import { appendReviewEvents, type NewEvent } from '../alarms/events.js';
import type { AlarmPipeline } from '../alarms/pipeline.js';
import { attemptEvent, remainingTtlSeconds, settle, skipReason, smsOutcome, type Outcome, type Settled } from './decisions.js';
import { claimEscalationSteps, runEscalationStep } from './escalation.js';
import { OUTBOX_SQL, type ClaimedDelivery } from './outbox.js';
import type { PushSender } from './push-sender.js';
import type { SmsGateway } from './sms-gateway.js';

export interface WorkerDeps {
  db: Db;
  clock: Clock;
  log: Log;
  config: Config;
  sender: PushSender;
  sms: SmsGateway | null;
  /** Escalation steps are changes to incidents like any other: written and followed up through the pipeline. */
  pipeline: AlarmPipeline;
  /** Counts attempts by channel and outcome (metrics). */
  count: (channel: string, outcome: string) => void;
}

interface Finished {
  row: ClaimedDelivery;
  claim: string;
  settled: Settled;
  at: Date;
}

const STEP_BATCH = 10;
const STOP_WAIT_MS = 2000;

/**
 * Sends what the outbox holds and runs due escalation steps; one per node, all claiming from the
 * same tables with SKIP LOCKED. A claimed row is sent at once or given back; while it is being sent
 * and until its outcome is written, the node renews its lease, so no other node sends it again
 * unless this one stops (dies, or is frozen past the lease). Outcomes are written in small batches.
 * What to send and what an outcome means are pure rules (decisions.ts); this is the loop.
 */
export class DeliveryWorker {
  private readonly node = randomUUID();
  private readonly inFlight = new Map<string, number>();
  private total = 0;
  private readonly sends = new Set<Promise<void>>();
  /** Rows this node holds a claim on, until their outcome is written: id → claim token. Their leases are renewed. */
  private readonly held = new Map<string, string>();
  private readonly outcomes: Batcher<Finished>;
  private renewTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** A poke that came while the worker was busy: the next wait returns at once. */
  private poked = false;
  private stepsCheckedAt = 0;

  constructor(private readonly deps: WorkerDeps) {
    this.outcomes = new Batcher<Finished>({
      delayMs: 20,
      maxBatch: 500,
      retryMs: 500,
      maxPending: 100_000,
      write: async (batch) => {
        await this.writeOutcomes(batch);
        return batch.map(() => undefined);
      },
      // Retried; meanwhile the rows stay held and their leases renewed, so nobody sends them again.
      onError: (err, outcomes) => this.deps.log.warn({ err, outcomes }, 'delivery outcomes not written; retrying'),
      overloaded: () => new AppError('database_unavailable'),
    });
  }

  /** Runs in the background until stop(). */
  start(): void {
    this.stopping = false;
    this.running ??= this.loop();
    const every = Math.max(50, Math.floor(this.deps.config.PUSH_CLAIM_LEASE_MS / 3));
    this.renewTimer ??= setInterval(() => void this.renewLeases(), every);
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
    await this.outcomes.flush();
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
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
      await this.outcomes.flush();
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
    const { db, clock, config, pipeline } = this.deps;
    const steps = await claimEscalationSteps(db, clock.now(), STEP_BATCH, config.PUSH_CLAIM_LEASE_MS);
    for (const step of steps) {
      try {
        await pipeline.run(async (tx) => ({
          result: null,
          change: { events: await runEscalationStep(tx, step, { now: clock.now(), smsOrigin: this.deps.sms?.origin ?? null }) },
        }), 'await');
      } catch (err) {
        // Nothing of the step was written: it stays claimed until its lease ends, then any node runs it again.
        this.deps.log.error({ err, incidentId: step.incidentId, step: step.step }, 'escalation step failed; it runs again when its lease ends');
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
    this.held.set(row.id, claim);
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
    const skip = skipReason(row, now);
    if (skip) return skip;
    if (row.channel === 'sms') {
      if (!this.deps.sms) return { result: 'cancelled', error: 'no SMS gateway configured' };
      const { message } = row.payload as unknown as { message: string };
      return smsOutcome(await this.deps.sms.send({ to: row.address as string, message, reference: row.id }));
    }
    const payload = JSON.stringify({ ...row.payload, deliveryId: row.id });
    return this.deps.sender.send(
      { endpoint: row.endpoint as string, p256dh: row.p256dh as string, auth: row.auth as string }, payload,
      { ttlSeconds: remainingTtlSeconds(row, now), topic: row.topic },
    );
  }

  private record(row: ClaimedDelivery, claim: string, outcome: Outcome): void {
    const at = this.deps.clock.now();
    const settled = settle(row, outcome, at, this.deps.config.PUSH_MAX_ATTEMPTS, Math.random());
    this.deps.count(row.channel, settled.result);
    if (settled.result === 'retry' || settled.result === 'failed') {
      this.deps.log.debug({ deliveryId: row.id, origin: row.origin, status: settled.status, error: settled.error, attempt: row.attempts }, 'delivery attempt failed');
    }
    void this.outcomes.add({ row, claim, settled, at }).catch((err: unknown) => this.deps.log.warn({ err }, 'delivery outcome dropped'));
  }

  /**
   * Outbox states (fenced by the claim token), removed and succeeded subscriptions, and the review's attempt
   * events, in one transaction: a row is never settled without its attempt in the timeline, nor the other way.
   */
  private async writeOutcomes(batch: Finished[]): Promise<void> {
    await inTransaction(this.deps.db, async (tx) => this.writeOutcomesIn(tx, batch));
    for (const f of batch) if (this.held.get(f.row.id) === f.claim) this.held.delete(f.row.id);
  }

  private async writeOutcomesIn(db: Tx, batch: Finished[]): Promise<void> {
    const { clock } = this.deps;
    await db.query(OUTBOX_SQL.finish, [
      batch.map((f) => f.row.id), batch.map((f) => f.settled.state), batch.map((f) => f.settled.dueAt), batch.map((f) => f.settled.status),
      batch.map((f) => f.settled.error), batch.map((f) => f.claim), batch.map((f) => f.at),
    ]);
    const subscriptions = (result: Settled['result']) => [...new Set(batch.filter((f) => f.settled.result === result && f.row.subscription_id)
      .map((f) => f.row.subscription_id as string))];
    const gone = subscriptions('gone');
    const succeeded = subscriptions('sent');
    if (gone.length) await db.query(OUTBOX_SQL.removeSubscriptions, [gone]);
    if (succeeded.length) await db.query(OUTBOX_SQL.markSuccess, [succeeded, clock.now()]);
    await appendReviewEvents(db, batch.map((f) => attemptEvent(f.row, f.settled, f.at)).filter((e): e is NewEvent => e !== null));
  }

  /** Keeps this node's claims alive while it sends and until their outcomes are written. */
  private async renewLeases(): Promise<void> {
    if (this.held.size === 0) return;
    const { db, clock, config } = this.deps;
    const held = [...this.held];
    try {
      await db.query(OUTBOX_SQL.renew, [held.map(([id]) => id), held.map(([, claim]) => claim), clock.now(), config.PUSH_CLAIM_LEASE_MS]);
    } catch (err) {
      this.deps.log.warn({ err, rows: held.length }, 'delivery leases not renewed; another node may send these rows again');
    }
  }
}
