import type { Db } from '../../db/pool.js';
import type { RollCallPayload } from '../../contract/realtime.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/log.js';
import type { CommittedChange } from '../alarms/pipeline.js';
import { linkedSourceOf } from '../alarms/linked.js';
import { rollCallSummary } from '../alarms/rollcall.js';
import type { Publisher } from './publisher.js';

/** Events that change the roll call's counts (`linked`: what became of the alarm at a linked organisation). */
const ROLLCALL_TYPES = new Set(['delivered', 'acknowledged', 'responded', 'joined', 'reraised', 'recipients_computed', 'linked']);
const THROTTLE_MS = 250;

/**
 * The pipeline's `roll-call-summaries` processor: while receipts and answers arrive, the leads and
 * whoever pressed get the counts (targeted, reached, safe…) at most four times a second per incident,
 * instead of one message per receipt. They are counts read without anyone's name: for an alarm to thousands,
 * reading the whole roll call four times a second only to count it was work for nothing.
 */
export class RollCallSummaries {
  private readonly due = new Map<string, NodeJS.Timeout>();

  constructor(private readonly db: Db, private readonly publisher: Publisher, private readonly clock: Clock, private readonly log: Log) {}

  process(change: CommittedChange): void {
    for (const event of change.events) {
      if (ROLLCALL_TYPES.has(event.type) && !this.due.has(event.incidentId)) this.schedule(event.incidentId);
    }
  }

  private schedule(incidentId: string): void {
    this.due.set(incidentId, setTimeout(() => {
      this.due.delete(incidentId);
      void this.send(incidentId);
    }, THROTTLE_MS));
  }

  private async send(incidentId: string): Promise<void> {
    try {
      const [summary, audience, source] = await Promise.all([
        rollCallSummary(this.db, incidentId), this.publisher.audienceOf(incidentId), linkedSourceOf(this.db, incidentId),
      ]);
      // A linked incident's counts are the source's leads' linked counts too (docs/linking.md): they hear of the change.
      if (source && !this.due.has(source)) this.schedule(source);
      if (audience.summaries.length === 0) return;
      const payload: RollCallPayload = { incidentId, summary, at: this.clock.now().toISOString() };
      this.publisher.toPeople(audience.summaries, 'rollcall', payload);
    } catch (err) {
      this.log.warn({ err, incidentId }, 'roll-call summary not sent');
    }
  }

  close(): void {
    for (const timer of this.due.values()) clearTimeout(timer);
    this.due.clear();
  }
}
