import type { Db } from '../../db/pool.js';
import type { EventEnvelope } from '../../contract/alarms.js';
import type { LiveEvent } from '../../contract/realtime.js';
import type { Log } from '../../lib/log.js';
import type { InterNode, IoServer } from '../../plugins/socket-io.js';
import { envelope, type Audience } from '../alarms/events.js';
import type { CommittedChange } from '../alarms/pipeline.js';
import { presentCatchUp } from '../alarms/presenters.js';
import { recipientsOf, type RecipientRow } from '../alarms/recipients.js';
import type { AlarmCore } from '../alarms/plugin.js';
import { personRoom } from './protocol.js';

/**
 * A delivery for the other nodes: an event with its audience, which each node resolves to its own
 * devices (a list of thousands of rooms would cross Redis with every alarm), or a small message to
 * named people (roll-call summaries to the leads, a resync to someone who joined an incident). A new
 * incident's recipients go ahead of its events, once, so that no node reads them before its first
 * emission.
 */
export type RemoteDelivery =
  | { kind: 'audience'; incidentId: string; all: string[]; leads: string[]; summaries: string[] }
  | { kind: 'event'; envelope: EventEnvelope; audience: Audience; people?: string[] }
  | { kind: 'people'; people: string[]; name: PeopleEvent; payload: unknown };

/** What the publisher counts for /metrics. */
export interface PublisherCounts {
  published(type: string): void;
  /** An incident's recipients read from PostgreSQL to deliver an event (a miss of the node's cache). */
  audienceRead(): void;
}

/** Server events sent to named people rather than to an event's audience. */
export type PeopleEvent = 'rollcall' | 'catch_up' | 'site_instruction' | 'org_incident';

/** Shown live as roll-call summaries rather than one by one; they stay in the timeline and catch-up. */
const SUMMARISED_TYPES = new Set(['delivered', 'acknowledged']);
/** Presses that may add the presser to the recipients: the cached audience is read again. */
const AUDIENCE_CHANGES = new Set(['joined', 'reraised']);
const AUDIENCE_TTL_MS = 60_000;
/** Up to this many people travel with an event to the other nodes (a school); beyond, each node reads them itself. */
const PEOPLE_SENT_ALONG = 1000;
/** Events whose devices confirm receipt (docs/realtime.md): the alarm asks them when. */
const RECEIPT_ASKED = new Set(['raised', 'reraised']);
/**
 * The receipts of an alarm wait until it should have reached every device (about this many a second, at most
 * WAIT_MAX_MS), then arrive at about RECEIPTS_PER_SECOND, at most over SPREAD_MAX_MS. At most three seconds in
 * all, far inside the first repush (five seconds at the least); a school of 300 waits 30 ms, then 120.
 */
const DEVICES_PER_SECOND = 10_000;
const WAIT_MAX_MS = 1000;
const RECEIPTS_PER_SECOND = 2500;
const SPREAD_MAX_MS = 2000;

/**
 * The event as sent to `people`: an alarm asks their devices to hold their receipts until it should have reached
 * them all, then to spread them (ADR 037, ADR 039). Receipts that arrive while the alarm is still being written to
 * the last devices delay it there: each is read, checked and written on the same cores. Held and spread, the roll
 * call fills in within three seconds.
 */
export function liveEvent(sent: EventEnvelope, people: number): LiveEvent {
  if (!RECEIPT_ASKED.has(sent.type)) return sent;
  return {
    ...sent,
    receiptAfterMs: Math.min(WAIT_MAX_MS, Math.round((people * 1000) / DEVICES_PER_SECOND)),
    receiptWithinMs: Math.min(SPREAD_MAX_MS, Math.round((people * 1000) / RECEIPTS_PER_SECOND)),
  };
}

export interface IncidentAudience {
  all: string[];
  /** The incident's leads: who gets events for the leads. */
  leads: string[];
  /** Who gets the live roll-call summaries (counts): the leads, and whoever pressed, who wants to see the alarm arrive. */
  summaries: string[];
  loadedAt: number;
}

const rooms = (people: string[]) => people.map(personRoom);

const toAudience = (rows: RecipientRow[]): IncidentAudience => ({
  all: rows.map((r) => r.personId),
  leads: rows.filter((r) => r.lead).map((r) => r.personId),
  summaries: rows.filter((r) => r.lead || r.presser).map((r) => r.personId),
  loadedAt: Date.now(),
});

/**
 * The pipeline's `publish-to-devices` processor: sends committed events to the devices of the people
 * they concern, through each person's room: the other nodes' share appended to the inter-node stream
 * first (each node resolving the audience itself), then this node's devices. An event for the leads
 * also goes to its actor, who sees what they did (docs/realtime.md). Never throws: a device that
 * misses a live event gets it on catch-up.
 */
export class Publisher {
  /** Recipients are frozen when an incident is raised (only joining pressers are added), so each node caches them. */
  private readonly audiences = new Map<string, IncidentAudience>();

  constructor(
    private readonly io: IoServer,
    private readonly nodes: InterNode | null,
    private readonly db: Db,
    private readonly alarms: AlarmCore,
    private readonly log: Log,
    private readonly counts: PublisherCounts,
  ) {}

  async publish(change: CommittedChange): Promise<void> {
    for (const opened of change.newIncidents ?? []) {
      const audience = toAudience(opened.recipients);
      this.audiences.set(opened.incident.id, audience);
      this.nodes?.send({
        kind: 'audience', incidentId: opened.incident.id, all: audience.all, leads: audience.leads, summaries: audience.summaries,
      } satisfies RemoteDelivery);
    }
    for (const event of change.events) {
      // Review events (delivery attempts) are for the timeline, never for devices.
      if (event.audience === 'review' || SUMMARISED_TYPES.has(event.type)) continue;
      this.counts.published(event.type);
      const audience = await this.audienceOf(event.incidentId, AUDIENCE_CHANGES.has(event.type));
      const people = this.people(audience, event.audience, event.actorPersonId);
      const sent = envelope(event);
      // The other nodes' share first: the append is one write, and they start on their devices while this node
      // writes its own (for an alarm to 5,000, 150 ms sooner at the last device: docs/PERFORMANCE.md).
      this.nodes?.send({ kind: 'event', envelope: sent, audience: event.audience, ...(people.length <= PEOPLE_SENT_ALONG ? { people } : {}) } satisfies RemoteDelivery);
      this.emitLocal(people, 'event', liveEvent(sent, people.length));
    }
    // Joining by pressing makes someone part of an incident whose earlier events lie before their cursor.
    for (const personId of change.joinedRecipients ?? []) await this.resync(personId);
  }

  /** A delivery published by another node: to this node's devices only. */
  async receive(delivery: RemoteDelivery): Promise<void> {
    try {
      if (delivery.kind === 'audience') {
        const { incidentId, all, leads, summaries } = delivery;
        this.audiences.set(incidentId, { all, leads, summaries, loadedAt: Date.now() });
        return;
      }
      if (delivery.kind === 'people') {
        this.emitLocal(delivery.people, delivery.name, delivery.payload);
        return;
      }
      const { envelope: sent } = delivery;
      const people = delivery.people
        ?? this.people(await this.audienceOf(sent.incidentId, AUDIENCE_CHANGES.has(sent.type)), delivery.audience, sent.actorPersonId);
      this.emitLocal(people, 'event', liveEvent(sent, people.length));
    } catch (err) {
      this.log.warn({ err }, 'remote delivery failed; devices will catch up');
    }
  }

  /** The incident's audience, from this node's cache or read afresh. */
  async audienceOf(incidentId: string, reload = false): Promise<IncidentAudience> {
    const cached = this.audiences.get(incidentId);
    if (cached && !reload && Date.now() - cached.loadedAt < AUDIENCE_TTL_MS) return cached;
    this.counts.audienceRead();
    const audience = toAudience(await recipientsOf(this.db, incidentId));
    this.audiences.set(incidentId, audience);
    for (const [id, entry] of this.audiences) {
      if (Date.now() - entry.loadedAt >= AUDIENCE_TTL_MS) this.audiences.delete(id);
    }
    return audience;
  }

  /** Named people's devices, on every node. */
  toPeople(people: string[], name: PeopleEvent, payload: unknown): void {
    if (people.length === 0) return;
    this.nodes?.send({ kind: 'people', people, name, payload } satisfies RemoteDelivery);
    this.emitLocal(people, name, payload);
  }

  private people(audience: IncidentAudience, who: Audience, actor: string | null): string[] {
    if (who === 'all') return audience.all;
    return actor && !audience.leads.includes(actor) ? [...audience.leads, actor] : audience.leads;
  }

  /** A person's devices, on every node, get the current state (a `catch_up` resync). */
  private async resync(personId: string): Promise<void> {
    try {
      this.toPeople([personId], 'catch_up', presentCatchUp(await this.alarms.joinedIncident(personId)));
    } catch (err) {
      this.log.warn({ err, personId }, 'resync not sent; the device will sync');
    }
  }

  /** Socket.IO's `to([])` is every socket of the node: an empty audience must send nothing at all (invariant 7). */
  private emitLocal(people: string[], name: PeopleEvent | 'event', payload: unknown): void {
    if (people.length) this.io.local.to(rooms(people)).emit(name, payload as never);
  }
}
