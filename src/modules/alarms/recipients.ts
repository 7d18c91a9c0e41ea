import type { Queryable } from '../../db/pool.js';
import { ALERTED_LEAD_ROLES } from '../auth/policies.js';

/**
 * Who an incident targets: frozen when it is raised (only people who press it later are added).
 * The alarm module owns `incident_recipients`; everything that reads or writes it goes through here
 * (or, for set-based joins in other modules' SQL, through the `alarm_recipients` view of migration 010).
 */
export interface RecipientRow {
  personId: string;
  lead: boolean;
  presser: boolean;
}

const RECIPIENT_SQL = {
  // Who is targeted: members of the site's groups that receive the type (or, for a linked incident,
  // of the groups the receiving side chose for the link: $7), the site's alerted leads (crisis leads
  // and rektorer of the site or of every site: ALERTED_LEAD_ROLES), and whoever pressed ($5, none for
  // a linked incident). One statement for any number of people: a school is hundreds, an
  // organisation-wide alarm thousands.
  insert: `
    INSERT INTO incident_recipients (incident_id, person_id, organisation_id, lead, via_groups)
    SELECT $1, x.person_id, $2, bool_or(x.lead), coalesce(array_agg(DISTINCT x.group_id) FILTER (WHERE x.group_id IS NOT NULL), '{}')
      FROM (
        SELECT m.person_id, false AS lead, g.id AS group_id
          FROM alarm_groups g
          JOIN alarm_group_members m ON m.group_id = g.id
         WHERE g.site_id = $3
           AND CASE WHEN $7::uuid[] IS NULL
                    THEN EXISTS (SELECT 1 FROM alarm_group_types gt WHERE gt.group_id = g.id AND gt.alarm_type_id = $4 AND gt.receives)
                    ELSE g.id = ANY($7::uuid[]) END
        UNION ALL
        SELECT r.person_id, true, NULL
          FROM role_assignments r JOIN people p ON p.id = r.person_id
         WHERE p.organisation_id = $2 AND r.role = ANY($6::role_name[]) AND (r.site_id IS NULL OR r.site_id = $3)
        UNION ALL
        SELECT $5::uuid, false, NULL WHERE $5::uuid IS NOT NULL
      ) x
     -- Each candidate is checked by primary key, not joined: a join let the planner, with statistics not yet
     -- updated after staff were added ("this organisation has one person"), pair every candidate with every
     -- person (test/recipients.test.ts).
     WHERE (SELECT p.active AND p.organisation_id = $2 FROM people p WHERE p.id = x.person_id)
     GROUP BY x.person_id
    RETURNING person_id AS "personId", lead, coalesce(person_id = $5::uuid, false) AS presser`,
  addPresser: `
    INSERT INTO incident_recipients (incident_id, person_id, organisation_id, lead)
    VALUES ($1, $2, $3, false) ON CONFLICT DO NOTHING`,
  one: 'SELECT lead FROM incident_recipients WHERE incident_id = $1 AND person_id = $2',
  all: `
    SELECT r.person_id AS "personId", r.lead,
           EXISTS (SELECT 1 FROM incident_presses p WHERE p.incident_id = r.incident_id AND p.person_id = r.person_id) AS presser
      FROM incident_recipients r WHERE r.incident_id = $1`,
  // Recipients none of whose devices has confirmed, and who did not press it themselves.
  unreached: `
    SELECT r.person_id AS "personId", p.name
      FROM incident_recipients r JOIN people p ON p.id = r.person_id
     WHERE r.incident_id = $1 AND r.delivered_at IS NULL AND r.acknowledged_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM incident_presses ip WHERE ip.incident_id = r.incident_id AND ip.person_id = r.person_id)
     ORDER BY p.name`,
  viaGroups: 'SELECT DISTINCT unnest(via_groups) AS id FROM incident_recipients WHERE incident_id = $1',
} as const;

/**
 * Who a new incident reaches, besides the site's alerted leads: a press reaches the groups that receive
 * the type, and the presser; a linked incident the groups its site's organisation chose for the link.
 */
export type Reach = { presserId: string } | { linkGroupIds: string[] };

/** Freezes a new incident's recipients; returns them as written. */
export async function insertRecipients(
  tx: Queryable, incident: { id: string; organisationId: string; siteId: string; alarmTypeId: string }, reach: Reach,
): Promise<RecipientRow[]> {
  const [presser, groups] = 'presserId' in reach ? [reach.presserId, null] : [null, reach.linkGroupIds];
  return (await tx.query<RecipientRow>(RECIPIENT_SQL.insert, [
    incident.id, incident.organisationId, incident.siteId, incident.alarmTypeId, presser, ALERTED_LEAD_ROLES, groups,
  ])).rows;
}

/** A press that joins an incident makes the presser one of its recipients; true when they were not before. */
export async function addPresser(tx: Queryable, incident: { id: string; organisationId: string }, personId: string): Promise<boolean> {
  return Boolean((await tx.query(RECIPIENT_SQL.addPresser, [incident.id, personId, incident.organisationId])).rowCount);
}

/** The person's place in the incident: undefined when it did not target them. */
export async function recipientOf(db: Queryable, incidentId: string, personId: string): Promise<{ lead: boolean } | undefined> {
  return (await db.query<{ lead: boolean }>(RECIPIENT_SQL.one, [incidentId, personId])).rows[0];
}

/** Everyone the incident targets, as the fan-out needs them. */
export async function recipientsOf(db: Queryable, incidentId: string): Promise<RecipientRow[]> {
  return (await db.query<RecipientRow>(RECIPIENT_SQL.all, [incidentId])).rows;
}

/** Recipients no device of whom has confirmed yet (pressers aside): whom escalation reminds. */
export async function unreachedRecipients(db: Queryable, incidentId: string): Promise<{ personId: string; name: string }[]> {
  return (await db.query<{ personId: string; name: string }>(RECIPIENT_SQL.unreached, [incidentId])).rows;
}

/** The alarm groups through which the incident reached someone. */
export async function groupsReached(db: Queryable, incidentId: string): Promise<string[]> {
  return (await db.query<{ id: string }>(RECIPIENT_SQL.viaGroups, [incidentId])).rows.map((r) => r.id);
}
