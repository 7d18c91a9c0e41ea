import type { Queryable } from '../../db/pool.js';

/** A person's place in alarm groups as personal data: what their export shows, and what erasure removes. */
const GROUP_PERSONAL_DATA_SQL = {
  memberships: `
    SELECT g.id, g.name, g.site_id AS "siteId", s.name AS "siteName"
      FROM alarm_group_members m JOIN alarm_groups g ON g.id = m.group_id JOIN sites s ON s.id = g.site_id
     WHERE m.person_id = $1 ORDER BY s.name, g.name, g.id`,
  contactFor: `
    SELECT g.id AS "groupId", g.name AS "groupName", s.name AS "siteName", c.position
      FROM alarm_group_escalation_contacts c JOIN alarm_groups g ON g.id = c.group_id JOIN sites s ON s.id = g.site_id
     WHERE c.person_id = $1 ORDER BY s.name, g.name, c.position`,
  removeMemberships: 'DELETE FROM alarm_group_members WHERE person_id = $1',
  removeContacts: 'DELETE FROM alarm_group_escalation_contacts WHERE person_id = $1',
} as const;

export interface GroupMembership {
  id: string;
  name: string;
  siteId: string;
  siteName: string;
}

export interface ContactEntry {
  groupId: string;
  groupName: string;
  siteName: string;
  position: number;
}

export async function groupsOf(db: Queryable, personId: string): Promise<{ memberships: GroupMembership[]; escalationContactFor: ContactEntry[] }> {
  return {
    memberships: (await db.query<GroupMembership>(GROUP_PERSONAL_DATA_SQL.memberships, [personId])).rows,
    escalationContactFor: (await db.query<ContactEntry>(GROUP_PERSONAL_DATA_SQL.contactFor, [personId])).rows,
  };
}

/** Erasure: the person leaves every alarm group and is no group's escalation contact any more. */
export async function forgetGroupPlaces(tx: Queryable, personId: string): Promise<{ groupMemberships: number; escalationContacts: number }> {
  return {
    groupMemberships: (await tx.query(GROUP_PERSONAL_DATA_SQL.removeMemberships, [personId])).rowCount ?? 0,
    escalationContacts: (await tx.query(GROUP_PERSONAL_DATA_SQL.removeContacts, [personId])).rowCount ?? 0,
  };
}
