import type { Queryable } from '../../db/pool.js';
import type { Principal } from '../auth/policies.js';
import { visibleSite } from '../sites/sites.js';
import { SITE_LEGS } from './site-legs.js';

/**
 * Before raising: which other organisations an alarm of each type raised at a site will also reach,
 * over its active links. The raise screen shows it, so nobody is surprised that the library is alerted.
 */
export interface ReachView {
  alarmTypeId: string;
  organisations: { organisationId: string; name: string; siteNames: string[] }[];
}

const REACH_SQL = {
  bySite: `
    SELECT t.alarm_type_id AS "alarmTypeId", o.id AS "organisationId", o.name, array_agg(DISTINCT rs.name ORDER BY rs.name) AS "siteNames"
      FROM ${SITE_LEGS}
      JOIN links l ON l.id = x.link_id AND l.status = 'active'
      JOIN link_alarm_types t ON t.link_id = l.id AND t.direction = x.direction
      JOIN sites rs ON rs.id = x.receiving_site_id
      JOIN organisations o ON o.id = rs.organisation_id
     GROUP BY t.alarm_type_id, o.id, o.name
     ORDER BY o.name`,
} as const;

export async function linkReach(db: Queryable, principal: Principal, siteId: string): Promise<ReachView[]> {
  const site = await visibleSite(db, principal, siteId);
  // A system admin sees other organisations' configuration, not where their alarms go.
  if (site.organisationId !== principal.organisationId) return [];
  const rows = (await db.query<{ alarmTypeId: string; organisationId: string; name: string; siteNames: string[] }>(REACH_SQL.bySite, [site.id])).rows;
  const byType = new Map<string, ReachView>();
  for (const { alarmTypeId, ...organisation } of rows) {
    const entry = byType.get(alarmTypeId) ?? { alarmTypeId, organisations: [] };
    entry.organisations.push(organisation);
    byType.set(alarmTypeId, entry);
  }
  return [...byType.values()];
}
