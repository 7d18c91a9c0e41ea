import { Type } from 'typebox';
import { Nullable, StringEnum, Timestamp, Uuid } from '../../lib/schemas.js';
import { ROLE_NAMES } from '../auth/policies.js';

/** The shapes of the personal-data export, erasure and retention settings, as they leave the server. */

const Bilingual = Type.Object({ sv: Type.String(), en: Type.String() });

export const PersonalDataExport = Type.Object({
  format: Type.Literal('samlarm.personal-data.v1', { description: 'Changes only with the shape of this document' }),
  exportedAt: Timestamp,
  person: Type.Object({
    id: Uuid, organisationId: Uuid, name: Type.String(), email: Type.String(), phone: Nullable(Type.String()),
    language: StringEnum(['sv', 'en'] as const), active: Type.Boolean(), createdAt: Timestamp, updatedAt: Timestamp,
    deactivatedAt: Nullable(Timestamp), pseudonymisedAt: Nullable(Timestamp),
  }),
  organisation: Type.Object({ id: Uuid, name: Type.String() }),
  roles: Type.Array(Type.Object({ role: StringEnum(ROLE_NAMES), siteId: Nullable(Uuid) })),
  sites: Type.Array(Type.Object({ id: Uuid, name: Type.String(), kind: Type.String() })),
  alarmGroups: Type.Array(Type.Object({ id: Uuid, name: Type.String(), siteId: Uuid, siteName: Type.String() })),
  escalationContactFor: Type.Array(Type.Object({ groupId: Uuid, groupName: Type.String(), siteName: Type.String(), position: Type.Integer() })),
  sessions: Type.Array(Type.Object({
    id: Uuid, kind: StringEnum(['browser', 'device'] as const), label: Nullable(Type.String()), userAgent: Nullable(Type.String()),
    ip: Nullable(Type.String()), platform: Nullable(Type.String()), pushPermission: Nullable(Type.String()), standalone: Nullable(Type.Boolean()),
    createdAt: Timestamp, lastSeenAt: Timestamp, expiresAt: Timestamp, revokedAt: Nullable(Timestamp),
  }), { description: 'Every session (device or browser) the server still holds, ended ones included' }),
  pushSubscriptions: Type.Array(Type.Object({
    id: Uuid, sessionId: Uuid, origin: Type.String(), createdAt: Timestamp, updatedAt: Timestamp,
    lastSuccessAt: Nullable(Timestamp), expiresAt: Nullable(Timestamp),
  }), { description: 'Without the endpoint and keys: whoever has them can send notifications to the device' }),
  loginFailures: Type.Array(Type.Object({ ip: Nullable(Type.String()), at: Timestamp })),
  incidents: Type.Array(Type.Object({
    id: Uuid, siteId: Uuid, siteName: Type.String(), typeKey: Type.String(), typeLabel: Bilingual, drill: Type.Boolean(),
    state: StringEnum(['active', 'resolved', 'cancelled'] as const), raisedAt: Timestamp, endedAt: Nullable(Timestamp),
    targeted: Type.Boolean(), lead: Type.Boolean(), deliveredAt: Nullable(Timestamp), acknowledgedAt: Nullable(Timestamp),
    raisedByThem: Type.Boolean(), endedByThem: Type.Boolean(),
  }), { description: 'Incidents the person was alarmed by, ended or wrote in' }),
  presses: Type.Array(Type.Object({ pressId: Uuid, incidentId: Uuid, location: Nullable(Type.String()), message: Nullable(Type.String()), at: Timestamp })),
  responses: Type.Array(Type.Object({
    incidentId: Uuid, status: Type.String(), text: Nullable(Type.String()), location: Nullable(Type.String()), at: Timestamp,
  })),
  receipts: Type.Array(Type.Object({ incidentId: Uuid, deviceId: Type.String(), kind: Type.String(), channel: Type.String(), at: Timestamp })),
  messages: Type.Array(Type.Object({ id: Uuid, incidentId: Uuid, kind: Type.String(), body: Type.String(), at: Timestamp })),
  timeline: Type.Array(Type.Object({ incidentId: Uuid, type: Type.String(), at: Timestamp }), {
    description: 'What the incidents\' timelines record the person doing (the events\' data may name others and is left out)',
  }),
  deliveries: Type.Array(Type.Object({
    id: Type.String(), incidentId: Nullable(Uuid), channel: StringEnum(['push', 'sms'] as const), kind: Type.String(),
    smsTo: Nullable(Type.String()), state: Type.String(), attempts: Type.Integer(), createdAt: Timestamp, finishedAt: Nullable(Timestamp),
    smsReport: Nullable(StringEnum(['delivered', 'failed'] as const, { description: 'What the SMS gateway reported: reached the phone, or not' })),
    smsReportedAt: Nullable(Timestamp),
  }), { description: 'Pushes and SMS queued or sent to the person, without their contents' }),
  audit: Type.Object({
    aboutThem: Type.Array(Type.Object({
      id: Type.String(), action: Type.String(), at: Timestamp, before: Type.Unknown(), after: Type.Unknown(),
      actor: StringEnum(['self', 'other', 'system'] as const),
    })),
    byThem: Type.Array(Type.Object({
      id: Type.String(), action: Type.String(), entityType: Type.String(),
      entityId: Nullable(Type.String({ description: 'Left out when it is another person' })), at: Timestamp,
    })),
  }),
});

const Count = Type.Integer({ minimum: 0 });

export const ErasureResult = Type.Object({
  personId: Uuid,
  nameKept: Type.Boolean({ description: 'A kept incident refers to the person: their name stays, nothing else about them' }),
  removed: Type.Object({
    sessions: Count, loginFailures: Count, pushSubscriptions: Count, deliveries: Count, groupMemberships: Count,
    escalationContacts: Count, sites: Count, roles: Count, texts: Count,
  }),
});

export const ErasureBody = Type.Object({
  // Something besides spaces, and no NUL (PostgreSQL text cannot hold it).
  reason: Type.String({
    minLength: 1, maxLength: 500, pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$',
    description: 'Why, for the audit log (e.g. the request\'s case number)',
  }),
}, { additionalProperties: false });

const IncidentRetentionInput = Type.Union([
  Type.Object({ keep: Type.Literal('default') }, { additionalProperties: false }),
  Type.Object({ keep: Type.Literal('forever') }, { additionalProperties: false }),
  Type.Object({ keep: Type.Literal('years'), years: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false }),
], { description: 'default: the deployment\'s RETENTION_INCIDENTS_YEARS (unset: kept); forever; or deleted this many years after they ended' });

export const RetentionBody = Type.Object({ incidents: IncidentRetentionInput }, { additionalProperties: false });

export const RetentionView = Type.Object({
  organisationId: Uuid,
  incidents: Type.Object({
    keep: StringEnum(['default', 'forever', 'years'] as const),
    years: Type.Optional(Type.Integer()),
    effectiveYears: Nullable(Type.Integer({ description: 'Years after they end that the organisation\'s incidents are deleted; null: kept' })),
  }),
  sessionsDays: Type.Integer(),
  loginFailuresDays: Type.Integer(),
  deliveriesMonths: Type.Integer(),
  freeTextMonths: Type.Integer({ description: 'After an incident ended, its location texts and free-text answers are blanked' }),
  auditLogYears: Type.Integer(),
  pseudonymiseAfterDays: Type.Integer({ description: 'After deactivation' }),
  lastRun: Nullable(Type.Object({ startedAt: Timestamp, finishedAt: Timestamp })),
});
