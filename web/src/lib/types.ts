import type {
  IncidentSummary, InstructionView, LinkedFrom, RaiseRequest, ResponseStatus, RollCallSummary,
} from '../../../src/contract/alarms.ts';
import type { ActiveIncidentState, CatchUpPayload, LiveEvent, SiteInstructionPayload } from '../../../src/contract/realtime.ts';

/**
 * The API's shapes as the app reads them (README "API overview", docs/realtime.md). The alarm path's
 * shapes come from the server's contract (src/contract), type-only: a change there is a type error here.
 */
export type { ActiveIncidentState, LinkedFrom, RaiseRequest, ResponseStatus, RollCallSummary };
/** An event as the app holds it: from a catch-up, or live (with the receipt spread of an alarm to thousands). */
export type Envelope = LiveEvent;
export type CatchUp = CatchUpPayload;
export type Instruction = NonNullable<InstructionView>;
export type Lang = 'sv' | 'en';
export interface Bilingual { sv: string; en: string }

export interface RoleGrant { role: string; siteId: string | null }
export interface Person {
  id: string; organisationId: string; name: string; email: string; phone: string | null; language: Lang;
  active: boolean; siteIds: string[]; roles: RoleGrant[];
}
export interface SiteSummary { id: string; organisationId: string; name: string; kind: string }
export interface Me { person: Person; organisation: { id: string; name: string; kind: string }; sites: SiteSummary[] }

export type Sound = 'loud' | 'silent';
export interface AlarmType {
  id: string; key: string; label: Bilingual; instruction: Bilingual; colour: string; icon: string; sound: Sound;
  precedence: number; archived: boolean; builtIn: boolean;
  /** smsWhenNoPush: the alarm by SMS at raise time to recipients without a device that can receive push (ADR 025). */
  delivery: { smsWhenNoPush: boolean };
}

/** An incident as events and catch-up carry it: the fields both the live summary and the full incident have. */
export type Incident = Pick<IncidentSummary,
  'id' | 'siteId' | 'siteName' | 'drill' | 'state' | 'location' | 'message' | 'raisedBy' | 'raisedAt' | 'linkedFrom' | 'recipients'
  | 'endedAt' | 'endedBy' | 'type'>;

/** `site_instruction` (docs/realtime.md, ADR 027): a site's instruction for the people the alarm itself did not target. */
export type SiteInstructionNotice = SiteInstructionPayload;

export interface IncidentMessage { key: string; body: string; at: string; author: string | null }

/** Where the device is in the timeline: its cursor and the epoch it came from (null before the first answer). */
export interface Position { cursor: string | null; epoch: string | null }

export interface RollCallPerson {
  personId: string; name: string; phone: string | null; lead: boolean; deliveredAt: string | null; acknowledgedAt: string | null;
  status: ResponseStatus | null; text: string | null; location: string | null; respondedAt: string | null;
  /** What Web Push did: devices pushed to, when a push service first took one (not a receipt), reminders; and the alarm's SMS to someone without push. */
  push: {
    devices: number; acceptedAt: string | null; reminders: number;
    sms: { state: 'queued' | 'sent' | 'delivered' | 'failed'; at: string | null } | null;
  };
}

export interface AlarmGroup {
  id: string; siteId: string; name: string; description: string | null;
  members: { id: string; name: string }[];
  alarmTypes: { alarmTypeId: string; key: string; receives: boolean; mayRaise: boolean }[];
  escalationContacts: { personId: string | null; name: string | null; phone: string | null; email: string | null }[];
}

export interface AuditEntry {
  id: string; action: string; entityType: string; entityId: string; actor: { id: string; name: string | null } | null; at: string;
}

export interface MyDevice { pushPermission: string; pushSubscribed: boolean; testPushFailed: boolean; lastSeenAt: string | null; canReceiveAlarms: boolean }

/** A `repushed` or `escalated` timeline event (docs/realtime.md), as leads see it. */
export type EscalationNote =
  | { id: string; at: string; kind: 'repushed'; round: number; unreached: number }
  | { id: string; at: string; kind: 'escalated'; unreached: { personId: string; name: string }[]; unreachedCount: number; contacts: { name: string; group: string; sms: boolean }[] };
