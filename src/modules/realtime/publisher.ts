import type { Server } from 'socket.io';
import type { Db } from '../../db/pool.js';
import type { Log } from '../../lib/log.js';
import type { IncidentEvent } from '../alarms/events.js';
import { rollCall } from '../alarms/rollcall.js';

export const PUBLISHER_SQL = {
  audience: 'SELECT person_id, lead FROM incident_recipients WHERE incident_id = $1',
} as const;

/** What a device receives for an event: the timeline row, `id` being its new cursor. */
export interface EventEnvelope {
  id: string;
  incidentId: string;
  siteId: string;
  type: string;
  actorPersonId: string | null;
  at: string;
  data: Record<string, unknown>;
}

/** The server-side event that carries a delivery to the other nodes. */
export const REMOTE_DELIVERY = 'samlarm:deliver';

export interface RemoteDelivery {
  rooms: string[];
  name: 'event' | 'rollcall';
  payload: unknown;
}

const ROLLCALL_TYPES = new Set(['delivered', 'acknowledged', 'responded', 'joined', 'reraised', 'recipients_computed']);
const ROLLCALL_THROTTLE_MS = 250;

/**
 * Sends committed events to the devices of the people they concern, through each person's room
 * (one broadcast, whichever node their devices are on), and a throttled roll-call summary to the
 * incident's leads. Never throws: a device that misses a live event gets it on catch-up.
 */
export class Publisher {
  private readonly rollCallsDue = new Map<string, NodeJS.Timeout>();

  /** `clustered`: other nodes exist behind the Redis adapter and get each delivery too. */
  constructor(private readonly io: Server, private readonly db: Db, private readonly log: Log, private readonly clustered: boolean) {}

  static envelope(e: IncidentEvent): EventEnvelope {
    return {
      id: e.id, incidentId: e.incidentId, siteId: e.siteId, type: e.type,
      actorPersonId: e.actorPersonId, at: new Date(e.at).toISOString(), data: e.data,
    };
  }

  async publish(events: IncidentEvent[]): Promise<void> {
    try {
      const audiences = new Map<string, { person_id: string; lead: boolean }[]>();
      for (const event of events) {
        let audience = audiences.get(event.incidentId);
        if (!audience) {
          audience = (await this.db.query<{ person_id: string; lead: boolean }>(PUBLISHER_SQL.audience, [event.incidentId])).rows;
          audiences.set(event.incidentId, audience);
        }
        const people = event.audience === 'all'
          ? audience.map((r) => r.person_id)
          : [...new Set([...audience.filter((r) => r.lead).map((r) => r.person_id), ...(event.actorPersonId ? [event.actorPersonId] : [])])];
        if (people.length) this.deliver(people, 'event', Publisher.envelope(event));
        if (ROLLCALL_TYPES.has(event.type)) this.scheduleRollCall(event.incidentId, audience.filter((r) => r.lead).map((r) => r.person_id));
      }
    } catch (err) {
      this.log.warn({ err, events: events.length }, 'publishing failed; devices will catch up');
    }
  }

  /**
   * This node's devices first, at once; then the other nodes through the adapter's stream. A plain
   * cluster broadcast would deliver locally only after Redis took the message, so a Redis outage
   * would silence even the node where the alarm was raised.
   */
  private deliver(people: string[], name: RemoteDelivery['name'], payload: unknown): void {
    const rooms = people.map((p) => `person:${p}`);
    this.io.local.to(rooms).emit(name, payload);
    if (this.clustered) this.io.serverSideEmit(REMOTE_DELIVERY, { rooms, name, payload } satisfies RemoteDelivery);
  }

  private scheduleRollCall(incidentId: string, leads: string[]): void {
    if (this.rollCallsDue.has(incidentId) || leads.length === 0) return;
    this.rollCallsDue.set(incidentId, setTimeout(() => {
      this.rollCallsDue.delete(incidentId);
      rollCall(this.db, incidentId).then(
        ({ summary }) => this.deliver(leads, 'rollcall', { incidentId, summary, at: new Date().toISOString() }),
        (err: unknown) => this.log.warn({ err, incidentId }, 'roll-call summary not sent'),
      );
    }, ROLLCALL_THROTTLE_MS));
  }

  close(): void {
    for (const timer of this.rollCallsDue.values()) clearTimeout(timer);
    this.rollCallsDue.clear();
  }
}
