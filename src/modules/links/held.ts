import type { LinkedFrom } from '../../contract/alarms.js';
import type { Queryable, Tx } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { canDecideHeldLinkedAlarm, type Principal } from '../auth/policies.js';
import { incidentBrief, loadIncident } from '../alarms/incidents.js';
import { lockSite } from '../alarms/instruction.js';
import { openLinkedIncident } from '../alarms/linked.js';
import type { AlarmPipeline, PendingChange } from '../alarms/pipeline.js';
import { visibleSite } from '../sites/sites.js';
import { auditBoth, type LinkParties } from './audit.js';
import { linkedEvent, whereFrom } from './crossing.js';
import type { Direction } from './crossing.js';

/**
 * Linked alarms held at a receiving site (docs/linking.md, "Lockdown safety"): one that contradicts the
 * site's instruction and would not override it (a fire during a lockdown) is never rung by itself. The
 * site's leads are asked; they raise it at their site (as a confirmed contradiction everyone sees) or
 * dismiss it. The source's leads see either as a change of state in their counts.
 */

export interface HeldView {
  id: string;
  at: string;
  drill: boolean;
  alarmType: { id: string; key: string; label: { sv: string; en: string }; colour: string; icon: string };
  from: { organisationName: string; siteName: string };
  location: string | null;
  /** The site's incident whose instruction it contradicts. */
  heldOnIncidentId: string | null;
}

interface HeldRow extends LinkParties {
  crossingId: string;
  direction: Direction;
  state: 'alerted' | 'held' | 'dismissed' | 'lapsed' | 'not_crossed';
  at: Date;
  drill: boolean;
  sourceIncidentId: string;
  sourceOrganisationId: string;
  sourceSiteId: string;
  receivingOrganisationId: string;
  receivingOrganisationName: string;
  receivingSiteId: string;
  receivingSiteName: string;
  heldOnIncidentId: string | null;
  sharePresserName: boolean;
}

const HELD_COLUMNS = `
  SELECT c.id AS "crossingId", c.direction, c.state, c.at, c.drill, c.source_incident_id AS "sourceIncidentId",
         c.source_organisation_id AS "sourceOrganisationId", c.source_site_id AS "sourceSiteId",
         c.receiving_organisation_id AS "receivingOrganisationId", ro.name AS "receivingOrganisationName",
         c.receiving_site_id AS "receivingSiteId", rs.name AS "receivingSiteName", c.held_on_incident_id AS "heldOnIncidentId",
         l.share_presser_name AS "sharePresserName", l.id, l.proposer_organisation_id AS "proposerOrganisationId", po.name AS "proposerName",
         l.partner_organisation_id AS "partnerOrganisationId", xo.name AS "partnerName"
    FROM link_crossings c
    JOIN links l ON l.id = c.link_id
    JOIN organisations po ON po.id = l.proposer_organisation_id
    JOIN organisations xo ON xo.id = l.partner_organisation_id
    JOIN organisations ro ON ro.id = c.receiving_organisation_id
    JOIN sites rs ON rs.id = c.receiving_site_id`;

const HELD_SQL = {
  atSite: `${HELD_COLUMNS} WHERE c.receiving_site_id = $1 AND c.state = 'held' ORDER BY c.at`,
  lock: 'SELECT id FROM link_crossings WHERE id = $1 FOR UPDATE',
  byId: `${HELD_COLUMNS} WHERE c.id = $1`,
  groups: 'SELECT group_id AS id FROM link_receiving_groups WHERE link_id = $1 AND direction = $2 AND site_id = $3',
  decide: `
    UPDATE link_crossings SET state = $2, linked_incident_id = $3, not_crossed_reason = $4, decided_by = $5, decided_at = $6, decision_reason = $7
     WHERE id = $1`,
} as const;

/** The held linked alarms at a site, for its leads. */
export async function heldAtSite(db: Queryable, principal: Principal, siteId: string): Promise<HeldView[]> {
  const site = await visibleSite(db, principal, siteId);
  if (site.organisationId !== principal.organisationId || !canDecideHeldLinkedAlarm(principal, site)) throw new AppError('forbidden');
  const rows = (await db.query<HeldRow>(HELD_SQL.atSite, [site.id])).rows;
  return Promise.all(rows.map(async (row) => {
    const source = await incidentBrief(db, row.sourceIncidentId);
    if (!source) throw new AppError('not_found');
    const { id, key, label, colour, icon } = source.type;
    return {
      id: row.crossingId, at: new Date(row.at).toISOString(), drill: row.drill, alarmType: { id, key, label, colour, icon },
      from: { organisationName: row.sourceOrganisationId === row.proposerOrganisationId ? row.proposerName : row.partnerName, siteName: source.siteName },
      location: whereFrom(source.siteName, source.location), heldOnIncidentId: row.heldOnIncidentId,
    };
  }));
}

export interface HeldDecision {
  id: string;
  state: 'alerted' | 'dismissed' | 'not_crossed';
  linkedIncidentId: string | null;
}

/**
 * A held alarm of the caller's site, locked: another organisation's, or one they do not lead, is refused.
 * The site is locked before the crossing, in the order the source's all clear takes them (it lapses held ones).
 */
async function heldForDecision(tx: Tx, principal: Principal, id: string): Promise<HeldRow> {
  const peek = (await tx.query<HeldRow>(HELD_SQL.byId, [id])).rows[0];
  if (!peek || peek.receivingOrganisationId !== principal.organisationId) throw new AppError('not_found');
  await lockSite(tx, peek.receivingSiteId);
  await tx.query(HELD_SQL.lock, [id]);
  const row = (await tx.query<HeldRow>(HELD_SQL.byId, [id])).rows[0] as HeldRow;
  if (!canDecideHeldLinkedAlarm(principal, { id: row.receivingSiteId, organisationId: row.receivingOrganisationId })) {
    throw new AppError('forbidden', { sv: 'Bara platsens krisledning och rektor beslutar om larm från andra organisationer.', en: "Only the site's crisis leads and rektor decide on alarms from other organisations." });
  }
  if (row.state !== 'held') throw new AppError('linked_alarm_not_held', undefined, { state: row.state });
  return row;
}

const sourceOf = (row: HeldRow) => ({ incidentId: row.sourceIncidentId, organisationId: row.sourceOrganisationId, siteId: row.sourceSiteId, drill: row.drill });

/**
 * A receiving lead raises the held alarm at their site now: everyone the link reaches there gets it,
 * as a confirmed contradiction (shown as a change; the site's instruction follows precedence, so a
 * lockdown still holds and nothing rings out loud during it).
 */
export async function confirmHeld(pipeline: AlarmPipeline, clock: Clock, principal: Principal, id: string, requestId: string): Promise<HeldDecision> {
  return (await pipeline.run(async (tx) => {
    const row = await heldForDecision(tx, principal, id);
    const source = await loadIncident(tx, row.sourceIncidentId);
    const now = clock.now();
    const organisationName = row.sourceOrganisationId === row.proposerOrganisationId ? row.proposerName : row.partnerName;
    const from: LinkedFrom = {
      linkId: row.id, incidentId: source.id, organisationId: source.organisationId, organisationName, siteName: source.siteName,
      pressedBy: row.sharePresserName ? (source.raisedBy?.name ?? null) : null, test: false,
    };
    const groupIds = (await tx.query<{ id: string }>(HELD_SQL.groups, [row.id, row.direction, row.receivingSiteId])).rows.map((g) => g.id);
    const outcome = await openLinkedIncident(tx, {
      site: { id: row.receivingSiteId, organisationId: row.receivingOrganisationId }, type: source.type, drill: source.drill,
      location: whereFrom(source.siteName, source.location), at: now, from, groupIds, confirmedBy: principal.personId,
    });
    const change: PendingChange = { events: [] };
    const decision: HeldDecision = outcome.kind === 'raised'
      ? { id, state: 'alerted', linkedIncidentId: outcome.opened.incident.id }
      : { id, state: 'not_crossed', linkedIncidentId: null };
    await tx.query(HELD_SQL.decide, [
      id, decision.state, decision.linkedIncidentId, outcome.kind === 'not_crossed' ? outcome.reason : null, principal.personId, now, null,
    ]);
    if (outcome.kind === 'raised') {
      change.events.push(...outcome.opened.events);
      change.newIncidents = [{ incident: outcome.opened.incident, recipients: outcome.opened.recipients }];
    }
    change.events.push(linkedEvent(sourceOf(row), {
      crossingId: id, organisationName: row.receivingOrganisationName, siteName: row.receivingSiteName,
      state: decision.state === 'alerted' ? 'active' : 'not_crossed',
    }, now));
    await auditBoth(tx, row, principal, 'link.held_alarm_confirmed', { crossingId: id, state: decision.state, linkedIncidentId: decision.linkedIncidentId }, requestId);
    return { result: decision, change };
  }, 'await')).result;
}

/** A receiving lead declines the held alarm (its reason stays on their side); the source's leads see it dismissed. */
export async function dismissHeld(
  pipeline: AlarmPipeline, clock: Clock, principal: Principal, id: string, reason: string | null, requestId: string,
): Promise<HeldDecision> {
  return (await pipeline.run(async (tx) => {
    const row = await heldForDecision(tx, principal, id);
    const now = clock.now();
    await tx.query(HELD_SQL.decide, [id, 'dismissed', null, null, principal.personId, now, reason]);
    const change: PendingChange = {
      events: [linkedEvent(sourceOf(row), { crossingId: id, organisationName: row.receivingOrganisationName, siteName: row.receivingSiteName, state: 'dismissed' }, now)],
    };
    await auditBoth(tx, row, principal, 'link.held_alarm_dismissed', { crossingId: id }, requestId, { reason });
    return { result: { id, state: 'dismissed' as const, linkedIncidentId: null }, change };
  }, 'await')).result;
}
