import { Type } from 'typebox';
import { Nullable, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js';
import { LinkedCounts } from '../../contract/alarms.js';

/** TypeBox sources of the review's API shapes (routes.ts uses them for validation, serialisation and OpenAPI). */

const Ms = Nullable(Type.Integer({ description: 'Milliseconds after the first press' }));
const Bilingual = Type.Object({ sv: Type.String(), en: Type.String() });
const PersonRef = Type.Object({ id: Uuid, name: Type.String() });
const Opt = (max: number) => Nullable(Type.String({ maxLength: max }));
// A date-time in a record is only stored and shown; the pattern keeps out year 0 like everywhere else.
const DateTime = Type.String({ format: 'date-time', pattern: '^(?!0000-)' });

export const ReviewRecordSchema = Type.Object({
  summary: Type.String({ maxLength: 20000, description: 'What happened (prefilled from the timeline)' }),
  causes: Type.String({ maxLength: 20000 }),
  actions: Type.Array(Type.Object({
    description: Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' }),
    kind: StringEnum(['taken', 'planned'] as const),
    owner: Opt(200),
    deadline: Nullable(Type.String({ format: 'date', pattern: '^(?!0000-)' })),
    done: Type.Boolean(),
  }, { additionalProperties: false }), { maxItems: 200 }),
  safetyRepresentative: Type.Object({
    informed: Type.Boolean(), name: Opt(200), informedAt: Nullable(DateTime),
  }, { additionalProperties: false, description: 'Whether the skyddsombud was informed: who, when' }),
  policeReportNumber: Opt(100),
  reportable: StringEnum(['yes', 'no', 'undecided'] as const, { description: 'Anmälningspliktigt till Arbetsmiljöverket?' }),
  report: Type.Object({
    eventType: Nullable(StringEnum(['serious_near_miss', 'serious_injury', 'death'] as const, {
      description: 'allvarligt tillbud / olycka med svår personskada / dödsfall',
    })),
    building: Opt(200),
    room: Opt(200),
    affectedStaff: Type.Integer({ minimum: 0, maximum: 100000 }),
    affectedPupils: Type.Integer({ minimum: 0, maximum: 100000 }),
    injuries: Nullable(Type.Boolean()),
    contactName: Opt(200),
    contactPhone: Opt(50),
    contactEmail: Opt(200),
    reportedAt: Nullable(DateTime),
    receiptNumber: Opt(100),
  }, { additionalProperties: false, description: 'What the report to Arbetsmiljöverket needs beyond the incident' }),
}, { additionalProperties: false });

export const RevisionSchema = Type.Object({
  revision: Type.Integer(),
  status: StringEnum(['open', 'closed'] as const),
  record: ReviewRecordSchema,
  author: PersonRef,
  signedOffBy: Nullable(PersonRef),
  at: Timestamp,
});

export const SaveRecordBody = Type.Object({
  baseRevision: Type.Integer({ minimum: 0, maximum: 1000000, description: 'The revision the edit started from (0: none yet); a newer one saved meanwhile is 409 review_stale' }),
  status: StringEnum(['open', 'closed'] as const, { description: 'closed: signed off by the caller; open after closed: reopened' }),
  record: ReviewRecordSchema,
}, { additionalProperties: false });

export const RecordResponse = Type.Object({
  current: Nullable(RevisionSchema),
  draft: ReviewRecordSchema,
  revisions: Type.Array(RevisionSchema, { description: 'Newest first' }),
  mayEdit: Type.Boolean(),
});

// One type list, not a union: the response serialiser writes it without a validator (lib/schemas.ts, Nullable).
const Detail = Type.Unsafe<string | number | boolean | null>({ type: ['string', 'number', 'boolean', 'null'] });
const Curve = Type.Array(Type.Object({ ms: Type.Integer(), share: Type.Number() }));

export const ReviewResponse = Type.Object({
  incident: Type.Object({
    id: Uuid, organisationId: Uuid, organisationName: Type.String(), organisationNumber: Nullable(Type.String()),
    siteId: Uuid, siteName: Type.String(), siteAddress: Nullable(Type.String()), siteMunicipality: Nullable(Type.String()),
    type: Type.Object({ key: Type.String(), label: Bilingual, instruction: Bilingual, colour: Type.String(), icon: Type.String() }),
    drill: Type.Boolean(), state: StringEnum(['active', 'resolved', 'cancelled'] as const),
    location: Nullable(Type.String()), message: Nullable(Type.String()),
    raisedBy: Nullable(PersonRef), raisedAt: Timestamp, endedAt: Nullable(Timestamp), endedBy: Nullable(PersonRef), endReason: Nullable(Type.String()),
    pressers: Type.Array(Type.Object({ personId: Uuid, name: Type.String(), pressedAt: Timestamp, location: Nullable(Type.String()) })),
  }),
  figures: Type.Object({
    t0: Timestamp,
    pressToCommitMs: Type.Null({ description: 'Not recorded by the alarm path' }),
    targeted: Type.Integer(), pressers: Type.Integer(), toReach: Type.Integer(), reached: Type.Integer(), acknowledged: Type.Integer(),
    unreached: Type.Integer(),
    firstDeviceMs: Ms, reached50Ms: Ms, reached90Ms: Ms, allReachedMs: Ms, firstAcknowledgementMs: Ms, firstInstructionMs: Ms,
    allClearMs: Ms, cancelledMs: Ms,
    answers: Type.Object({ safe: Type.Integer(), needHelp: Type.Integer(), notOnSite: Type.Integer(), none: Type.Integer() }),
  }),
  channels: Type.Array(Type.Object({
    channel: StringEnum(['socket', 'push', 'push_service', 'sms'] as const), n: Type.Integer(), p50Ms: Ms, p90Ms: Ms, maxMs: Ms,
  })),
  people: Type.Array(Type.Object({
    personId: Uuid, name: Type.String(), lead: Type.Boolean(), pressed: Type.Boolean(),
    deliveredAt: Nullable(Timestamp), deliveredMs: Ms, deliveredChannel: Nullable(Type.String()),
    seenAt: Nullable(Timestamp), seenMs: Ms, acknowledgedAt: Nullable(Timestamp), acknowledgedMs: Ms,
    answer: Nullable(Type.String()), answerText: Nullable(Type.String()), answeredAt: Nullable(Timestamp), answeredMs: Ms, answers: Type.Integer(),
    pushDevices: Type.Integer(), pushAcceptedMs: Ms, reminders: Type.Integer(), namedToContacts: Type.Boolean(),
    unreachedReason: Nullable(Type.String()),
  })),
  unreached: Type.Array(Type.Object({ personId: Uuid, name: Type.String(), reason: Type.String() })),
  escalation: Type.Array(Type.Object({
    step: Type.String(), round: Type.Integer(), dueMs: Type.Integer(), ranMs: Ms, state: Type.String(),
    unreached: Nullable(Type.Integer()), pushes: Nullable(Type.Integer()),
    contacts: Type.Array(Type.Object({ name: Type.String(), group: Type.String(), sms: Type.Boolean() })),
  })),
  account: Type.Array(Type.Object({
    id: Type.String(), at: Timestamp, offsetMs: Type.Integer(), type: Type.String(), attempt: Type.Boolean(),
    actor: Nullable(Type.String()), details: Type.Record(Type.String(), Detail),
  }), { description: 'The timeline, minute by minute; delivery attempts are marked attempt: true' }),
  instructions: Type.Array(Type.Object({
    at: Timestamp, offsetMs: Type.Integer(), kind: Type.String(), label: Nullable(Bilingual), text: Nullable(Type.String()),
  })),
  reachCurve: Type.Object({
    toReach: Type.Integer(), untilMs: Type.Integer(), reached: Curve, acknowledged: Curve, socket: Curve, push: Curve,
    markers: Type.Array(Type.Object({ ms: Type.Integer(), kind: Type.String() })),
  }),
  rollCall: Type.Array(Type.Object({ ms: Type.Integer(), safe: Type.Integer(), needHelp: Type.Integer(), notOnSite: Type.Integer(), none: Type.Integer() })),
  charts: Type.Object({ reach: Type.String({ description: 'SVG' }), rollCall: Type.String({ description: 'SVG' }) }),
  record: Type.Object({ current: Nullable(RevisionSchema), draft: ReviewRecordSchema, revisions: Type.Integer(), mayEdit: Type.Boolean() }),
  authorityReport: Type.Object({
    title: Type.String(), drill: Type.Boolean(), reportable: Type.String(),
    employer: Type.Object({ name: Type.String(), organisationNumber: Nullable(Type.String()) }),
    workplace: Type.Object({ name: Type.String(), address: Nullable(Type.String()), municipality: Nullable(Type.String()) }),
    contactPerson: Type.Object({ name: Nullable(Type.String()), phone: Nullable(Type.String()), email: Nullable(Type.String()) }),
    eventType: Nullable(Type.String()), occurredAt: Timestamp,
    place: Type.Object({ site: Type.String(), building: Nullable(Type.String()), room: Nullable(Type.String()), location: Nullable(Type.String()) }),
    courseOfEvents: Type.String(),
    affected: Type.Object({ staff: Type.Integer(), pupils: Type.Integer(), injuries: Nullable(Type.Boolean()) }),
    measuresTaken: Type.Array(Type.String()), measuresPlanned: Type.Array(Type.String()),
    safetyRepresentative: Type.Object({ informed: Type.Boolean(), name: Nullable(Type.String()), informedAt: Nullable(Type.String()) }),
    policeReportNumber: Nullable(Type.String()),
    reported: Type.Object({ at: Nullable(Type.String()), receiptNumber: Nullable(Type.String()) }),
    missing: Type.Array(Type.String(), { description: 'Fields still to fill in before submitting' }),
  }),
  cap: Type.Array(Type.Object({ sequence: Type.Integer(), msgType: Type.String(), identifier: Type.String(), sent: Type.String() })),
  linked: Type.Array(LinkedCounts, { description: "Per linked site the alarm crossed to: the linked organisation's counts, never names" }),
});

const Share = Nullable(Type.Number({ minimum: 0, maximum: 1 }));
const Label = Bilingual;

export const StatisticsResponse = Type.Object({
  from: Timestamp,
  to: Timestamp,
  truncated: Type.Boolean({ description: 'More incidents than the 2,000 counted fell in the range' }),
  incidents: Type.Array(Type.Object({
    id: Uuid, siteId: Uuid, siteName: Type.String(), typeKey: Type.String(), typeLabel: Label, drill: Type.Boolean(), state: Type.String(),
    raisedAt: Timestamp, month: Type.String(), toReach: Type.Integer(), reached: Type.Integer(), unreached: Type.Integer(),
    acknowledged: Type.Integer(), allReachedMs: Ms, firstAcknowledgementMs: Ms, reachedWithin10s: Share, reachedWithin60s: Share,
    acknowledgedWithin60s: Share, readiness: Share,
  }), { description: 'Newest first' }),
  groups: Type.Array(Type.Object({
    siteId: Uuid, siteName: Type.String(), typeKey: Type.String(), typeLabel: Label, month: Type.String(), drill: Type.Boolean(),
    incidents: Type.Integer(),
    allReached: Type.Object({ incidents: Type.Integer(), medianMs: Ms, p90Ms: Ms }),
    acknowledgement: Type.Object({ people: Type.Integer(), medianMs: Ms, p90Ms: Ms }),
    unreachedRate: Share,
  })),
  drills: Type.Array(Type.Object({
    incidentId: Uuid, siteId: Uuid, siteName: Type.String(), typeLabel: Label, raisedAt: Timestamp,
    score: Type.Object({ reachedWithin10s: Share, reachedWithin60s: Share, acknowledgedWithin60s: Share }),
    earlier: Nullable(Type.Object({ drills: Type.Integer(), reachedWithin10s: Share, reachedWithin60s: Share, acknowledgedWithin60s: Share })),
  })),
  readiness: Type.Array(Type.Object({ month: Type.String(), incidents: Type.Integer(), readiness: Share })),
  charts: Type.Object({ drills: Type.String({ description: 'SVG' }), readiness: Type.String({ description: 'SVG' }) }),
});
