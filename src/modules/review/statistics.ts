import type { Queryable } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { canSeeOrganisation, canViewStatistics, reviewSiteIds, type Principal } from '../auth/policies.js';
import { statisticsData, type StatisticsIncident } from '../alarms/review-data.js';
import type { IncidentHeading } from '../alarms/incidents.js';
import { allSitesInOrganisation } from '../sites/sites.js';
import { barChart, type Lang } from './charts.js';
import { percentile, timeToShare } from './figures.js';
import { stockholmDateTime } from './format.js';

/** Statistics over an organisation's incidents, as pure functions of each incident's facts (docs/review.md). */

export interface IncidentStats extends IncidentHeading<string> {
  month: string;
  toReach: number;
  reached: number;
  unreached: number;
  acknowledged: number;
  allReachedMs: number | null;
  firstAcknowledgementMs: number | null;
  reachedWithin10s: number | null;
  reachedWithin60s: number | null;
  acknowledgedWithin60s: number | null;
  /** Share of those to be reached who had a device with push when the alarm was raised. */
  readiness: number | null;
}

export interface GroupStats {
  siteId: string;
  siteName: string;
  typeKey: string;
  typeLabel: { sv: string; en: string };
  month: string;
  drill: boolean;
  incidents: number;
  allReached: { incidents: number; medianMs: number | null; p90Ms: number | null };
  acknowledgement: { people: number; medianMs: number | null; p90Ms: number | null };
  unreachedRate: number | null;
}

export interface DrillScore {
  incidentId: string;
  siteId: string;
  siteName: string;
  typeLabel: { sv: string; en: string };
  raisedAt: string;
  score: { reachedWithin10s: number | null; reachedWithin60s: number | null; acknowledgedWithin60s: number | null };
  /** The mean of the same shares over the site's earlier drills in the range; null when it had none. */
  earlier: { drills: number; reachedWithin10s: number | null; reachedWithin60s: number | null; acknowledgedWithin60s: number | null } | null;
}

export interface ReadinessMonth { month: string; incidents: number; readiness: number | null }

const share = (n: number, of: number): number | null => (of === 0 ? null : n / of);
const mean = (values: (number | null)[]): number | null => {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const deltas = (p: StatisticsIncident['people'][number], t0: number) => ({
  reached: p.deliveredAt ? Date.parse(p.deliveredAt) - t0 : null,
  acked: p.acknowledgedAt ? Date.parse(p.acknowledgedAt) - t0 : null,
});

export function incidentStats(i: StatisticsIncident): IncidentStats {
  const t0 = new Date(i.raisedAt).getTime();
  const people = i.people.map((p) => deltas(p, t0));
  const reached = people.flatMap((p) => (p.reached === null ? [] : [p.reached]));
  const acked = people.flatMap((p) => (p.acked === null ? [] : [p.acked]));
  const n = i.people.length;
  return {
    id: i.id, siteId: i.siteId, siteName: i.siteName, typeKey: i.typeKey, typeLabel: i.typeLabel, drill: i.drill, state: i.state,
    raisedAt: new Date(i.raisedAt).toISOString(), month: stockholmDateTime(new Date(i.raisedAt)).slice(0, 7),
    toReach: n, reached: reached.length, unreached: n - reached.length, acknowledged: acked.length,
    allReachedMs: timeToShare(reached, n, 100),
    firstAcknowledgementMs: acked.length ? Math.min(...acked) : null,
    reachedWithin10s: share(reached.filter((t) => t <= 10_000).length, n),
    reachedWithin60s: share(reached.filter((t) => t <= 60_000).length, n),
    acknowledgedWithin60s: share(acked.filter((t) => t <= 60_000).length, n),
    readiness: share(i.people.filter((p) => p.pushed).length, n),
  };
}

export function groupStats(incidents: StatisticsIncident[]): GroupStats[] {
  const groups = new Map<string, { first: IncidentStats; members: StatisticsIncident[]; stats: IncidentStats[] }>();
  for (const i of incidents) {
    const s = incidentStats(i);
    const key = [s.siteId, s.typeKey, s.month, s.drill].join('|');
    const g = groups.get(key) ?? { first: s, members: [], stats: [] };
    g.members.push(i);
    g.stats.push(s);
    groups.set(key, g);
  }
  return [...groups.values()].map(({ first, members, stats }) => {
    const all = stats.flatMap((s) => (s.allReachedMs === null ? [] : [s.allReachedMs]));
    const acks = members.flatMap((i) => i.people.flatMap((p) => {
      const d = deltas(p, new Date(i.raisedAt).getTime()).acked;
      return d === null ? [] : [d];
    }));
    const toReach = stats.reduce((a, s) => a + s.toReach, 0);
    return {
      siteId: first.siteId, siteName: first.siteName, typeKey: first.typeKey, typeLabel: first.typeLabel, month: first.month, drill: first.drill,
      incidents: stats.length,
      allReached: { incidents: all.length, medianMs: percentile(all, 50), p90Ms: percentile(all, 90) },
      acknowledgement: { people: acks.length, medianMs: percentile(acks, 50), p90Ms: percentile(acks, 90) },
      unreachedRate: share(stats.reduce((a, s) => a + s.unreached, 0), toReach),
    };
  }).sort((a, b) => a.month.localeCompare(b.month) || a.siteName.localeCompare(b.siteName) || a.typeKey.localeCompare(b.typeKey) || Number(a.drill) - Number(b.drill));
}

/** Each drill's shares, against the mean of the same site's earlier drills (incidents in time order). */
export function drillScores(incidents: StatisticsIncident[]): DrillScore[] {
  const drills = incidents.filter((i) => i.drill).map(incidentStats).sort((a, b) => a.raisedAt.localeCompare(b.raisedAt));
  return drills.map((d) => {
    const earlier = drills.filter((o) => o.siteId === d.siteId && o.raisedAt < d.raisedAt);
    return {
      incidentId: d.id, siteId: d.siteId, siteName: d.siteName, typeLabel: d.typeLabel, raisedAt: d.raisedAt,
      score: { reachedWithin10s: d.reachedWithin10s, reachedWithin60s: d.reachedWithin60s, acknowledgedWithin60s: d.acknowledgedWithin60s },
      earlier: earlier.length === 0 ? null : {
        drills: earlier.length,
        reachedWithin10s: mean(earlier.map((e) => e.reachedWithin10s)),
        reachedWithin60s: mean(earlier.map((e) => e.reachedWithin60s)),
        acknowledgedWithin60s: mean(earlier.map((e) => e.acknowledgedWithin60s)),
      },
    };
  });
}

export function readinessByMonth(incidents: StatisticsIncident[]): ReadinessMonth[] {
  const months = new Map<string, IncidentStats[]>();
  for (const s of incidents.map(incidentStats)) months.set(s.month, [...(months.get(s.month) ?? []), s]);
  return [...months.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, stats]) => ({
    month,
    incidents: stats.length,
    readiness: share(stats.reduce((a, s) => a + (s.readiness ?? 0) * s.toReach, 0), stats.reduce((a, s) => a + s.toReach, 0)),
  }));
}

const pct = (v: number | null) => (v === null ? '–' : `${Math.round(v * 100)} %`);

export interface StatisticsQuery { from: Date; to: Date; siteId: string | null; lang: Lang }
export const STATISTICS_MAX_INCIDENTS = 2000;

export async function organisationStatistics(db: Queryable, principal: Principal, organisationId: string, query: StatisticsQuery) {
  if (!canSeeOrganisation(principal, organisationId)) throw new AppError('not_found');
  if (!canViewStatistics(principal, organisationId)) throw new AppError('forbidden', { sv: 'Bara ledare, granskare och administratörer ser statistiken.', en: 'Only leads, reviewers and admins see statistics.' });
  if (query.from >= query.to) throw new AppError('validation_failed', { sv: '"from" måste vara före "to".', en: '"from" must be before "to".' });
  if (query.siteId && !(await allSitesInOrganisation(db, organisationId, [query.siteId]))) {
    throw new AppError('invalid_reference', { sv: 'Platsen finns inte i den här organisationen.', en: 'No such site in this organisation.' });
  }
  const allowed = reviewSiteIds(principal, organisationId);
  if (query.siteId && allowed !== 'all' && !allowed.includes(query.siteId)) throw new AppError('forbidden', { sv: 'Du granskar inte den platsen.', en: 'You do not review that site.' });
  const sites = query.siteId ? [query.siteId] : allowed === 'all' ? null : allowed;
  const incidents = await statisticsData(db, organisationId, sites, query.from, query.to, STATISTICS_MAX_INCIDENTS + 1);
  const truncated = incidents.length > STATISTICS_MAX_INCIDENTS;
  const used = incidents.slice(0, STATISTICS_MAX_INCIDENTS);
  const drills = drillScores(used);
  const readiness = readinessByMonth(used);
  const sv = query.lang === 'sv';
  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    truncated,
    incidents: used.map(incidentStats).reverse(),
    groups: groupStats(used),
    drills,
    readiness,
    charts: {
      drills: barChart('drills', sv ? 'Övningar: andel nådda inom 60 s' : 'Drills: share reached within 60 s',
        sv ? 'Varje övning, äldst först, med andelen nådda inom 60 sekunder' : 'Each drill, oldest first, with the share reached within 60 seconds',
        drills.slice(-12).map((d) => ({ label: stockholmDateTime(new Date(d.raisedAt)).slice(0, 10), value: d.score.reachedWithin60s, text: pct(d.score.reachedWithin60s) })), 1),
      readiness: barChart('readiness', sv ? 'Enhetsberedskap per månad' : 'Device readiness per month',
        sv ? 'Andel av de som skulle nås som hade en enhet med push när larmet kom' : 'Share of those to be reached who had a device with push when the alarm came',
        readiness.slice(-12).map((r) => ({ label: r.month, value: r.readiness, text: pct(r.readiness) })), 1),
    },
  };
}
