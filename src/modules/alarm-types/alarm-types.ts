import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { canManageAlarmTypes, canRunDrill, canSeeOrganisation, type Principal } from '../auth/policies.js';
import { visibleSite } from '../sites/sites.js';
import { visibleOrganisation } from '../organisations/organisations.js';

export const SOUND_PROFILES = ['loud', 'silent'] as const;
// CAP 1.2 value sets (OASIS Common Alerting Protocol), so every type maps to a valid CAP message.
export const CAP_CATEGORIES = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'] as const;
export const CAP_RESPONSE_TYPES = ['Shelter', 'Evacuate', 'Prepare', 'Execute', 'Avoid', 'Monitor', 'Assess', 'AllClear', 'None'] as const;
export const CAP_SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CAP_URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;

export interface CapMapping {
  category: (typeof CAP_CATEGORIES)[number];
  event: string;
  responseType: (typeof CAP_RESPONSE_TYPES)[number];
  severity: (typeof CAP_SEVERITIES)[number];
  urgency: (typeof CAP_URGENCIES)[number];
}

/** An alarm type as stored: what an admin sets, plus identity and bookkeeping. */
export interface AlarmType extends AlarmTypeInput {
  id: string;
  organisationId: string | null;
  builtIn: boolean;
  key: string;
  archived: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** The delivery policy columns as one object: how long pushes live and how the alarm escalates. */
const DELIVERY_POLICY_COLUMNS = `json_build_object('pushTtlSeconds', push_ttl_seconds, 'repushAfterSeconds', repush_after_seconds,
           'maxRepushes', max_repushes, 'contactsAfterSeconds', contacts_after_seconds, 'smsToContacts', sms_to_contacts,
           'smsWhenNoPush', sms_when_no_push)`;

const SELECT = `
  SELECT id, organisation_id AS "organisationId", organisation_id IS NULL AS "builtIn", key,
         json_build_object('sv', label_sv, 'en', label_en) AS label,
         json_build_object('sv', instruction_sv, 'en', instruction_en) AS instruction,
         colour, icon, sound, precedence,
         json_build_object('category', cap_category, 'event', cap_event, 'responseType', cap_response_type,
                           'severity', cap_severity, 'urgency', cap_urgency) AS cap,
         ${DELIVERY_POLICY_COLUMNS} AS delivery,
         archived, created_at AS "createdAt", updated_at AS "updatedAt"
    FROM alarm_types`;

const ALARM_TYPE_SQL = {
  forOrganisation: `${SELECT} WHERE (organisation_id IS NULL OR organisation_id = $1) AND ($2 OR NOT archived)
    ORDER BY precedence DESC, key`,
  byId: `${SELECT} WHERE id = $1`,
  // Usable types the person may raise at the site: every one for its leads ($3), else those a group
  // of theirs at the site may raise.
  raisable: `${SELECT}
    WHERE NOT archived AND (organisation_id IS NULL OR organisation_id = $1)
      AND ($3::boolean OR EXISTS (
        SELECT 1 FROM alarm_groups g
          JOIN alarm_group_types gt ON gt.group_id = g.id AND gt.may_raise
          JOIN alarm_group_members m ON m.group_id = g.id AND m.person_id = $2
         WHERE g.site_id = $4 AND gt.alarm_type_id = alarm_types.id))
    ORDER BY precedence DESC, key`,
  // The type as an incident freezes it (its snapshot): usable by the organisation, not archived.
  snapshot: `
    SELECT id, key, json_build_object('sv', label_sv, 'en', label_en) AS label,
           json_build_object('sv', instruction_sv, 'en', instruction_en) AS instruction,
           colour, icon, sound, precedence,
           json_build_object('category', cap_category, 'event', cap_event, 'responseType', cap_response_type,
                             'severity', cap_severity, 'urgency', cap_urgency) AS cap,
           ${DELIVERY_POLICY_COLUMNS} AS delivery
      FROM alarm_types
     WHERE id = $1 AND NOT archived AND (organisation_id IS NULL OR organisation_id = $2)`,
  lock: 'SELECT id FROM alarm_types WHERE id = $1 FOR UPDATE',
  keyTaken: 'SELECT 1 FROM alarm_types WHERE key = $2 AND (organisation_id IS NULL OR organisation_id = $1)',
  // Usable by the organisation: built-in or its own, and not archived.
  countUsable: `SELECT count(*)::int AS n FROM alarm_types
    WHERE id = ANY($2::uuid[]) AND NOT archived AND (organisation_id IS NULL OR organisation_id = $1)`,
  insert: `
    INSERT INTO alarm_types (organisation_id, key, label_sv, label_en, instruction_sv, instruction_en, colour, icon, sound,
                             precedence, cap_category, cap_event, cap_response_type, cap_severity, cap_urgency,
                             push_ttl_seconds, repush_after_seconds, max_repushes, contacts_after_seconds, sms_to_contacts,
                             sms_when_no_push)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id`,
  update: `
    UPDATE alarm_types SET label_sv = $2, label_en = $3, instruction_sv = $4, instruction_en = $5, colour = $6, icon = $7,
           sound = $8, precedence = $9, cap_category = $10, cap_event = $11, cap_response_type = $12,
           cap_severity = $13, cap_urgency = $14, push_ttl_seconds = $15, repush_after_seconds = $16, max_repushes = $17,
           contacts_after_seconds = $18, sms_to_contacts = $19, sms_when_no_push = $20, archived = $21, updated_at = now()
     WHERE id = $1`,
} as const;

export async function listAlarmTypes(db: Queryable, principal: Principal, organisationId: string, includeArchived: boolean): Promise<AlarmType[]> {
  await visibleOrganisation(db, principal, organisationId);
  return (await db.query<AlarmType>(ALARM_TYPE_SQL.forOrganisation, [organisationId, includeArchived])).rows;
}

/**
 * What the caller may raise at a site, for the buttons of the raise screen (the raise itself checks
 * again), and whether they may start drills there. Another organisation's site is not found.
 */
export async function raisableAlarmTypes(db: Queryable, principal: Principal, siteId: string): Promise<{ alarmTypes: AlarmType[]; drill: boolean }> {
  const site = await visibleSite(db, principal, siteId);
  if (site.organisationId !== principal.organisationId) return { alarmTypes: [], drill: false };
  // Leads may raise every type (canRaiseAlarm); others what their groups at the site may.
  const lead = canRunDrill(principal, site);
  const alarmTypes = (await db.query<AlarmType>(ALARM_TYPE_SQL.raisable, [site.organisationId, principal.personId, lead, site.id])).rows;
  return { alarmTypes, drill: lead };
}

/** Built-in types are visible to everyone; custom ones only within their organisation. */
export async function visibleAlarmType(db: Queryable, principal: Principal, id: string): Promise<AlarmType> {
  const type = (await db.query<AlarmType>(ALARM_TYPE_SQL.byId, [id])).rows[0];
  if (!type || (type.organisationId !== null && !canSeeOrganisation(principal, type.organisationId))) throw new AppError('not_found');
  return type;
}

/** What an incident freezes of its type when raised; undefined when the organisation cannot use the type. */
export async function usableAlarmType(db: Queryable, id: string, organisationId: string): Promise<AlarmTypeSnapshot | undefined> {
  return (await db.query<AlarmTypeSnapshot>(ALARM_TYPE_SQL.snapshot, [id, organisationId])).rows[0];
}

export async function allAlarmTypesUsable(db: Queryable, organisationId: string, ids: string[]): Promise<boolean> {
  if (ids.length === 0) return true;
  const row = (await db.query<{ n: number }>(ALARM_TYPE_SQL.countUsable, [organisationId, ids])).rows[0];
  return row?.n === new Set(ids).size;
}

export interface AlarmTypeInput {
  label: { sv: string; en: string };
  instruction: { sv: string; en: string };
  colour: string;
  icon: string;
  sound: (typeof SOUND_PROFILES)[number];
  precedence: number;
  cap: CapMapping;
  delivery: DeliveryPolicy;
}

/**
 * How an alarm of this type reaches people who have no open app: the pushes' time to live, and the
 * escalation ladder (push again, then the groups' escalation contacts, optionally by SMS). Frozen
 * into each incident when it is raised; null turns a step off.
 */
/** An alarm type as an incident keeps it: what it was when the alarm was raised, whatever changes later. */
export type AlarmTypeSnapshot = AlarmTypeInput & { id: string; key: string };

export interface DeliveryPolicy {
  pushTtlSeconds: number;
  repushAfterSeconds: number | null;
  maxRepushes: number;
  contactsAfterSeconds: number | null;
  smsToContacts: boolean;
  /**
   * At raise time, an SMS through the gateway to each recipient with no device that can receive push and
   * with a phone number (ADR 025). Off by default for silent types: an SMS makes a sound.
   */
  smsWhenNoPush: boolean;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  pushTtlSeconds: 600, repushAfterSeconds: 60, maxRepushes: 3, contactsAfterSeconds: 180, smsToContacts: false, smsWhenNoPush: true,
};

/** A new type's policy: the defaults, SMS to those without push off for a silent type (ADR 025), then what the admin chose. */
export const defaultDeliveryPolicy = (sound: AlarmTypeInput['sound'], chosen: Partial<DeliveryPolicy> = {}): DeliveryPolicy =>
  ({ ...DEFAULT_DELIVERY_POLICY, smsWhenNoPush: sound !== 'silent', ...chosen });

const columnValues = (input: AlarmTypeInput) => [
  input.label.sv, input.label.en, input.instruction.sv, input.instruction.en, input.colour.toLowerCase(), input.icon,
  input.sound, input.precedence, input.cap.category, input.cap.event, input.cap.responseType, input.cap.severity, input.cap.urgency,
  input.delivery.pushTtlSeconds, input.delivery.repushAfterSeconds, input.delivery.maxRepushes, input.delivery.contactsAfterSeconds,
  input.delivery.smsToContacts, input.delivery.smsWhenNoPush,
];

export async function createAlarmType(
  db: Db, principal: Principal, organisationId: string, input: AlarmTypeInput & { key: string }, requestId: string,
): Promise<AlarmType> {
  return inTransaction(db, async (tx) => {
    await visibleOrganisation(tx, principal, organisationId);
    if (!canManageAlarmTypes(principal, organisationId)) throw new AppError('forbidden');
    if ((await tx.query(ALARM_TYPE_SQL.keyTaken, [organisationId, input.key])).rowCount) {
      throw new AppError('conflict', { sv: `Det finns redan en larmtyp med nyckeln "${input.key}".`, en: `An alarm type with the key "${input.key}" already exists.` });
    }
    const [labelSv, labelEn, instructionSv, instructionEn, ...rest] = columnValues(input);
    const { id } = (await tx.query<{ id: string }>(ALARM_TYPE_SQL.insert, [
      organisationId, input.key, labelSv, labelEn, instructionSv, instructionEn, ...rest,
    ])).rows[0] as { id: string };
    const created = (await tx.query<AlarmType>(ALARM_TYPE_SQL.byId, [id])).rows[0] as AlarmType;
    await recordAudit(tx, {
      organisationId, actorPersonId: principal.personId, action: 'alarm_type.created',
      entityType: 'alarm_type', entityId: id, before: null, after: created, requestId,
    });
    return created;
  });
}

export interface AlarmTypeChanges {
  label?: Partial<AlarmTypeInput['label']>;
  instruction?: Partial<AlarmTypeInput['instruction']>;
  colour?: string;
  icon?: string;
  sound?: AlarmTypeInput['sound'];
  precedence?: number;
  cap?: Partial<CapMapping>;
  delivery?: Partial<DeliveryPolicy>;
  archived?: boolean;
}

export async function updateAlarmType(
  db: Db, principal: Principal, id: string, changes: AlarmTypeChanges, requestId: string,
): Promise<AlarmType> {
  return inTransaction(db, async (tx) => {
    await tx.query(ALARM_TYPE_SQL.lock, [id]);
    const before = await visibleAlarmType(tx, principal, id);
    if (before.organisationId === null) {
      throw new AppError(canManageAlarmTypes(principal, principal.organisationId) ? 'builtin_immutable' : 'forbidden');
    }
    if (!canManageAlarmTypes(principal, before.organisationId)) throw new AppError('forbidden');
    const merged: AlarmTypeInput = {
      label: { ...before.label, ...changes.label },
      instruction: { ...before.instruction, ...changes.instruction },
      colour: changes.colour ?? before.colour,
      icon: changes.icon ?? before.icon,
      sound: changes.sound ?? before.sound,
      precedence: changes.precedence ?? before.precedence,
      cap: { ...before.cap, ...changes.cap },
      delivery: { ...before.delivery, ...changes.delivery },
    };
    await tx.query(ALARM_TYPE_SQL.update, [id, ...columnValues(merged), changes.archived ?? before.archived]);
    const after = (await tx.query<AlarmType>(ALARM_TYPE_SQL.byId, [id])).rows[0] as AlarmType;
    await recordAudit(tx, {
      organisationId: before.organisationId, actorPersonId: principal.personId, action: 'alarm_type.updated',
      entityType: 'alarm_type', entityId: id, before, after, requestId,
    });
    return after;
  });
}

export interface AlarmTypeBrief {
  id: string;
  key: string;
  label: { sv: string; en: string };
  colour: string;
  icon: string;
}

const ALARM_TYPE_BRIEF_SQL = `
  SELECT id, key, json_build_object('sv', label_sv, 'en', label_en) AS label, colour, icon
    FROM alarm_types WHERE id = ANY($1::uuid[]) ORDER BY precedence DESC, key`;

/** Types by id, as a link shows which of them cross (both sides see them, whoever owns a custom type). */
export async function alarmTypeBriefs(db: Queryable, ids: string[]): Promise<AlarmTypeBrief[]> {
  if (ids.length === 0) return [];
  return (await db.query<AlarmTypeBrief>(ALARM_TYPE_BRIEF_SQL, [ids])).rows;
}
