import type { LinkedFrom } from '../../contract/alarms.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { usableAlarmType } from '../alarm-types/alarm-types.js';
import { canTestLink, type Principal } from '../auth/policies.js';
import { lockSites } from '../alarms/instruction.js';
import { endLinkedIncident, openLinkedIncident } from '../alarms/linked.js';
import type { AlarmPipeline, PendingChange } from '../alarms/pipeline.js';
import { ends, recordCrossing } from './crossing.js';
import { outgoing, receiverOf, visibleLink } from './links.js';

/**
 * A link test: a drill sent over the link from the caller's side to each paired site of the other side,
 * the real path end to end (recipients, pushes, receipts, answers), marked as a test and a drill
 * everywhere. It crosses only into a site where nothing is active. The other side's leads end it as
 * any drill; a new test from the same side ends the previous one. The tester sees the counts on the link.
 */

export interface LinkTestResult {
  sites: { crossingId: string; siteName: string; state: 'alerted' | 'not_crossed'; linkedIncidentId: string | null }[];
}

const LINK_TEST_SQL = {
  types: 'SELECT alarm_type_id AS id FROM link_alarm_types WHERE link_id = $1 AND direction = $2',
  pairs: `
    SELECT p.proposer_site_id AS "proposerSiteId", ps.name AS "proposerSiteName", p.partner_site_id AS "partnerSiteId", xs.name AS "partnerSiteName"
      FROM link_site_pairs p JOIN sites ps ON ps.id = p.proposer_site_id JOIN sites xs ON xs.id = p.partner_site_id
     WHERE p.link_id = $1 ORDER BY xs.name, ps.name`,
  groups: 'SELECT group_id AS "groupId", site_id AS "siteId" FROM link_receiving_groups WHERE link_id = $1 AND direction = $2',
  // Earlier tests from this side still running: a new test ends them.
  running: `
    SELECT c.linked_incident_id AS id FROM link_crossings c JOIN alarm_incidents i ON i.id = c.linked_incident_id
     WHERE c.link_id = $1 AND c.direction = $2 AND c.test AND i.state = 'active'`,
} as const;

export async function sendLinkTest(
  pipeline: AlarmPipeline, clock: Clock, principal: Principal, linkId: string, alarmTypeId: string | null,
): Promise<LinkTestResult> {
  return (await pipeline.run(async (tx) => {
    const { link, side } = await visibleLink(tx, principal, linkId, true);
    if (!canTestLink(principal, principal.organisationId)) throw new AppError('forbidden');
    if (link.status !== 'active') throw new AppError('link_status_conflict', undefined, { status: link.status });
    const direction = outgoing(side);
    const types = (await tx.query<{ id: string }>(LINK_TEST_SQL.types, [link.id, direction])).rows.map((t) => t.id);
    if (types.length === 0) {
      throw new AppError('validation_failed', { sv: 'Inga larm går över från er sida av avtalet.', en: 'No alarms cross from your side of the link.' });
    }
    const typeId = alarmTypeId ?? (types[0] as string);
    const type = types.includes(typeId) ? await usableAlarmType(tx, typeId, principal.organisationId) : undefined;
    if (!type) throw new AppError('invalid_reference', { sv: 'Den larmtypen går inte över avtalet.', en: 'That alarm type does not cross the link.' });
    const pairs = (await tx.query<{ proposerSiteId: string; proposerSiteName: string; partnerSiteId: string; partnerSiteName: string }>(
      LINK_TEST_SQL.pairs, [link.id],
    )).rows;
    const receivesAtPartner = receiverOf(direction) === 'partner';
    const legs = pairs.map((p) => (receivesAtPartner
      ? { fromSite: { id: p.proposerSiteId, name: p.proposerSiteName }, toSite: { id: p.partnerSiteId, name: p.partnerSiteName } }
      : { fromSite: { id: p.partnerSiteId, name: p.partnerSiteName }, toSite: { id: p.proposerSiteId, name: p.proposerSiteName } }));
    await lockSites(tx, legs.map((l) => l.toSite.id));
    const now = clock.now();
    const change: PendingChange = { events: [] };
    for (const { id } of (await tx.query<{ id: string }>(LINK_TEST_SQL.running, [link.id, direction])).rows) {
      change.events.push(...await endLinkedIncident(tx, id, { outcome: 'resolved', reason: 'Testet är avslutat', at: now, by: principal.personId }));
    }
    const groups = (await tx.query<{ groupId: string; siteId: string }>(LINK_TEST_SQL.groups, [link.id, direction])).rows;
    const { from, to } = ends(link, direction);
    const sites: LinkTestResult['sites'] = [];
    // One test per receiving site, from the first of its pairs.
    const reached = new Set<string>();
    for (const leg of legs) {
      if (reached.has(leg.toSite.id)) continue;
      reached.add(leg.toSite.id);
      const linkedFrom: LinkedFrom = {
        linkId: link.id, incidentId: null, organisationId: from.organisationId, organisationName: from.name, siteName: leg.fromSite.name,
        pressedBy: null, test: true,
      };
      const outcome = await openLinkedIncident(tx, {
        site: { id: leg.toSite.id, organisationId: to.organisationId }, type, drill: true, location: leg.fromSite.name, at: now, from: linkedFrom,
        groupIds: groups.filter((g) => g.siteId === leg.toSite.id).map((g) => g.groupId),
      });
      const crossing = await recordCrossing(tx, change, {
        link, direction, alarmTypeId: type.id, drill: true, test: true, outcome, at: now,
        source: { incidentId: null, organisationId: from.organisationId, siteId: leg.fromSite.id, drill: true, actorPersonId: principal.personId },
        receiving: { organisationId: to.organisationId, organisationName: to.name, siteId: leg.toSite.id, siteName: leg.toSite.name },
      });
      sites.push({
        crossingId: crossing.id, siteName: leg.toSite.name, state: outcome.kind === 'raised' ? 'alerted' : 'not_crossed',
        linkedIncidentId: outcome.kind === 'raised' ? outcome.opened.incident.id : null,
      });
    }
    return { result: { sites }, change };
  }, 'await')).result;
}
