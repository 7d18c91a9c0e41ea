import type { Db, Queryable, Tx } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import {
  canEnlistPerson, canManageSite, canReadContactDetails, canViewSiteConfiguration, type PersonRef, type Principal,
} from '../auth/policies.js';
import { allAlarmTypesUsable } from '../alarm-types/alarm-types.js';
import { visibleSite, type Site } from '../sites/sites.js';

export interface GroupAlarmType {
  alarmTypeId: string;
  key: string;
  receives: boolean;
  mayRaise: boolean;
}

export interface EscalationContact {
  personId: string | null;
  name: string | null;
  phone: string | null;
  email: string | null;
}

export interface AlarmGroup {
  id: string;
  siteId: string;
  organisationId: string;
  name: string;
  description: string | null;
  members: { id: string; name: string }[];
  alarmTypes: GroupAlarmType[];
  escalationContacts: EscalationContact[];
  createdAt: Date;
  updatedAt: Date;
}

/** A group as stored: a contact who is a person carries what the policies need to decide who may read their details. */
interface StoredGroup extends Omit<AlarmGroup, 'escalationContacts'> {
  escalationContacts: (EscalationContact & { person: PersonRef | null })[];
}

/** A person row `p` as the policies' PersonRef (null when there is none): organisation, sites and roles. */
const PERSON_REF = (p: string) => `CASE WHEN ${p}.id IS NULL THEN NULL ELSE json_build_object(
    'organisationId', ${p}.organisation_id,
    'siteIds', coalesce((SELECT json_agg(ps.site_id) FROM person_sites ps WHERE ps.person_id = ${p}.id), '[]'),
    'roles', coalesce((SELECT json_agg(json_build_object('role', r.role, 'siteId', r.site_id)) FROM role_assignments r
                        WHERE r.person_id = ${p}.id), '[]')) END`;

const GROUP_SELECT = `
  SELECT g.id, g.site_id AS "siteId", g.organisation_id AS "organisationId", g.name, g.description,
         g.created_at AS "createdAt", g.updated_at AS "updatedAt",
         coalesce((SELECT json_agg(json_build_object('id', p.id, 'name', p.name) ORDER BY p.name, p.id)
                     FROM alarm_group_members m JOIN people p ON p.id = m.person_id WHERE m.group_id = g.id), '[]') AS members,
         coalesce((SELECT json_agg(json_build_object('alarmTypeId', t.id, 'key', t.key, 'receives', gt.receives, 'mayRaise', gt.may_raise)
                            ORDER BY t.precedence DESC, t.key)
                     FROM alarm_group_types gt JOIN alarm_types t ON t.id = gt.alarm_type_id WHERE gt.group_id = g.id), '[]') AS "alarmTypes",
         coalesce((SELECT json_agg(json_build_object('personId', c.person_id, 'name', coalesce(c.name, cp.name),
                                                     'phone', coalesce(c.phone, cp.phone), 'email', coalesce(c.email, cp.email),
                                                     'person', ${PERSON_REF('cp')})
                            ORDER BY c.position)
                     FROM alarm_group_escalation_contacts c LEFT JOIN people cp ON cp.id = c.person_id
                    WHERE c.group_id = g.id), '[]') AS "escalationContacts"
    FROM alarm_groups g`;

const GROUP_SQL = {
  bySite: `${GROUP_SELECT} WHERE g.site_id = $1 ORDER BY g.name`,
  byId: `${GROUP_SELECT} WHERE g.id = $1`,
  siteOf: 'SELECT site_id FROM alarm_groups WHERE id = $1',
  lock: 'SELECT id FROM alarm_groups WHERE id = $1 FOR UPDATE',
  nameTaken: 'SELECT 1 FROM alarm_groups WHERE site_id = $1 AND name = $2 AND id IS DISTINCT FROM $3',
  insert: 'INSERT INTO alarm_groups (site_id, organisation_id, name, description) VALUES ($1, $2, $3, $4) RETURNING id',
  update: `UPDATE alarm_groups SET name = coalesce($2, name),
             description = CASE WHEN $3::boolean THEN $4 ELSE description END, updated_at = now() WHERE id = $1`,
  touch: 'UPDATE alarm_groups SET updated_at = now() WHERE id = $1',
  delete: 'DELETE FROM alarm_groups WHERE id = $1',
  peopleInOrganisation: `SELECT p.id, ${PERSON_REF('p')} AS person FROM people p WHERE p.organisation_id = $1 AND p.id = ANY($2::uuid[])`,
  clearMembers: 'DELETE FROM alarm_group_members WHERE group_id = $1',
  addMembers: 'INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])',
  clearTypes: 'DELETE FROM alarm_group_types WHERE group_id = $1',
  addType: 'INSERT INTO alarm_group_types (group_id, alarm_type_id, receives, may_raise) VALUES ($1, $2, $3, $4)',
  clearContacts: 'DELETE FROM alarm_group_escalation_contacts WHERE group_id = $1',
  addContact: `INSERT INTO alarm_group_escalation_contacts (group_id, position, person_id, name, phone, email)
               VALUES ($1, $2, $3, $4, $5, $6)`,
} as const;

async function loadGroup(db: Queryable, id: string): Promise<StoredGroup> {
  const group = (await db.query<StoredGroup>(GROUP_SQL.byId, [id])).rows[0];
  if (!group) throw new AppError('not_found');
  return group;
}

/**
 * The group as `reader` may see it: a contact who is a person shows their phone and e-mail address only
 * to those who may read that person. `'audit'`: everything, for the audit log (read by organisation admins only).
 */
function groupAsSeenBy(group: StoredGroup, reader: Principal | 'audit'): AlarmGroup {
  return {
    ...group,
    escalationContacts: group.escalationContacts.map(({ person, ...contact }) => {
      if (!person || !contact.personId || reader === 'audit' || canReadContactDetails(reader, contact.personId, person)) return contact;
      return { ...contact, phone: null, email: null };
    }),
  };
}

/** The group's site, if the caller can see it; a group elsewhere is reported as not found. */
async function siteOfGroup(db: Queryable, principal: Principal, groupId: string): Promise<Site> {
  const row = (await db.query<{ site_id: string }>(GROUP_SQL.siteOf, [groupId])).rows[0];
  if (!row) throw new AppError('not_found');
  return visibleSite(db, principal, row.site_id);
}

export async function listGroups(db: Queryable, principal: Principal, siteId: string): Promise<AlarmGroup[]> {
  const site = await visibleSite(db, principal, siteId);
  if (!canViewSiteConfiguration(principal, site)) throw new AppError('forbidden');
  return (await db.query<StoredGroup>(GROUP_SQL.bySite, [siteId])).rows.map((g) => groupAsSeenBy(g, principal));
}

export async function readGroup(db: Queryable, principal: Principal, id: string): Promise<AlarmGroup> {
  const site = await siteOfGroup(db, principal, id);
  if (!canViewSiteConfiguration(principal, site)) throw new AppError('forbidden');
  return groupAsSeenBy(await loadGroup(db, id), principal);
}

export interface GroupAlarmTypeInput {
  alarmTypeId: string;
  receives: boolean;
  mayRaise: boolean;
}

export interface EscalationContactInput {
  personId?: string | null;
  name?: string | null;
  phone?: string | null;
  email?: string | null;
}

/** What a change to a group needs: the caller, and who is in the group already (they may stay whoever added them). */
interface GroupChange {
  principal: Principal;
  group: { id: string; organisationId: string };
  current: StoredGroup | null;
}

/**
 * Checks people about to be put into a group, as members or contacts: each must be a person of the
 * group's organisation (otherwise the answer is the one an unknown id gets), and each one not already
 * there must be someone the caller may enlist.
 */
const WHO = {
  member: {
    notHere: { sv: 'En medlem hör inte till den här organisationen.', en: 'A member is not part of this organisation.' },
    notYours: { sv: 'Du kan bara lägga till dig själv och personer du ansvarar för som medlem.', en: 'You may only add yourself and people you manage as a member.' },
  },
  contact: {
    notHere: { sv: 'En kontakt hör inte till den här organisationen.', en: 'A contact is not part of this organisation.' },
    notYours: { sv: 'Du kan bara lägga till dig själv och personer du ansvarar för som kontakt.', en: 'You may only add yourself and people you manage as a contact.' },
  },
} as const;

async function assertEnlistable(tx: Tx, change: GroupChange, personIds: string[], already: string[], what: keyof typeof WHO): Promise<void> {
  const ids = [...new Set(personIds.map((id) => id.toLowerCase()))];
  const found = (await tx.query<{ id: string; person: PersonRef }>(GROUP_SQL.peopleInOrganisation, [change.group.organisationId, ids])).rows;
  if (found.length !== ids.length) throw new AppError('invalid_reference', WHO[what].notHere);
  const added = found.filter((f) => !already.includes(f.id));
  if (added.some((f) => !canEnlistPerson(change.principal, f.id, f.person))) {
    throw new AppError('forbidden', WHO[what].notYours);
  }
}

async function setMembers(tx: Tx, change: GroupChange, personIds: string[]): Promise<void> {
  const ids = [...new Set(personIds.map((id) => id.toLowerCase()))];
  await assertEnlistable(tx, change, ids, change.current?.members.map((m) => m.id) ?? [], 'member');
  await tx.query(GROUP_SQL.clearMembers, [change.group.id]);
  if (ids.length) await tx.query(GROUP_SQL.addMembers, [change.group.id, ids]);
}

async function setAlarmTypes(tx: Tx, { group }: GroupChange, types: GroupAlarmTypeInput[]): Promise<void> {
  const ids = types.map((t) => t.alarmTypeId);
  if (new Set(ids).size !== ids.length) throw new AppError('validation_failed', { sv: 'En larmtyp finns med två gånger.', en: 'An alarm type is listed twice.' });
  if (types.some((t) => !t.receives && !t.mayRaise)) {
    throw new AppError('validation_failed', { sv: 'Varje larmtyp i listan måste tas emot eller få larmas (eller lämnas utanför).', en: 'Each listed alarm type must be received or raisable (or left out).' });
  }
  if (!(await allAlarmTypesUsable(tx, group.organisationId, ids))) {
    throw new AppError('invalid_reference', { sv: 'En larmtyp finns inte, är arkiverad eller hör till en annan organisation.', en: 'An alarm type does not exist, is archived or belongs to another organisation.' });
  }
  await tx.query(GROUP_SQL.clearTypes, [group.id]);
  for (const t of types) await tx.query(GROUP_SQL.addType, [group.id, t.alarmTypeId, t.receives, t.mayRaise]);
}

async function setEscalationContacts(tx: Tx, change: GroupChange, contacts: EscalationContactInput[]): Promise<void> {
  const personIds = contacts.flatMap((c) => (c.personId ? [c.personId] : []));
  const already = change.current?.escalationContacts.flatMap((c) => (c.personId ? [c.personId] : [])) ?? [];
  await assertEnlistable(tx, change, personIds, already, 'contact');
  if (contacts.some((c) => !c.personId && (!c.name || (!c.phone && !c.email)))) {
    throw new AppError('validation_failed', { sv: 'En kontakt behöver en person, eller ett namn med telefonnummer eller e-postadress.', en: 'A contact needs a person, or a name with a phone number or e-mail address.' });
  }
  await tx.query(GROUP_SQL.clearContacts, [change.group.id]);
  for (const [position, c] of contacts.entries()) {
    await tx.query(GROUP_SQL.addContact, [change.group.id, position, c.personId ?? null, c.name ?? null, c.phone ?? null, c.email ?? null]);
  }
}

export interface NewGroupInput {
  name: string;
  description?: string | null;
  memberIds?: string[];
  alarmTypes?: GroupAlarmTypeInput[];
  escalationContacts?: EscalationContactInput[];
}

async function assertNameFree(tx: Queryable, siteId: string, name: string, groupId: string | null): Promise<void> {
  if ((await tx.query(GROUP_SQL.nameTaken, [siteId, name, groupId])).rowCount) {
    throw new AppError('conflict', { sv: 'Platsen har redan en grupp med det namnet.', en: 'The site already has a group with this name.' });
  }
}

export async function createGroup(db: Db, principal: Principal, siteId: string, input: NewGroupInput, requestId: string): Promise<AlarmGroup> {
  return inTransaction(db, async (tx) => {
    const site = await visibleSite(tx, principal, siteId, true);
    if (!canManageSite(principal, site)) throw new AppError('forbidden');
    await assertNameFree(tx, siteId, input.name, null);
    const { id } = (await tx.query<{ id: string }>(GROUP_SQL.insert, [siteId, site.organisationId, input.name, input.description ?? null]))
      .rows[0] as { id: string };
    const change: GroupChange = { principal, group: { id, organisationId: site.organisationId }, current: null };
    if (input.memberIds) await setMembers(tx, change, input.memberIds);
    if (input.alarmTypes) await setAlarmTypes(tx, change, input.alarmTypes);
    if (input.escalationContacts) await setEscalationContacts(tx, change, input.escalationContacts);
    const group = await loadGroup(tx, id);
    await recordAudit(tx, {
      organisationId: site.organisationId, actorPersonId: principal.personId, action: 'alarm_group.created',
      entityType: 'alarm_group', entityId: id, before: null, after: groupAsSeenBy(group, 'audit'), requestId,
    });
    return groupAsSeenBy(group, principal);
  });
}

/**
 * Every change to a group follows one flow: lock it, check the caller manages its site, apply,
 * and record before and after in the audit log in the same transaction.
 */
async function changeGroup(
  db: Db, principal: Principal, id: string, action: string, requestId: string,
  apply: (tx: Tx, change: GroupChange, before: StoredGroup) => Promise<void>,
): Promise<AlarmGroup> {
  return inTransaction(db, async (tx) => {
    const site = await siteOfGroup(tx, principal, id);
    if (!canManageSite(principal, site)) throw new AppError('forbidden');
    await tx.query(GROUP_SQL.lock, [id]);
    const before = await loadGroup(tx, id);
    await apply(tx, { principal, group: before, current: before }, before);
    await tx.query(GROUP_SQL.touch, [id]);
    const after = await loadGroup(tx, id);
    await recordAudit(tx, {
      organisationId: before.organisationId, actorPersonId: principal.personId, action,
      entityType: 'alarm_group', entityId: id, before: groupAsSeenBy(before, 'audit'), after: groupAsSeenBy(after, 'audit'), requestId,
    });
    return groupAsSeenBy(after, principal);
  });
}

export const updateGroup = (
  db: Db, principal: Principal, id: string, input: { name?: string; description?: string | null }, requestId: string,
) => changeGroup(db, principal, id, 'alarm_group.updated', requestId, async (tx, _change, before) => {
  if (input.name) await assertNameFree(tx, before.siteId, input.name, id);
  await tx.query(GROUP_SQL.update, [id, input.name ?? null, input.description !== undefined, input.description ?? null]);
});

export const replaceMembers = (db: Db, principal: Principal, id: string, personIds: string[], requestId: string) =>
  changeGroup(db, principal, id, 'alarm_group.members_changed', requestId, (tx, change) => setMembers(tx, change, personIds));

export const replaceAlarmTypes = (db: Db, principal: Principal, id: string, types: GroupAlarmTypeInput[], requestId: string) =>
  changeGroup(db, principal, id, 'alarm_group.alarm_types_changed', requestId, (tx, change) => setAlarmTypes(tx, change, types));

export const replaceEscalationContacts = (db: Db, principal: Principal, id: string, contacts: EscalationContactInput[], requestId: string) =>
  changeGroup(db, principal, id, 'alarm_group.escalation_contacts_changed', requestId, (tx, change) => setEscalationContacts(tx, change, contacts));

export async function deleteGroup(db: Db, principal: Principal, id: string, requestId: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    const site = await siteOfGroup(tx, principal, id);
    if (!canManageSite(principal, site)) throw new AppError('forbidden');
    await tx.query(GROUP_SQL.lock, [id]);
    const before = await loadGroup(tx, id);
    await tx.query(GROUP_SQL.delete, [id]);
    await recordAudit(tx, {
      organisationId: before.organisationId, actorPersonId: principal.personId, action: 'alarm_group.deleted',
      entityType: 'alarm_group', entityId: id, before: groupAsSeenBy(before, 'audit'), after: null, requestId,
    });
  });
}

const RAISE_RIGHT_SQL = `
  SELECT EXISTS (
    SELECT 1 FROM alarm_groups g
      JOIN alarm_group_types gt ON gt.group_id = g.id AND gt.alarm_type_id = $3 AND gt.may_raise
      JOIN alarm_group_members m ON m.group_id = g.id AND m.person_id = $1
     WHERE g.site_id = $2) AS allowed`;

/** Whether one of the person's groups at the site may raise the type: the fact `canRaiseAlarm` weighs. */
export async function mayRaiseViaGroup(db: Queryable, personId: string, siteId: string, alarmTypeId: string): Promise<boolean> {
  return (await db.query<{ allowed: boolean }>(RAISE_RIGHT_SQL, [personId, siteId, alarmTypeId])).rows[0]?.allowed === true;
}

export interface ContactToAlert {
  personId: string | null;
  name: string;
  phone: string | null;
  groupName: string;
}

// Each contact once (a person, or a phone number), with the first group that lists them, in the groups' order.
const CONTACTS_TO_ALERT_SQL = `
  SELECT DISTINCT ON (coalesce(c.person_id::text, c.phone, c.id::text))
         c.person_id AS "personId", coalesce(cp.name, c.name) AS name, coalesce(c.phone, cp.phone) AS phone, g.name AS "groupName"
    FROM alarm_groups g
    JOIN alarm_group_escalation_contacts c ON c.group_id = g.id
    LEFT JOIN people cp ON cp.id = c.person_id AND cp.active
   WHERE g.id = ANY($1::uuid[]) AND (c.person_id IS NULL OR cp.id IS NOT NULL)
   ORDER BY coalesce(c.person_id::text, c.phone, c.id::text), g.name, c.position`;

/** The escalation contacts of these groups: whom escalation tells who is unreached. */
export async function escalationContactsOf(db: Queryable, groupIds: string[]): Promise<ContactToAlert[]> {
  if (groupIds.length === 0) return [];
  return (await db.query<ContactToAlert>(CONTACTS_TO_ALERT_SQL, [groupIds])).rows;
}

export interface GroupBrief {
  id: string;
  siteId: string;
  organisationId: string;
  name: string;
  memberIds: string[];
}

const GROUP_BRIEF_SQL = `
  SELECT g.id, g.site_id AS "siteId", g.organisation_id AS "organisationId", g.name,
         coalesce(array_agg(m.person_id) FILTER (WHERE m.person_id IS NOT NULL), '{}') AS "memberIds"
    FROM alarm_groups g LEFT JOIN alarm_group_members m ON m.group_id = g.id
   WHERE g.id = ANY($1::uuid[])
   GROUP BY g.id
   ORDER BY g.name`;

/** Groups by id with their site, organisation and members: what a link checks and shows of its receiving groups. */
export async function groupBriefs(db: Queryable, groupIds: string[]): Promise<GroupBrief[]> {
  if (groupIds.length === 0) return [];
  return (await db.query<GroupBrief>(GROUP_BRIEF_SQL, [groupIds])).rows;
}
