import type { Db, Tx } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Log } from '../../lib/log.js';
import { appendEvents, type IncidentEvent, type NewEvent } from './events.js';
import type { Incident } from './incidents.js';
import type { RecipientRow } from './recipients.js';

/**
 * The alarm flow's front door. Every change to incidents — a raise, an answer, a message, an all
 * clear, a batch of receipts, an escalation step — is written through `run`, which does, in order:
 *
 *   1. the use case's own reads, checks and writes, in one transaction;
 *   2. the TRANSACTION_STEPS below, in the same transaction (what must be committed with the change or
 *      not at all: the linked incidents it causes at other organisations; the pushes it calls for);
 *   3. the change's timeline events, appended last (their ordering lock is held only until the commit);
 *   4. the commit;
 *   5. the AFTER_COMMIT processors below, in order: what follows from a committed change and may be
 *      late but never lost (devices catch up from Postgres whatever a processor could not do).
 *
 * Modules register the steps and processors they implement under these names (app.ts registers the
 * modules; `app.alarms.pipeline.missing()` is checked when the app is ready). The lists are here, in one
 * place, so that the way from a press to a device reads top to bottom.
 */
export const TRANSACTION_STEPS = [
  /**
   * links: a new alarm raises linked incidents at the sites of other organisations linked to its site
   * (their events and recipients join the change); a source's instructions and all clear follow to them;
   * a linked incident ended early is told to the source as counts. First, so that the next step queues
   * the linked incidents' pushes in the same transaction (invariant 1 covers linked recipients).
   */
  'cross-links',
  /**
   * delivery: one push per recipient device into the outbox, and an alarm's SMS to recipients with no device
   * that can receive push (ADR 025); escalation scheduled; an ended incident's queue cancelled.
   */
  'queue-pushes',
  /** delivery: a push "instruction at your site" to everyone working there whom the change's events did not tell (ADR 027). */
  'queue-site-pushes',
] as const;

export const AFTER_COMMIT = [
  /** delivery: this node's worker sends what was just queued now, not at its next poll. */
  'wake-delivery-worker',
  /** realtime: each event to the devices of its audience, on this node and through Redis on the others. */
  'publish-to-devices',
  /** realtime: live counts (targeted, reached, safe…) to the leads and the presser, at most four a second. */
  'roll-call-summaries',
  /** realtime: a changed site instruction to everyone working there whom the events did not tell; raises and ends to the organisation's admins (ADR 027). */
  'site-instructions',
] as const;

export type TransactionStepName = (typeof TRANSACTION_STEPS)[number];
export type ProcessorName = (typeof AFTER_COMMIT)[number];

/** A new incident and its recipients as just written, so that no step or processor reads them back. */
export interface NewIncident {
  incident: Incident;
  recipients: RecipientRow[];
  /** The sites linked to the incident's site as its raise found and locked them; none: there is no link to cross. */
  linkedSites?: string[];
}

/**
 * What a change writes, as the transaction steps see it. Steps may add events (they are appended with
 * the rest) and new incidents (a raise's linked incidents at other organisations).
 */
export interface PendingChange {
  events: NewEvent[];
  newIncidents?: NewIncident[];
}

/** A committed change, as the after-commit processors see it. */
export interface CommittedChange {
  events: IncidentEvent[];
  newIncidents?: NewIncident[];
  /** People who became recipients of an incident already under way (a press that joined): their devices need its current state. */
  joinedRecipients?: string[];
}

export type TransactionStep = (tx: Tx, change: PendingChange) => Promise<void>;
export type AfterCommitProcessor = (change: CommittedChange) => Promise<void> | void;

export class AlarmPipeline {
  private readonly steps = new Map<TransactionStepName, TransactionStep>();
  private readonly processors = new Map<ProcessorName, AfterCommitProcessor>();

  constructor(private readonly db: Db, private readonly log: Log) {}

  onTransaction(name: TransactionStepName, step: TransactionStep): void {
    this.steps.set(name, step);
  }

  afterCommit(name: ProcessorName, processor: AfterCommitProcessor): void {
    this.processors.set(name, processor);
  }

  /** Declared steps and processors no module registered: the app refuses to start with any. */
  missing(): string[] {
    return [...TRANSACTION_STEPS.filter((n) => !this.steps.has(n)), ...AFTER_COMMIT.filter((n) => !this.processors.has(n))];
  }

  /**
   * Runs one change: `work` in a transaction, then the transaction steps, the events appended last,
   * the commit, and the after-commit processors. `after`: 'await' answers once the processors have run;
   * 'schedule' answers at once and runs them on the next turn of the event loop (a raise: the presser's
   * answer never waits for the fan-out). `deadlineMs`: the transaction, from getting a connection to the
   * commit, must finish by then, or nothing of it is written and the caller hears `database_unavailable`.
   */
  async run<T>(
    work: (tx: Tx) => Promise<{ result: T; change: PendingChange; joinedRecipients?: string[] }>,
    after: 'await' | 'schedule',
    options: { deadlineMs?: number } = {},
  ): Promise<{ result: T; events: IncidentEvent[] }> {
    const done = await inTransaction(this.db, async (tx) => {
      const { result, change, joinedRecipients } = await work(tx);
      const events = await this.commit(tx, change);
      const committed: CommittedChange = {
        events, ...(change.newIncidents?.length ? { newIncidents: change.newIncidents } : {}), ...(joinedRecipients?.length ? { joinedRecipients } : {}),
      };
      return { result, committed };
    }, options);
    if (after === 'await') await this.process(done.committed);
    else setImmediate(() => void this.process(done.committed));
    return { result: done.result, events: done.committed.events };
  }

  /** Steps 2 and 3 inside a transaction someone else opened (an escalation step claimed by the delivery worker). */
  async commit(tx: Tx, change: PendingChange): Promise<IncidentEvent[]> {
    for (const name of TRANSACTION_STEPS) await this.steps.get(name)?.(tx, change);
    return appendEvents(tx, change.events);
  }

  /** Step 5 for changes committed elsewhere (receipts, escalation) or sent again (a replayed press). Never throws. */
  async process(change: CommittedChange): Promise<void> {
    if (change.events.length === 0 && !change.joinedRecipients?.length) return;
    for (const name of AFTER_COMMIT) {
      try {
        await this.processors.get(name)?.(change);
      } catch (err) {
        // Committed is committed: devices catch up on whatever a processor could not do.
        this.log.warn({ err, processor: name, events: change.events.length }, 'after-commit processor failed; devices will catch up');
      }
    }
  }
}
