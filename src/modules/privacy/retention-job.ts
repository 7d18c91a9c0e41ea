import { hostname } from 'node:os';
import type { Config } from '../../config/config.js';
import type { Db, Tx } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/log.js';
import {
  blankIncidentTexts, deleteDeliveryAttempts, deleteIncidents, inActiveIncident, incidentsDueForBlanking,
  incidentsDueForDeletion, peopleNamedInIncidents,
} from '../alarms/retention.js';
import { deleteAuditEntriesBefore, recordSystemAudit } from '../audit/retention.js';
import { deleteEndedSessions, deleteLoginFailures } from '../auth/retention.js';
import { deleteOldDeliveries, forgetIncidentDeliveries } from '../delivery/retention.js';
import { incidentRetentionOfAll } from '../organisations/retention.js';
import {
  dueForPseudonymisation, lockPersonRow, profileOf, pseudonymisedWithName, replaceKeptNames, stillDueForPseudonymisation,
} from '../people/personal-data.js';
import { incidentBound, retentionBounds, runIsDue, type Bounds } from './periods.js';
import { pseudonymisePerson } from './pseudonymise.js';
import { forgetCrossingsOf } from '../links/retention.js';
import { deleteReviewRecords } from '../review/retention.js';

// Any constant, the same on every node (4_711_112: migrations, 4_711_113: the timeline's order).
const RETENTION_LOCK = 4_711_114;
/** How often each node asks whether a run is due. */
const CHECK_EVERY_MS = 15 * 60_000;
/** The first check after start-up, jittered, so nodes started together do not all ask at once. */
const FIRST_CHECK_MS = 60_000;
/** Incidents or people per transaction. */
const BATCH = 200;

const RETENTION_JOB_SQL = {
  tryLock: 'SELECT pg_try_advisory_lock($1) AS locked',
  unlock: 'SELECT pg_advisory_unlock($1)',
  // A first run on years of data may delete millions of rows: longer than the pool's statement timeout.
  longStatements: "SET LOCAL statement_timeout = '10min'",
  lastFinished: 'SELECT max(started_at) AS at FROM retention_runs WHERE finished_at IS NOT NULL',
  start: 'INSERT INTO retention_runs (node, started_at) VALUES ($1, $2) RETURNING id',
  finish: 'UPDATE retention_runs SET finished_at = $2, counts = $3 WHERE id = $1',
} as const;

export interface RetentionCounts {
  sessions: number;
  loginFailures: number;
  deliveries: number;
  escalationSteps: number;
  deliveryAttempts: number;
  incidentsBlanked: number;
  textRowsBlanked: number;
  incidentsDeleted: number;
  timelineEventsDeleted: number;
  peoplePseudonymised: number;
  /** Due, but still part of an active incident: next run. */
  peopleDeferred: number;
  namesReplaced: number;
  auditEntries: number;
}

export type RunResult =
  | { ran: true; runId: string; counts: RetentionCounts }
  /** busy: another node (or call) holds the lock; not_due: a run finished less than an interval ago. */
  | { ran: false; reason: 'busy' | 'not_due' };

export interface RetentionJobDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Log;
}

const zero = (): RetentionCounts => ({
  sessions: 0, loginFailures: 0, deliveries: 0, escalationSteps: 0, deliveryAttempts: 0, incidentsBlanked: 0,
  textRowsBlanked: 0, incidentsDeleted: 0, timelineEventsDeleted: 0, peoplePseudonymised: 0, peopleDeferred: 0,
  namesReplaced: 0, auditEntries: 0,
});

/** Transactions on the client that holds the lock: if its connection goes, the lock and the run go together. */
async function inLockedTransaction<T>(client: Tx, work: (tx: Tx) => Promise<T>, stopping: () => boolean): Promise<T> {
  // A node shutting down ends its run between two batches; the next run carries on where it stopped.
  if (stopping()) throw new Error('retention run stopped: the node is shutting down');
  await client.query('BEGIN');
  try {
    await client.query(RETENTION_JOB_SQL.longStatements);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Deletes and blanks personal data past its period (docs/PRIVACY.md). Every node may run it; a
 * session advisory lock lets one node at a time, and the runs table tells them when one is due.
 * Each class of data is removed by the module that owns its tables, in batches of its own
 * transactions: a run that dies midway has removed some data, never half of a row's story.
 */
export class RetentionJob {
  private readonly node = `${hostname()}:${process.pid}`;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> = Promise.resolve();
  private closing = false;

  constructor(private readonly deps: RetentionJobDeps) {}

  /** Checks now and then whether a run is due, until stop(). */
  start(): void {
    this.closing = false;
    this.schedule(FIRST_CHECK_MS * (0.5 + Math.random()));
  }

  async stop(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    await this.current.catch(() => undefined);
  }

  /** Runs when a run is due and no other node is running one. */
  runIfDue(): Promise<RunResult> {
    return this.track(this.exclusive(true));
  }

  /** Runs now unless another node is running one (tests, and operators who do not want to wait). */
  run(): Promise<RunResult> {
    return this.track(this.exclusive(false));
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.current = work.catch(() => undefined);
    return work;
  }

  private schedule(ms: number): void {
    if (this.closing) return;
    this.timer = setTimeout(() => {
      void this.runIfDue()
        .catch((err: unknown) => this.deps.log.error({ err, category: 'retention' }, 'retention run failed; trying again later'))
        .finally(() => this.schedule(Math.min(CHECK_EVERY_MS, this.deps.config.RETENTION_INTERVAL_HOURS * 3_600_000)));
    }, ms);
    this.timer.unref();
  }

  private transaction<T>(client: Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
    return inLockedTransaction(client, work, () => this.closing);
  }

  private async exclusive(onlyIfDue: boolean): Promise<RunResult> {
    const client = await this.deps.db.connect();
    let broken: Error | undefined;
    try {
      const locked = (await client.query<{ locked: boolean }>(RETENTION_JOB_SQL.tryLock, [RETENTION_LOCK])).rows[0]?.locked === true;
      if (!locked) return { ran: false, reason: 'busy' };
      try {
        if (onlyIfDue) {
          const last = (await client.query<{ at: Date | null }>(RETENTION_JOB_SQL.lastFinished)).rows[0]?.at ?? null;
          if (!runIsDue(last, this.deps.clock.now(), this.deps.config)) return { ran: false, reason: 'not_due' };
        }
        return await this.apply(client);
      } finally {
        await client.query(RETENTION_JOB_SQL.unlock, [RETENTION_LOCK]).catch((err: Error) => {
          broken = err;
        });
      }
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      // A client that failed is thrown away rather than reused: closing its connection releases the lock for certain.
      client.release(broken);
    }
  }

  private async apply(client: Tx): Promise<RunResult> {
    const { clock, config, log } = this.deps;
    const started = Date.now();
    const now = clock.now();
    const bounds = retentionBounds(now, config);
    const runId = (await client.query<{ id: string }>(RETENTION_JOB_SQL.start, [this.node, now])).rows[0]?.id as string;
    const counts = zero();
    const byOrganisation = new Map<string, { incidentsBlanked: number; incidentsDeleted: number }>();
    const forOrganisation = (id: string) => {
      const entry = byOrganisation.get(id) ?? { incidentsBlanked: 0, incidentsDeleted: 0 };
      byOrganisation.set(id, entry);
      return entry;
    };

    await this.transaction(client, async (tx) => {
      counts.sessions = await deleteEndedSessions(tx, bounds.sessions);
      counts.loginFailures = await deleteLoginFailures(tx, bounds.loginFailures);
    });
    await this.transaction(client, async (tx) => {
      const old = await deleteOldDeliveries(tx, bounds.deliveries);
      counts.deliveries += old.deliveries;
      counts.escalationSteps += old.escalationSteps;
      counts.deliveryAttempts = await deleteDeliveryAttempts(tx, bounds.deliveries);
    });
    await this.blankTexts(client, bounds, now, counts, forOrganisation);
    await this.deleteIncidents(client, now, counts, forOrganisation);
    await this.pseudonymise(client, bounds, now, counts);
    await this.transaction(client, async (tx) => {
      counts.auditEntries = await deleteAuditEntriesBefore(tx, bounds.auditLog);
      for (const [organisationId, removed] of byOrganisation) {
        await recordSystemAudit(tx, {
          organisationId, action: 'retention.applied', entityType: 'organisation', entityId: organisationId, after: { runId, ...removed },
        });
      }
      if (Object.values(counts).some((n) => n > 0)) {
        await recordSystemAudit(tx, {
          organisationId: null, action: 'retention.applied', entityType: 'retention_run', entityId: runId,
          after: { counts, bounds },
        });
      }
      await tx.query(RETENTION_JOB_SQL.finish, [runId, clock.now(), JSON.stringify(counts)]);
    });
    log.info({ category: 'retention', runId, counts, ms: Date.now() - started }, 'retention run finished');
    return { ran: true, runId, counts };
  }

  /** Location texts and free-text answers of incidents that ended a period ago; their deliveries carry copies. */
  private async blankTexts(
    client: Tx, bounds: Bounds, now: Date, counts: RetentionCounts,
    forOrganisation: (id: string) => { incidentsBlanked: number },
  ): Promise<void> {
    for (;;) {
      const due = await incidentsDueForBlanking(client, bounds.freeText, BATCH);
      if (due.length === 0) return;
      await this.transaction(client, async (tx) => {
        const ids = due.map((i) => i.id);
        const copies = await forgetIncidentDeliveries(tx, ids);
        counts.deliveries += copies.deliveries;
        counts.escalationSteps += copies.escalationSteps;
        const blanked = await blankIncidentTexts(tx, ids, bounds.freeText, now);
        counts.incidentsBlanked += blanked.incidents.length;
        counts.textRowsBlanked += blanked.rows;
        for (const incident of blanked.incidents) forOrganisation(incident.organisationId).incidentsBlanked += 1;
      });
      if (due.length < BATCH) return;
    }
  }

  /** Incidents of organisations that do not keep them, a number of years after they ended. */
  private async deleteIncidents(
    client: Tx, now: Date, counts: RetentionCounts, forOrganisation: (id: string) => { incidentsDeleted: number },
  ): Promise<void> {
    for (const { organisationId, retention } of await incidentRetentionOfAll(client)) {
      const bound = incidentBound(now, retention, this.deps.config);
      if (bound === null) continue;
      for (;;) {
        const ids = await incidentsDueForDeletion(client, organisationId, bound, BATCH);
        if (ids.length === 0) break;
        await this.transaction(client, async (tx) => {
          const copies = await forgetIncidentDeliveries(tx, ids);
          // What other modules keep about these incidents goes first: their crossings of links, their review records.
          await forgetCrossingsOf(tx, ids);
          await deleteReviewRecords(tx, ids, bound);
          counts.deliveries += copies.deliveries;
          counts.escalationSteps += copies.escalationSteps;
          const deleted = await deleteIncidents(tx, ids, bound);
          counts.incidentsDeleted += deleted.incidents;
          counts.timelineEventsDeleted += deleted.events;
          forOrganisation(organisationId).incidentsDeleted += deleted.incidents;
        });
        if (ids.length < BATCH) break;
      }
    }
  }

  /** People deactivated a period ago; and the kept names of pseudonymised people no incident refers to any more. */
  private async pseudonymise(client: Tx, bounds: Bounds, now: Date, counts: RetentionCounts): Promise<void> {
    for (;;) {
      const due = await dueForPseudonymisation(client, bounds.pseudonymise, BATCH);
      let done = 0;
      for (const personId of due) {
        const outcome = await this.transaction(client, async (tx) => {
          await lockPersonRow(tx, personId);
          if (!(await stillDueForPseudonymisation(tx, personId, bounds.pseudonymise))) return 'gone';
          if (await inActiveIncident(tx, personId)) return 'deferred';
          const profile = await profileOf(tx, personId);
          if (!profile) return 'gone';
          const result = await pseudonymisePerson(tx, profile, now);
          await recordSystemAudit(tx, {
            organisationId: profile.organisationId, action: 'person.pseudonymised', entityType: 'person', entityId: personId,
            after: { reason: 'deactivated', deactivatedAt: profile.deactivatedAt, ...result },
          });
          return 'pseudonymised';
        });
        if (outcome === 'pseudonymised') done += 1;
        if (outcome === 'deferred') counts.peopleDeferred += 1;
      }
      counts.peoplePseudonymised += done;
      // Deferred people come back in every batch: stop once a batch made no progress.
      if (due.length < BATCH || done === 0) break;
    }
    const kept = await pseudonymisedWithName(client);
    const stillNamed = await peopleNamedInIncidents(client, kept);
    const unnamed = kept.filter((id) => !stillNamed.has(id));
    counts.namesReplaced = await this.transaction(client, (tx) => replaceKeptNames(tx, unnamed));
  }
}
