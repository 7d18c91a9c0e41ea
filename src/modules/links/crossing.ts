import type { LinkedCounts, LinkedFrom } from '../../contract/alarms.js';
import type { Queryable } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import type { AlarmTypeSnapshot } from '../alarm-types/alarm-types.js';
import type { NewEvent } from '../alarms/events.js';
import type { incidentSummary } from '../alarms/incidents.js';
import { endLinkedIncident, followInstruction, openLinkedIncident, type LinkedOutcome } from '../alarms/linked.js';
import type { PendingChange } from '../alarms/pipeline.js';
import { rollCallCounts } from '../alarms/rollcall.js';
import { auditBoth, type LinkParties } from './audit.js';
import { SITE_LEGS } from './site-legs.js';

/** The way an alarm crosses a link: from the proposer's sites to the partner's, or back. */
export const DIRECTIONS = ['to_partner', 'to_proposer'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/**
 * The alarm pipeline's `cross-links` step (docs/linking.md), in the transaction of the change:
 * - a new alarm at a linked site raises a linked incident at each receiving site of every active link
 *   whose pair and alarm type match (or holds it for the receiving leads, or records why it could not
 *   cross), with the receiving organisation's own recipients, leads and pushes, committed with the
 *   alarm or not at all (invariant 1); linked incidents never cross further;
 * - a source's instructions and its all clear (or cancel) follow to its linked incidents;
 * - a linked incident its own leads end before the source's all clear needs a reason, and the source
 *   learns it as a change of counts.
 * Every crossing is audited on both sides with the link's id.
 */

type IncidentSummary = ReturnType<typeof incidentSummary>;

interface Rule extends LinkParties {
  direction: Direction;
  receivingSiteId: string;
  receivingSiteName: string;
  sharePresserName: boolean;
  groupIds: string[];
}

const PARTIES = `
  l.id, l.proposer_organisation_id AS "proposerOrganisationId", po.name AS "proposerName",
  l.partner_organisation_id AS "partnerOrganisationId", xo.name AS "partnerName"`;

const CROSSING_SQL = {
  // Every raise asks this: the active links pairing its site with a site of the other side where its
  // type crosses in that direction, with the groups the receiving side chose there. Served by the
  // pairs' site indexes; a site without links costs two index probes. Names and groups are looked up
  // per rule rather than joined: planning a join of eight tables took PostgreSQL ~0.9 ms of every raise,
  // twenty times the probes themselves (docs/PERFORMANCE.md, 2026-12-04 evening).
  rules: `
    SELECT l.id, l.proposer_organisation_id AS "proposerOrganisationId",
           (SELECT name FROM organisations WHERE id = l.proposer_organisation_id) AS "proposerName",
           l.partner_organisation_id AS "partnerOrganisationId",
           (SELECT name FROM organisations WHERE id = l.partner_organisation_id) AS "partnerName",
           x.direction, x.receiving_site_id AS "receivingSiteId", rs.name AS "receivingSiteName",
           l.share_presser_name AS "sharePresserName",
           ARRAY(SELECT rg.group_id FROM link_receiving_groups rg
                  WHERE rg.link_id = l.id AND rg.direction = x.direction AND rg.site_id = x.receiving_site_id) AS "groupIds"
      FROM ${SITE_LEGS}
      JOIN links l ON l.id = x.link_id AND l.status = 'active'
      JOIN sites rs ON rs.id = x.receiving_site_id
     WHERE EXISTS (SELECT 1 FROM link_alarm_types t WHERE t.link_id = l.id AND t.direction = x.direction AND t.alarm_type_id = $2)
     ORDER BY rs.name, l.id`,
  insert: `
    INSERT INTO link_crossings (link_id, direction, source_incident_id, source_organisation_id, source_site_id, receiving_organisation_id,
                                receiving_site_id, alarm_type_id, drill, test, state, not_crossed_reason, linked_incident_id,
                                held_on_incident_id, decided_by, decided_at, at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    RETURNING id`,
  // The crossings of incidents whose change may follow them: as a source (alerted or held), or as a linked incident.
  under: `
    SELECT c.id AS "crossingId", c.source_incident_id AS "sourceIncidentId", c.linked_incident_id AS "linkedIncidentId", c.state, c.test,
           c.drill, c.source_organisation_id AS "sourceOrganisationId", c.source_site_id AS "sourceSiteId", ss.name AS "sourceSiteName",
           c.receiving_organisation_id AS "receivingOrganisationId", ro.name AS "receivingOrganisationName", rs.name AS "receivingSiteName",
           si.state = 'active' AS "sourceActive", ${PARTIES}
      FROM link_crossings c
      LEFT JOIN alarm_incidents si ON si.id = c.source_incident_id
      JOIN sites ss ON ss.id = c.source_site_id
      JOIN sites rs ON rs.id = c.receiving_site_id
      JOIN organisations ro ON ro.id = c.receiving_organisation_id
      JOIN links l ON l.id = c.link_id
      JOIN organisations po ON po.id = l.proposer_organisation_id
      JOIN organisations xo ON xo.id = l.partner_organisation_id
     WHERE (c.source_incident_id = ANY($1::uuid[]) AND c.state IN ('alerted', 'held')) OR c.linked_incident_id = ANY($1::uuid[])`,
  lapse: "UPDATE link_crossings SET state = 'lapsed', decided_at = $2 WHERE id = $1 AND state = 'held'",
  endedEarly: 'UPDATE link_crossings SET ended_early_at = $2, ended_early_by = $3 WHERE id = $1',
  // The sites a raise at $1 may reach: the other end of its active links' pairs.
  linkedSitesOfSite: `
    SELECT p.partner_site_id AS id FROM link_site_pairs p JOIN links l ON l.id = p.link_id AND l.status = 'active' WHERE p.proposer_site_id = $1
    UNION
    SELECT p.proposer_site_id FROM link_site_pairs p JOIN links l ON l.id = p.link_id AND l.status = 'active' WHERE p.partner_site_id = $1`,
  // The sites an incident's instructions and all clear reach: where it crossed and is still under way.
  linkedSitesOfIncident: "SELECT DISTINCT receiving_site_id AS id FROM link_crossings WHERE source_incident_id = $1 AND state IN ('alerted', 'held')",
  ofSource: `
    SELECT c.id AS "crossingId", c.receiving_organisation_id AS "organisationId", o.name AS "organisationName", s.name AS "siteName",
           c.state, c.linked_incident_id AS "linkedIncidentId", i.state AS "incidentState", c.ended_early_at IS NOT NULL AS "endedEarly"
      FROM link_crossings c
      JOIN organisations o ON o.id = c.receiving_organisation_id
      JOIN sites s ON s.id = c.receiving_site_id
      LEFT JOIN alarm_incidents i ON i.id = c.linked_incident_id
     WHERE c.source_incident_id = $1
     ORDER BY o.name, s.name, c.at`,
} as const;

type CrossingState = 'alerted' | 'held' | 'dismissed' | 'lapsed' | 'not_crossed';

interface UnderWay extends LinkParties {
  crossingId: string;
  sourceIncidentId: string | null;
  linkedIncidentId: string | null;
  state: CrossingState;
  test: boolean;
  drill: boolean;
  sourceOrganisationId: string;
  sourceSiteId: string;
  sourceSiteName: string;
  receivingOrganisationId: string;
  receivingOrganisationName: string;
  receivingSiteName: string;
  /** The source is still active (a linked incident ended now ends before it). */
  sourceActive: boolean | null;
}

/** One crossing as it happened: what the link carried, from where, to where, and what became of it. */
export interface Crossing {
  link: LinkParties;
  direction: Direction;
  source: { incidentId: string | null; organisationId: string; siteId: string; drill: boolean; actorPersonId: string | null };
  receiving: { organisationId: string; organisationName: string; siteId: string; siteName: string };
  alarmTypeId: string;
  drill: boolean;
  test: boolean;
  outcome: LinkedOutcome;
  at: Date;
  /** A receiving lead decided it (a held alarm confirmed). */
  decidedBy?: string;
}

const STATE_OF: Record<LinkedOutcome['kind'], CrossingState> = { raised: 'alerted', held: 'held', not_crossed: 'not_crossed' };

/** The organisation on the side that sends in a direction, and the one that receives. */
export function ends(link: LinkParties, direction: Direction) {
  const [from, to] = direction === 'to_partner' ? ['proposer', 'partner'] as const : ['partner', 'proposer'] as const;
  const side = (s: 'proposer' | 'partner') => (s === 'proposer'
    ? { organisationId: link.proposerOrganisationId, name: link.proposerName }
    : { organisationId: link.partnerOrganisationId, name: link.partnerName });
  return { from: side(from), to: side(to) };
}

/** "Vasaskolan, Sal 204": where it happened, as told at the receiving site. */
export const whereFrom = (siteName: string, location: string | null) => (location ? `${siteName}, ${location}` : siteName);

/** An event on the source incident for its leads: what became of the alarm at a linked site. */
export function linkedEvent(
  source: { incidentId: string; organisationId: string; siteId: string; drill: boolean },
  data: { crossingId: string; organisationName: string; siteName: string; state: LinkedCounts['state'] },
  at: Date,
): NewEvent {
  return {
    incidentId: source.incidentId, organisationId: source.organisationId, siteId: source.siteId, drill: source.drill,
    type: 'linked', audience: 'leads', actorPersonId: null, data, at,
  };
}

/**
 * Records a crossing and adds to the change what it caused: the linked incident's events and
 * recipients, the receiving leads' ask for a held one, the source leads' note, the audit on both sides.
 */
export async function recordCrossing(tx: Queryable, change: PendingChange, crossing: Crossing): Promise<{ id: string; state: CrossingState }> {
  const { outcome, source, receiving } = crossing;
  const state = STATE_OF[outcome.kind];
  const linkedIncidentId = outcome.kind === 'raised' ? outcome.opened.incident.id : null;
  const { id } = (await tx.query<{ id: string }>(CROSSING_SQL.insert, [
    crossing.link.id, crossing.direction, source.incidentId, source.organisationId, source.siteId, receiving.organisationId, receiving.siteId,
    crossing.alarmTypeId, crossing.drill, crossing.test, state, outcome.kind === 'not_crossed' ? outcome.reason : null, linkedIncidentId,
    outcome.kind === 'held' ? outcome.on.incidentId : null, crossing.decidedBy ?? null, crossing.decidedBy ? crossing.at : null, crossing.at,
  ])).rows[0] as { id: string };
  if (outcome.kind === 'raised') {
    change.events.push(...outcome.opened.events);
    change.newIncidents = [...(change.newIncidents ?? []), { incident: outcome.opened.incident, recipients: outcome.opened.recipients }];
  }
  if (outcome.kind === 'held') {
    // Asked where the receiving leads already are: the incident whose instruction it contradicts.
    change.events.push({
      incidentId: outcome.on.incidentId, organisationId: receiving.organisationId, siteId: receiving.siteId, drill: outcome.on.drill,
      type: 'link_held', audience: 'leads', actorPersonId: null, at: crossing.at,
      data: { crossingId: id, organisationName: ends(crossing.link, crossing.direction).from.name, alarmTypeId: crossing.alarmTypeId, drill: crossing.drill },
    });
  }
  if (source.incidentId) {
    change.events.push(linkedEvent({ ...source, incidentId: source.incidentId }, {
      crossingId: id, organisationName: receiving.organisationName, siteName: receiving.siteName, state: state === 'alerted' ? 'active' : state,
    }, crossing.at));
  }
  const actor = source.actorPersonId ? { personId: source.actorPersonId, organisationId: source.organisationId } : null;
  await auditBoth(tx, crossing.link, crossing.decidedBy ? { personId: crossing.decidedBy, organisationId: receiving.organisationId } : actor,
    crossing.test ? 'link.test_sent' : crossing.decidedBy ? 'link.held_alarm_confirmed' : 'link.alarm_crossed', {
      crossingId: id, state, sourceIncidentId: source.incidentId, linkedIncidentId, receivingSite: receiving.siteName,
      alarmTypeId: crossing.alarmTypeId, drill: crossing.drill, ...(outcome.kind === 'not_crossed' ? { reason: outcome.reason } : {}),
    }, null);
  return { id, state };
}

/** The pipeline step. Reacts only to the events the change brought (not to those it adds itself). */
export async function crossLinks(tx: Queryable, change: PendingChange): Promise<void> {
  const events = [...change.events];
  for (const event of events) {
    if (event.type === 'raised') await crossRaise(tx, change, event);
  }
  await follow(tx, change, events.filter((e) => e.type === 'message' || e.type === 'resolved' || e.type === 'cancelled'));
}

async function crossRaise(tx: Queryable, change: PendingChange, raised: NewEvent): Promise<void> {
  const incident = raised.data.incident as IncidentSummary | undefined;
  // Linked incidents do not cross further: no chains.
  if (!incident || incident.linkedFrom) return;
  // A raise that found no site linked to its own (and locked none) has no link to cross: its rules are not read.
  if (change.newIncidents?.find((opened) => opened.incident.id === incident.id)?.linkedSites?.length === 0) return;
  const rules = (await tx.query<Rule>(CROSSING_SQL.rules, [incident.siteId, incident.type.id])).rows;
  for (const rule of rules) {
    const { from, to } = ends(rule, rule.direction);
    const linkedFrom: LinkedFrom = {
      linkId: rule.id, incidentId: incident.id, organisationId: incident.organisationId, organisationName: from.name,
      siteName: incident.siteName, pressedBy: rule.sharePresserName ? (incident.raisedBy?.name ?? null) : null, test: false,
    };
    const outcome = await openLinkedIncident(tx, {
      site: { id: rule.receivingSiteId, organisationId: to.organisationId }, type: incident.type as AlarmTypeSnapshot, drill: incident.drill,
      location: whereFrom(incident.siteName, incident.location), at: raised.at, from: linkedFrom, groupIds: rule.groupIds,
    });
    await recordCrossing(tx, change, {
      link: rule, direction: rule.direction, alarmTypeId: incident.type.id, drill: incident.drill, test: false, outcome, at: raised.at,
      source: { incidentId: incident.id, organisationId: incident.organisationId, siteId: incident.siteId, drill: incident.drill, actorPersonId: raised.actorPersonId },
      receiving: { organisationId: to.organisationId, organisationName: to.name, siteId: rule.receivingSiteId, siteName: rule.receivingSiteName },
    });
  }
}

const END_REASON = {
  resolved: (site: string) => `Faran över enligt ${site}`,
  cancelled: (site: string) => `Larmet återkallades av ${site}`,
} as const;

async function follow(tx: Queryable, change: PendingChange, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const crossings = (await tx.query<UnderWay>(CROSSING_SQL.under, [[...new Set(events.map((e) => e.incidentId))]])).rows;
  if (crossings.length === 0) return;
  for (const event of events) {
    for (const c of crossings.filter((x) => x.sourceIncidentId === event.incidentId)) {
      if (event.type === 'message' && c.state === 'alerted' && c.linkedIncidentId) {
        change.events.push(...await followInstruction(tx, c.linkedIncidentId, {
          authorId: String(event.data.authorId), body: String(event.data.body), at: event.at,
        }));
      }
      if (event.type !== 'resolved' && event.type !== 'cancelled') continue;
      if (c.state === 'alerted' && c.linkedIncidentId) {
        change.events.push(...await endLinkedIncident(tx, c.linkedIncidentId, {
          outcome: event.type, reason: END_REASON[event.type](c.sourceSiteName), at: event.at, by: event.actorPersonId as string,
        }));
      }
      if (c.state === 'held') await tx.query(CROSSING_SQL.lapse, [c.crossingId, event.at]);
    }
    const linked = crossings.find((x) => x.linkedIncidentId === event.incidentId);
    if (linked && (event.type === 'resolved' || event.type === 'cancelled') && event.actorPersonId) await endedEarly(tx, change, linked, event);
  }
}

/**
 * The receiving leads ended their linked incident before the source's all clear: allowed, with a
 * reason, which stays on their side; the source's leads see the state change in their counts. (After the
 * source's end, one kept going by a press of their own is simply theirs to end.)
 */
async function endedEarly(tx: Queryable, change: PendingChange, crossing: UnderWay, event: NewEvent): Promise<void> {
  if (crossing.test || !crossing.sourceIncidentId || !crossing.sourceActive) return;
  const reason = typeof event.data.reason === 'string' ? event.data.reason.trim() : '';
  if (!reason) throw new AppError('linked_end_needs_reason');
  await tx.query(CROSSING_SQL.endedEarly, [crossing.crossingId, event.at, event.actorPersonId]);
  const source = { incidentId: crossing.sourceIncidentId, organisationId: crossing.sourceOrganisationId, siteId: crossing.sourceSiteId, drill: crossing.drill };
  change.events.push(linkedEvent(source, {
    crossingId: crossing.crossingId, organisationName: crossing.receivingOrganisationName, siteName: crossing.receivingSiteName, state: 'ended_early',
  }, event.at));
  await auditBoth(tx, crossing, { personId: event.actorPersonId as string, organisationId: crossing.receivingOrganisationId }, 'link.linked_alarm_ended_early', {
    crossingId: crossing.crossingId, linkedIncidentId: crossing.linkedIncidentId,
  }, null, { reason });
}

/** The `linkedSites` source: what a change at a site (or of an incident) must lock with it. */
export async function linkedSites(db: Queryable, siteId: string, incidentId: string | null): Promise<string[]> {
  const rows = incidentId === null
    ? (await db.query<{ id: string }>(CROSSING_SQL.linkedSitesOfSite, [siteId])).rows
    : (await db.query<{ id: string }>(CROSSING_SQL.linkedSitesOfIncident, [incidentId])).rows;
  return rows.map((r) => r.id);
}

interface SourceRow {
  crossingId: string;
  organisationId: string;
  organisationName: string;
  siteName: string;
  state: CrossingState;
  linkedIncidentId: string | null;
  incidentState: 'active' | 'resolved' | 'cancelled' | null;
  endedEarly: boolean;
}

/**
 * What became of an incident at the organisations it crossed to, per receiving site: its state and the
 * linked incident's roll-call counts, never names. The source's roll call shows it; the review reads it.
 */
export async function linkedCountsFor(db: Queryable, sourceIncidentId: string): Promise<LinkedCounts[]> {
  const rows = (await db.query<SourceRow>(CROSSING_SQL.ofSource, [sourceIncidentId])).rows;
  if (rows.length === 0) return [];
  const counts = await rollCallCounts(db, rows.flatMap((r) => (r.linkedIncidentId ? [r.linkedIncidentId] : [])));
  return rows.map((r) => ({
    crossingId: r.crossingId, organisationId: r.organisationId, organisationName: r.organisationName, siteName: r.siteName,
    state: linkedState(r), counts: r.linkedIncidentId ? (counts.get(r.linkedIncidentId) ?? null) : null,
  }));
}

/** What became of a crossing, as the source side reads it: an alerted one by its linked incident's state. */
export function linkedState(r: Pick<SourceRow, 'state' | 'incidentState' | 'endedEarly'>): LinkedCounts['state'] {
  if (r.state !== 'alerted') return r.state;
  if (r.incidentState === 'active') return 'active';
  return r.endedEarly ? 'ended_early' : 'ended';
}
