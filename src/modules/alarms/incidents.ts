import type { Queryable } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { canSeeOrganisation, canViewIncident, isIncidentLead, leadSiteIds, type Principal } from '../auth/policies.js';
import type { AlarmTypeSnapshot } from '../alarm-types/alarm-types.js';
import type { LinkedFrom } from '../../contract/alarms.js';
import { recipientOf } from './recipients.js';

export type IncidentState = 'active' | 'resolved' | 'cancelled';

/** What names an incident in lists, statistics and exports; `At` is how its times are written (rows: Date, answers: string). */
export interface IncidentHeading<At = Date> {
  id: string;
  siteId: string;
  siteName: string;
  typeKey: string;
  typeLabel: { sv: string; en: string };
  drill: boolean;
  state: IncidentState;
  raisedAt: At;
}

export interface Incident {
  id: string;
  organisationId: string;
  siteId: string;
  siteName: string;
  type: AlarmTypeSnapshot;
  drill: boolean;
  state: IncidentState;
  location: string | null;
  message: string | null;
  /** Null for a linked incident: a link raised it. */
  raisedBy: { id: string; name: string } | null;
  raisedAt: Date;
  lastPressedAt: Date;
  endedAt: Date | null;
  endedBy: { id: string; name: string } | null;
  endReason: string | null;
  pressers: { personId: string; name: string; pressedAt: string }[];
  recipients: number;
  /** Where a linked incident came from (another organisation's alarm over a link); null otherwise. */
  linkedFrom: LinkedFrom | null;
}

/** The incident's columns, with `recipients` as given: counted, or known. */
const incidentSelect = (recipients: string) => `
  SELECT i.id, i.organisation_id AS "organisationId", i.site_id AS "siteId", s.name AS "siteName",
         i.type_snapshot AS type, i.drill, i.state, i.location, i.message,
         CASE WHEN rb.id IS NULL THEN NULL ELSE json_build_object('id', rb.id, 'name', rb.name) END AS "raisedBy",
         i.raised_at AS "raisedAt", i.last_pressed_at AS "lastPressedAt", i.ended_at AS "endedAt",
         CASE WHEN eb.id IS NULL THEN NULL ELSE json_build_object('id', eb.id, 'name', eb.name) END AS "endedBy",
         i.end_reason AS "endReason",
         (SELECT coalesce(json_agg(json_build_object('personId', p.id, 'name', p.name, 'pressedAt', ip.pressed_at) ORDER BY ip.pressed_at), '[]')
            FROM incident_presses ip JOIN people p ON p.id = ip.person_id WHERE ip.incident_id = i.id) AS pressers,
         ${recipients} AS recipients,
         i.linked_from AS "linkedFrom"
    FROM incidents i
    JOIN sites s ON s.id = i.site_id
    LEFT JOIN people rb ON rb.id = i.raised_by
    LEFT JOIN people eb ON eb.id = i.ended_by`;
const INCIDENT_SELECT = incidentSelect('(SELECT count(*)::int FROM incident_recipients r WHERE r.incident_id = i.id)');

const INCIDENT_SQL = {
  byId: `${INCIDENT_SELECT} WHERE i.id = $1`,
  // An incident just opened, whose recipients ($2) were counted as they were written: counting them again in the
  // same transaction reads every row just inserted (6 ms of a raise to 5,000).
  opened: `${incidentSelect('$2::int')} WHERE i.id = $1`,
  brief: `
    SELECT i.id, i.organisation_id AS "organisationId", i.site_id AS "siteId", s.name AS "siteName", i.drill,
           i.type_snapshot AS type, i.location, i.state, i.raised_at AS "raisedAt", i.linked_from AS "linkedFrom"
      FROM incidents i JOIN sites s ON s.id = i.site_id WHERE i.id = $1`,
  // Incidents the person was targeted by, or leads at a site of (organisation-wide leads: every site).
  // $3: 'active' or NULL for all; $4/$5: page by raised_at.
  visible: `${INCIDENT_SELECT}
    WHERE i.organisation_id = $2
      AND ($3::incident_state IS NULL OR i.state = $3)
      AND ($4::timestamptz IS NULL OR i.raised_at < $4)
      AND (EXISTS (SELECT 1 FROM incident_recipients r WHERE r.incident_id = i.id AND r.person_id = $1)
           OR $6::boolean
           OR i.site_id = ANY($7::uuid[]))
    ORDER BY i.raised_at DESC
    LIMIT $5`,
} as const;

/** Loads an incident the caller may see; another organisation's, or one they were not part of, is not found. */
export async function visibleIncident(db: Queryable, principal: Principal, id: string): Promise<{ incident: Incident; lead: boolean }> {
  const incident = (await db.query<Incident>(INCIDENT_SQL.byId, [id])).rows[0];
  if (!incident || !canSeeOrganisation(principal, incident.organisationId)) throw new AppError('not_found');
  const site = { id: incident.siteId, organisationId: incident.organisationId };
  const recipient = await recipientOf(db, id, principal.personId);
  if (!canViewIncident(principal, site, recipient !== undefined)) throw new AppError('not_found');
  // A lead alerted as one when it was raised keeps leading it, as the recipients are frozen then.
  return { incident, lead: isIncidentLead(principal, site) || recipient?.lead === true };
}

/**
 * An incident by id. `known.recipients`: an incident this transaction has just opened, with the number of recipients
 * it wrote (not counted again).
 */
export async function loadIncident(db: Queryable, id: string, known?: { recipients: number }): Promise<Incident> {
  const [sql, params] = known ? [INCIDENT_SQL.opened, [id, known.recipients]] : [INCIDENT_SQL.byId, [id]];
  const incident = (await db.query<Incident>(sql, params)).rows[0];
  if (!incident) throw new AppError('not_found');
  return incident;
}

/** What other modules need to speak of an incident (a push's title and body, an escalation step). */
export interface IncidentBrief {
  id: string;
  organisationId: string;
  siteId: string;
  siteName: string;
  drill: boolean;
  type: AlarmTypeSnapshot;
  location: string | null;
  state: IncidentState;
  raisedAt: Date;
  /** A linked incident's origin (its pushes say where it came from); null otherwise. */
  linkedFrom: LinkedFrom | null;
}

export async function incidentBrief(db: Queryable, id: string): Promise<IncidentBrief | undefined> {
  return (await db.query<IncidentBrief>(INCIDENT_SQL.brief, [id])).rows[0];
}

/** The summary carried by live events: enough to show the alarm without another request. */
export function incidentSummary(i: Incident) {
  return {
    id: i.id,
    organisationId: i.organisationId,
    siteId: i.siteId,
    siteName: i.siteName,
    type: i.type,
    drill: i.drill,
    state: i.state,
    location: i.location,
    message: i.message,
    raisedBy: i.raisedBy,
    raisedAt: new Date(i.raisedAt).toISOString(),
    endedAt: i.endedAt ? new Date(i.endedAt).toISOString() : null,
    endedBy: i.endedBy,
    pressers: i.pressers.length,
    recipients: i.recipients,
    linkedFrom: i.linkedFrom,
  };
}

/** Incidents of the caller's organisation that they were targeted by or lead, newest first. */
export async function listIncidents(
  db: Queryable, principal: Principal, query: { state: 'active' | 'all'; before: string | null; limit: number },
): Promise<Incident[]> {
  const sites = leadSiteIds(principal, principal.organisationId);
  return (await db.query<Incident>(INCIDENT_SQL.visible, [
    principal.personId, principal.organisationId, query.state === 'active' ? 'active' : null, query.before, query.limit,
    sites === 'all', sites === 'all' ? [] : sites,
  ])).rows;
}
