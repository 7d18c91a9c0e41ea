/** The API's shapes as the app reads them (README "API overview", docs/realtime.md). */
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
}

/** Where a linked incident came from: another organisation's alarm over a link (docs/linking.md), or a link test. */
export interface LinkedFrom {
  linkId: string; incidentId: string | null; organisationId: string; organisationName: string; siteName: string;
  pressedBy: string | null; test: boolean;
}

/** An incident as events and catch-up carry it: the fields both the live summary and the full incident have. */
export interface Incident {
  id: string; siteId: string; siteName: string; drill: boolean; state: 'active' | 'resolved' | 'cancelled';
  /** Null for a linked incident (a link raised it); linkedFrom says where from. */
  location: string | null; message: string | null; raisedBy: { id: string; name: string } | null; raisedAt: string;
  linkedFrom?: LinkedFrom | null;
  recipients: number;
  /** Ended incidents: when and by whom (the all clear says so). */
  endedAt?: string | null; endedBy?: { id: string; name: string } | null;
  type: { id: string; key: string; label: Bilingual; instruction: Bilingual; colour: string; icon: string; sound: Sound };
}

export interface Instruction {
  siteId: string; incidentId: string; typeKey: string; label: Bilingual; text: Bilingual; colour: string; icon: string;
  sound: Sound; responseType: string; drill: boolean; since: string; activeIncidents: number;
}

export interface Envelope {
  id: string; incidentId: string; siteId: string; type: string; actorPersonId: string | null; at: string;
  data: Record<string, unknown>;
}

export type ResponseStatus = 'safe' | 'need_help' | 'not_on_site';

export interface IncidentMessage { key: string; body: string; at: string; author: string | null }

export interface ActiveIncidentState {
  incident: Incident; instruction: Instruction | null; messages: { id: string; authorId: string; authorName: string; body: string; at: string }[];
  myStatus: ResponseStatus | null;
}

/** Every answer names the epoch its cursor belongs to: the device keeps and sends both (docs/realtime.md). */
export type CatchUp =
  | { kind: 'events'; epoch: string; cursor: string; events: Envelope[] }
  | { kind: 'resync'; epoch: string; cursor: string; reason: string; incidents: ActiveIncidentState[] };

/** Where the device is in the timeline: its cursor and the epoch it came from (null before the first answer). */
export interface Position { cursor: string | null; epoch: string | null }

export interface RollCallSummary {
  targeted: number; delivered: number; acknowledged: number; safe: number; needHelp: number; notOnSite: number; noAnswer: number;
}
export interface RollCallPerson {
  personId: string; name: string; phone: string | null; lead: boolean; deliveredAt: string | null; acknowledgedAt: string | null;
  status: ResponseStatus | null; text: string | null; location: string | null; respondedAt: string | null;
  /** What Web Push did: devices pushed to, when a push service first took one (not a receipt), reminders. */
  push: { devices: number; acceptedAt: string | null; reminders: number };
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

export interface DeviceHealth {
  people: {
    personId: string; name: string; canReceiveAlarms: boolean; problem: 'no_device' | 'push_denied' | 'push_not_enabled' | null;
    devices: { sessionId: string; label: string | null; platform: string | null; pushPermission: 'granted' | 'denied' | 'default' | 'unsupported' | null; pushSubscribed: boolean; lastSeenAt: string | null }[];
  }[];
}

export interface MyDevice { pushPermission: string; pushSubscribed: boolean; lastSeenAt: string | null; canReceiveAlarms: boolean }

/** A `repushed` or `escalated` timeline event (docs/realtime.md), as leads see it. */
export type EscalationNote =
  | { id: string; at: string; kind: 'repushed'; round: number; unreached: number }
  | { id: string; at: string; kind: 'escalated'; unreached: { personId: string; name: string }[]; unreachedCount: number; contacts: { name: string; group: string; sms: boolean }[] };
