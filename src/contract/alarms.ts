import { Type, type Static } from 'typebox';
import { Nullable, StringEnum, Timestamp, Uuid } from '../lib/schemas.js';

/**
 * The alarm contract: every request and answer of the alarm path, over HTTP and over the socket,
 * defined once. Routes and the socket protocol validate with these schemas; the web app imports
 * their types (type-only), so a change here is a change everywhere or a type error.
 */

/** Free text a person types: at least one visible character. */
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });
/** Optional free text: absent, null, or a string (which may be empty). */
const OptionalText = (maxLength: number) => Type.Optional(Nullable(Type.String({ maxLength })));

export const Bilingual = Type.Object({ sv: Type.String(), en: Type.String() });

export const RAISE_OUTCOMES = ['raised', 'joined', 'reraised', 'replayed'] as const;
/**
 * raised: a new incident; joined: a press added to an active one; reraised: the same after the join
 * window (everyone is alerted again); replayed: a retry of a press already recorded (nothing new written).
 */
export const RaiseOutcome = StringEnum(RAISE_OUTCOMES, {
  description: 'raised (new incident), joined (added to an active one), reraised (added after the join window: everyone alerted again), replayed (a retry of a press already recorded)',
});

export const RaiseRequest = Type.Object({
  pressId: Type.String({ format: 'uuid', description: "The device's own id for this press: retries send the same id and never make a second alarm" }),
  siteId: Uuid,
  alarmTypeId: Uuid,
  location: OptionalText(200),
  message: OptionalText(1000),
  drill: Type.Optional(Type.Boolean()),
  confirmContradiction: Type.Optional(Type.Boolean({ description: 'Raise even though it contradicts the current instruction' })),
}, { additionalProperties: false });
export type RaiseRequest = Static<typeof RaiseRequest>;

export const Sound = StringEnum(['loud', 'silent'] as const);
export const IncidentState = StringEnum(['active', 'resolved', 'cancelled'] as const);

export const TypeSnapshotView = Type.Object({
  id: Uuid, key: Type.String(), label: Bilingual, instruction: Bilingual, colour: Type.String(), icon: Type.String(),
  sound: Sound, precedence: Type.Integer(),
  cap: Type.Object({ category: Type.String(), event: Type.String(), responseType: Type.String(), severity: Type.String(), urgency: Type.String() }),
});

const PersonName = Type.Object({ id: Uuid, name: Type.String() });

/**
 * Where a linked incident came from (docs/linking.md): another organisation's alarm that crossed a
 * link, or a link test. Null on every other incident. Shown wherever the incident is, so a linked
 * alarm is unmistakable ("Larm från Vasaskolan, Utbildningsförvaltningen").
 */
export const LinkedFrom = Type.Object({
  linkId: Uuid,
  incidentId: Nullable(Type.String({ format: 'uuid', description: 'The source incident (null for a link test); the receiving side cannot read it' })),
  organisationId: Uuid,
  organisationName: Type.String(),
  siteName: Type.String(),
  pressedBy: Nullable(Type.String({ description: 'The presser\'s name, only when the link shares it' })),
  test: Type.Boolean({ description: 'A link test: a drill sent over the link, with no alarm behind it' }),
});
export type LinkedFrom = Static<typeof LinkedFrom>;

export const IncidentView = Type.Object({
  id: Uuid, organisationId: Uuid, siteId: Uuid, siteName: Type.String(), type: TypeSnapshotView, drill: Type.Boolean(),
  state: IncidentState, location: Nullable(Type.String()), message: Nullable(Type.String()),
  /** Null for a linked incident: a link raised it (linkedFrom says where from). */
  raisedBy: Nullable(PersonName),
  raisedAt: Timestamp, lastPressedAt: Timestamp, endedAt: Nullable(Timestamp), endedBy: Nullable(PersonName),
  endReason: Nullable(Type.String()), linkedFrom: Nullable(LinkedFrom),
  pressers: Type.Array(Type.Object({ personId: Uuid, name: Type.String(), pressedAt: Timestamp })),
  recipients: Type.Integer(),
});
export type IncidentView = Static<typeof IncidentView>;

/** The incident as live events carry it: enough to show the alarm without another request. */
export const IncidentSummary = Type.Object({
  id: Uuid, organisationId: Uuid, siteId: Uuid, siteName: Type.String(), type: TypeSnapshotView, drill: Type.Boolean(),
  state: IncidentState, location: Nullable(Type.String()), message: Nullable(Type.String()), raisedBy: Nullable(PersonName),
  raisedAt: Timestamp, endedAt: Nullable(Timestamp), endedBy: Nullable(PersonName),
  pressers: Type.Integer(), recipients: Type.Integer(), linkedFrom: Nullable(LinkedFrom),
});
export type IncidentSummary = Static<typeof IncidentSummary>;

export const InstructionView = Nullable(Type.Object({
  siteId: Uuid, incidentId: Uuid, typeKey: Type.String(), label: Bilingual, text: Bilingual, colour: Type.String(), icon: Type.String(),
  sound: Sound, responseType: Type.String(), drill: Type.Boolean(), since: Timestamp, activeIncidents: Type.Integer(),
}, { description: 'What staff at the site must do now; null when no alarm is active' }));
export type InstructionView = Static<typeof InstructionView>;

export const RaiseResponse = Type.Object({ outcome: RaiseOutcome, incident: IncidentView, instruction: InstructionView });

/** Every kind of timeline event. Review, statistics and exports are built from these alone. */
export const EVENT_TYPES = [
  'raised', 'joined', 'reraised', 'recipients_computed', 'instruction_changed',
  'delivered', 'acknowledged', 'responded', 'message', 'reply', 'resolved', 'cancelled',
  // Escalation (leads see these) and each push or SMS attempt with its outcome (review only).
  'repushed', 'escalated', 'delivery_attempt',
  // Links (docs/linking.md): on a source incident, what became of it at a linked organisation (leads);
  // on a receiving site's incident, a linked alarm that contradicts it waits for its leads' decision.
  'linked', 'link_held',
] as const;
export const EventType = StringEnum(EVENT_TYPES);
export type EventType = (typeof EVENT_TYPES)[number];

/** What a device receives for a timeline event; `id` is the catch-up cursor. */
export const EventEnvelope = Type.Object({
  id: Type.String({ description: 'The event\'s place in the timeline: the catch-up cursor (a decimal string)' }),
  incidentId: Uuid,
  siteId: Uuid,
  type: EventType,
  drill: Type.Boolean({ description: 'The incident is a drill (övning): show it as one, whatever the event' }),
  actorPersonId: Nullable(Uuid),
  at: Timestamp,
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type EventEnvelope = Static<typeof EventEnvelope>;

export const EventsResponse = Type.Object({ events: Type.Array(EventEnvelope) });

export const TimelineQuery = Type.Object({
  types: Type.Optional(Type.String({
    pattern: `^(${EVENT_TYPES.join('|')})(,(${EVENT_TYPES.join('|')}))*$`,
    description: 'Only these event types, comma-separated (e.g. repushed,escalated)',
  })),
}, { additionalProperties: false });

export const IncidentListQuery = Type.Object({
  state: Type.Optional(StringEnum(['active', 'all'] as const, { description: 'active (default) or all' })),
  // The date-time format allows year 0, which PostgreSQL has not (a failed query, a 500, otherwise).
  before: Type.Optional(Type.String({ format: 'date-time', pattern: '^(?!0000-)' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });

export const RESPONSE_STATUSES = ['safe', 'need_help', 'not_on_site'] as const;
export const ResponseStatus = StringEnum(RESPONSE_STATUSES);
export type ResponseStatus = (typeof RESPONSE_STATUSES)[number];

export const ResponseRequest = Type.Object({
  status: ResponseStatus,
  text: OptionalText(1000),
  location: OptionalText(200),
}, { additionalProperties: false });
export type ResponseRequest = Static<typeof ResponseRequest>;

export const MessageRequest = Type.Object({
  kind: StringEnum(['instruction', 'reply'] as const, { description: 'instruction: from a lead to everyone; reply: to the leads' }),
  body: Text(2000),
}, { additionalProperties: false });
export type MessageRequest = Static<typeof MessageRequest>;

export const ResolveRequest = Type.Optional(Type.Object({ note: OptionalText(1000) }, { additionalProperties: false }));
export const CancelRequest = Type.Object({ reason: Text(1000) }, { additionalProperties: false });

export const RECEIPT_KINDS = ['delivered', 'acknowledged'] as const;
export const ReceiptKind = StringEnum(RECEIPT_KINDS);
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

export const DeviceId = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$', description: 'The installation\'s id, as in the socket handshake' });

export const ReceiptRequest = Type.Object({ kind: ReceiptKind, deviceId: DeviceId }, { additionalProperties: false });

export const RollCallSummary = Type.Object({
  targeted: Type.Integer(), delivered: Type.Integer(), acknowledged: Type.Integer(), safe: Type.Integer(),
  needHelp: Type.Integer(), notOnSite: Type.Integer(), noAnswer: Type.Integer(),
});
export type RollCallSummary = Static<typeof RollCallSummary>;

export const SMS_STATES = ['queued', 'sent', 'delivered', 'failed'] as const;

export const PushProgressView = Type.Object({
  devices: Type.Integer({ description: 'Devices the alarm was pushed to' }),
  acceptedAt: Nullable(Type.String({ format: 'date-time', description: 'When a push service first accepted a push for this person: not a receipt (the phone may be off)' })),
  reminders: Type.Integer({ description: 'Reminder pushes sent by escalation' }),
  sms: Nullable(Type.Object({
    state: StringEnum(SMS_STATES, {
      description: 'The alarm by SMS to someone with no device that can receive push (ADR 025): queued; sent (the gateway took it); delivered (the gateway reported it reached the phone); failed',
    }),
    at: Nullable(Type.String({ format: 'date-time', description: 'When it was sent, delivered or failed' })),
  })),
});
export type PushProgressView = Static<typeof PushProgressView>;

export const LINKED_STATES = ['active', 'ended', 'ended_early', 'held', 'dismissed', 'lapsed', 'not_crossed'] as const;

/** What the source's leads see of one linked site: counts only, never names (docs/linking.md). */
export const LinkedCounts = Type.Object({
  crossingId: Uuid,
  organisationId: Uuid,
  organisationName: Type.String(),
  siteName: Type.String(),
  state: StringEnum(LINKED_STATES, {
    description: 'active / ended: the linked incident; ended_early: its leads ended it before the source; held: waits for its leads (it contradicted their instruction); dismissed: they declined it; lapsed: the source ended first; not_crossed: the site could not take it',
  }),
  counts: Nullable(RollCallSummary),
});
export type LinkedCounts = Static<typeof LinkedCounts>;

export const RollCallView = Type.Object({
  summary: RollCallSummary,
  linked: Type.Array(LinkedCounts, { description: 'Per linked site the alarm crossed to, counts only' }),
  people: Type.Array(Type.Object({
    personId: Uuid, name: Type.String(), phone: Nullable(Type.String({ description: 'For the lead to call' })), lead: Type.Boolean(), deliveredAt: Nullable(Timestamp), acknowledgedAt: Nullable(Timestamp),
    status: Nullable(ResponseStatus), text: Nullable(Type.String()), location: Nullable(Type.String()), respondedAt: Nullable(Timestamp),
    push: PushProgressView,
  })),
});
export type RollCallView = Static<typeof RollCallView>;
