import { Type, type Static } from 'typebox';
import { Nullable, StringEnum, Timestamp, Uuid } from '../lib/schemas.js';
import {
  DeviceId, EventEnvelope, IncidentView, InstructionView, RaiseOutcome, RaiseRequest, ReceiptKind, RollCallSummary, IncidentSummary,
  ResponseStatus,
} from './alarms.js';
import type { WireError } from '../lib/errors.js';

/**
 * The socket protocol (docs/realtime.md): the handshake, every client event's payload and answer,
 * and every server event. Checked on the server with the same validator as HTTP bodies.
 */

export const Cursor = Type.String({ pattern: '^[0-9]{1,18}$', description: 'A timeline event id (decimal string)' });
/**
 * The timeline's epoch (ADR 029): cursors are comparable only within one. A device keeps the epoch of
 * every catch-up answer with its cursor and sends both; a cursor without its epoch, or from another
 * (a database restored from a backup), gets a resync.
 */
export const Epoch = Uuid;

export const Handshake = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  deviceId: DeviceId,
  cursor: Type.Optional(Nullable(Cursor)),
  epoch: Type.Optional(Nullable(Epoch)),
});

export const SyncRequest = Type.Object({ cursor: Nullable(Cursor), epoch: Type.Optional(Nullable(Epoch)) }, { additionalProperties: false });

export const SocketReceiptRequest = Type.Object({ incidentId: Uuid, kind: ReceiptKind }, { additionalProperties: false });

/** The raise over the socket takes exactly what POST /alarms takes. */
export const SocketRaiseRequest = RaiseRequest;

export const RESYNC_REASONS = ['no_cursor', 'other_epoch', 'unknown_cursor', 'too_far_behind', 'joined_incident'] as const;
export type ResyncReason = (typeof RESYNC_REASONS)[number];

export const ActiveIncidentState = Type.Object({
  incident: IncidentView,
  instruction: InstructionView,
  messages: Type.Array(Type.Object({ id: Uuid, authorId: Uuid, authorName: Type.String(), body: Type.String(), at: Timestamp })),
  myStatus: Nullable(ResponseStatus),
});
export type ActiveIncidentState = Static<typeof ActiveIncidentState>;

/** `catch_up` (on connect, and pushed on joining an incident) and the `sync` answer. */
export const CatchUpPayload = Type.Union([
  Type.Object({ kind: Type.Literal('events'), epoch: Epoch, cursor: Cursor, events: Type.Array(EventEnvelope) }),
  Type.Object({
    kind: Type.Literal('resync'), epoch: Epoch, cursor: Cursor, reason: StringEnum(RESYNC_REASONS), incidents: Type.Array(ActiveIncidentState),
  }),
]);
export type CatchUpPayload = Static<typeof CatchUpPayload>;

/** `rollcall`: counts for the leads and whoever pressed, at most four times a second per incident. */
export const RollCallPayload = Type.Object({ incidentId: Uuid, summary: RollCallSummary, at: Timestamp });
export type RollCallPayload = Static<typeof RollCallPayload>;

/**
 * `site_instruction`: a site's instruction now, for the people who work there whom the alarm itself did
 * not target (ADR 027); also on connect, one per site the person works at. Not an alarm: never the
 * alarm sound; `silent` is true unless the instruction in force is loud by type.
 */
export const SiteInstructionPayload = Type.Object({
  siteId: Uuid,
  siteName: Type.String(),
  instruction: InstructionView,
  message: Nullable(Type.Object({ body: Type.String(), authorName: Type.String(), at: Timestamp })),
  silent: Type.Boolean(),
  drill: Type.Boolean(),
  at: Timestamp,
});
export type SiteInstructionPayload = Static<typeof SiteInstructionPayload>;

/** `org_incident`: an incident of the organisation raised or ended, for its organisation admins (their live list). */
export const OrgIncidentPayload = Type.Object({ incident: IncidentSummary, at: Timestamp });
export type OrgIncidentPayload = Static<typeof OrgIncidentPayload>;

export const SocketRaiseAnswer = Type.Object({ outcome: RaiseOutcome, incident: IncidentSummary, instruction: InstructionView });
export type SocketRaiseAnswer = Static<typeof SocketRaiseAnswer>;

/** Every client event is answered through its acknowledgement: the result, or the same error body HTTP gives. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };

/**
 * `event` as it is sent live: the timeline event and, on an alarm to hundreds or more, when the devices
 * should send their `delivered` receipts (docs/realtime.md, "Confirm receipt").
 */
export type LiveEvent = EventEnvelope & {
  /** Wait this many milliseconds before the spread below; absent: no wait. */
  receiptAfterMs?: number;
  /** Confirm `delivered` at a random moment within this many milliseconds (after the wait) rather than at once; absent: at once. */
  receiptWithinMs?: number;
};

/** Events the server emits to devices. */
export interface ServerToClientEvents {
  event: (event: LiveEvent) => void;
  catch_up: (payload: CatchUpPayload) => void;
  rollcall: (payload: RollCallPayload) => void;
  site_instruction: (payload: SiteInstructionPayload) => void;
  org_incident: (payload: OrgIncidentPayload) => void;
  /** "You may have missed something": answer with `sync`. */
  sync_hint: () => void;
}

/** Events devices send; each takes an acknowledgement callback. */
export interface ClientToServerEvents {
  sync: (payload: Static<typeof SyncRequest>, ack: (answer: Ack<CatchUpPayload>) => void) => void;
  receipt: (payload: Static<typeof SocketReceiptRequest>, ack: (answer: Ack<null>) => void) => void;
  raise: (payload: RaiseRequest, ack: (answer: Ack<SocketRaiseAnswer>) => void) => void;
}
