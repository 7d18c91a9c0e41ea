import type { Server } from 'socket.io';
import type { Db } from '../../db/pool.js';
import type { Log } from '../../lib/log.js';
import type { Audience, IncidentEvent } from '../alarms/events.js';
import type { IncidentAudienceRows } from '../alarms/raise.js';
import { rollCall } from '../alarms/rollcall.js';
import { resync } from './catch-up.js';

export const PUBLISHER_SQL = {
  audience: `
    SELECT r.person_id, r.lead,
           EXISTS (SELECT 1 FROM incident_presses p WHERE p.incident_id = r.incident_id AND p.person_id = r.person_id) AS presser
      FROM incident_recipients r WHERE r.incident_id = $1`,
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

/**
 * A delivery for the other nodes: an event with its audience, which each node resolves to its own
 * devices (a list of thousands of rooms would cross Redis with every alarm), or a small message to
 * named people (roll-call summaries to the leads).
 */
export type RemoteDelivery =
  | { kind: 'event'; envelope: EventEnvelope; audience: Audience; people?: string[] }
  | { kind: 'people'; people: string[]; name: 'rollcall' | 'catch_up'; payload: unknown };

/** Shown live as roll-call summaries rather than one by one; they stay in the timeline and catch-up. */
const SUMMARISED_TYPES = new Set(['delivered', 'acknowledged']);
const ROLLCALL_TYPES = new Set(['delivered', 'acknowledged', 'responded', 'joined', 'reraised', 'recipients_computed']);
/** Presses that may add the presser to the recipients: the cached audience is read again. */
const AUDIENCE_CHANGES = new Set(['joined', 'reraised']);
const ROLLCALL_THROTTLE_MS = 250;
const AUDIENCE_TTL_MS = 60_000;
/** Up to this many people travel with an event to the other nodes (a school); beyond, each node reads them itself. */
const PEOPLE_SENT_ALONG = 1000;

interface IncidentAudience {
  all: string[];
  leads: string[];
  /** Who gets the live roll-call summaries (counts): the leads, and whoever pressed, who wants to see the alarm arrive. */
  summaries: string[];
  loadedAt: number;
}

const rooms = (people: string[]) => people.map((p) => `person:${p}`);

const toAudience = (rows: IncidentAudienceRows['rows']): IncidentAudience => ({
  all: rows.map((r) => r.person_id),
  leads: rows.filter((r) => r.lead).map((r) => r.person_id),
  summaries: rows.filter((r) => r.lead || r.presser).map((r) => r.person_id),
  loadedAt: Date.now(),
});

/**
 * Sends committed events to the devices of the people they concern, through each person's room:
 * this node's devices at once, the other nodes' through the adapter, each node resolving the
 * audience itself. Never throws: a device that misses a live event gets it on catch-up.
 */
export class Publisher {
  private readonly rollCallsDue = new Map<string, NodeJS.Timeout>();
  /** Recipients are frozen when an incident is raised (only joining pressers are added), so each node caches them. */
  private readonly audiences = new Map<string, IncidentAudience>();

  /** `clustered`: other nodes exist behind the Redis adapter and get each delivery too. */
  constructor(
    private readonly io: Server,
    private readonly db: Db,
    private readonly log: Log,
    private readonly clustered: boolean,
    private readonly counted: (type: string) => void = () => undefined,
  ) {}

  static envelope(e: IncidentEvent): EventEnvelope {
    return {
      id: e.id, incidentId: e.incidentId, siteId: e.siteId, type: e.type,
      actorPersonId: e.actorPersonId, at: new Date(e.at).toISOString(), data: e.data,
    };
  }

  async publish(events: IncidentEvent[], known?: IncidentAudienceRows): Promise<void> {
    try {
      if (known) this.audiences.set(known.incidentId, toAudience(known.rows));
      for (const event of events) {
        // Review events (delivery attempts) are for the timeline, never for devices.
        if (event.audience === 'review') continue;
        this.counted(event.type);
        const audience = await this.audienceOf(event.incidentId, AUDIENCE_CHANGES.has(event.type));
        if (ROLLCALL_TYPES.has(event.type)) this.scheduleRollCall(event.incidentId, audience.summaries);
        if (SUMMARISED_TYPES.has(event.type)) continue;
        const envelope = Publisher.envelope(event);
        const people = this.people(audience, event.audience, event.actorPersonId);
        this.io.local.to(rooms(people)).emit('event', envelope);
        if (this.clustered) {
          this.remote({ kind: 'event', envelope, audience: event.audience, ...(people.length <= PEOPLE_SENT_ALONG ? { people } : {}) });
        }
      }
    } catch (err) {
      this.log.warn({ err, events: events.length }, 'publishing failed; devices will catch up');
    }
  }

  /** A delivery published by another node: to this node's devices only. */
  async receive(delivery: RemoteDelivery): Promise<void> {
    try {
      if (delivery.kind === 'people') {
        this.io.local.to(rooms(delivery.people)).emit(delivery.name, delivery.payload);
        return;
      }
      const { envelope } = delivery;
      const people = delivery.people
        ?? this.people(await this.audienceOf(envelope.incidentId, AUDIENCE_CHANGES.has(envelope.type)), delivery.audience, envelope.actorPersonId);
      this.io.local.to(rooms(people)).emit('event', envelope);
    } catch (err) {
      this.log.warn({ err }, 'remote delivery failed; devices will catch up');
    }
  }

  private people(audience: IncidentAudience, who: Audience, actor: string | null): string[] {
    if (who === 'all') return audience.all;
    return actor && !audience.leads.includes(actor) ? [...audience.leads, actor] : audience.leads;
  }

  private async audienceOf(incidentId: string, reload: boolean): Promise<IncidentAudience> {
    const cached = this.audiences.get(incidentId);
    if (cached && !reload && Date.now() - cached.loadedAt < AUDIENCE_TTL_MS) return cached;
    const rows = (await this.db.query<IncidentAudienceRows['rows'][number]>(PUBLISHER_SQL.audience, [incidentId])).rows;
    const audience = toAudience(rows);
    this.audiences.set(incidentId, audience);
    for (const [id, entry] of this.audiences) {
      if (Date.now() - entry.loadedAt >= AUDIENCE_TTL_MS) this.audiences.delete(id);
    }
    return audience;
  }

  private remote(delivery: RemoteDelivery): void {
    this.io.serverSideEmit(REMOTE_DELIVERY, delivery);
  }

  /** A person's devices, on every node, get the current state (a `catch_up` resync). */
  async resync(personId: string): Promise<void> {
    try {
      this.toPeople([personId], 'catch_up', await resync(this.db, personId, 'joined_incident'));
    } catch (err) {
      this.log.warn({ err, personId }, 'resync not sent; the device will sync');
    }
  }

  private toPeople(people: string[], name: 'rollcall' | 'catch_up', payload: unknown): void {
    this.io.local.to(rooms(people)).emit(name, payload);
    if (this.clustered) this.remote({ kind: 'people', people, name, payload });
  }

  private scheduleRollCall(incidentId: string, people: string[]): void {
    if (this.rollCallsDue.has(incidentId) || people.length === 0) return;
    this.rollCallsDue.set(incidentId, setTimeout(() => {
      this.rollCallsDue.delete(incidentId);
      rollCall(this.db, incidentId).then(
        ({ summary }) => this.toPeople(people, 'rollcall', { incidentId, summary, at: new Date().toISOString() }),
        (err: unknown) => this.log.warn({ err, incidentId }, 'roll-call summary not sent'),
      );
    }, ROLLCALL_THROTTLE_MS));
  }

  close(): void {
    for (const timer of this.rollCallsDue.values()) clearTimeout(timer);
    this.rollCallsDue.clear();
  }
}
