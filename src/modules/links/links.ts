import type { LinkedCounts, RollCallSummary } from '../../contract/alarms.js';
import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, type Bilingual } from '../../lib/errors.js';
import { groupBriefs } from '../alarm-groups/alarm-groups.js';
import { alarmTypeBriefs, allAlarmTypesUsable, type AlarmTypeBrief } from '../alarm-types/alarm-types.js';
import { canDecideLink, canProposeLink, canViewLinks, type Principal } from '../auth/policies.js';
import { rollCallCounts } from '../alarms/rollcall.js';
import { ableToReceive } from '../delivery/devices.js';
import { visibleOrganisation } from '../organisations/organisations.js';
import { allSitesInOrganisation } from '../sites/sites.js';
import { auditBoth } from './audit.js';
import { DIRECTIONS, linkedState, type Direction } from './crossing.js';

/**
 * A link (samverkan, docs/linking.md): consent between two organisations to share alarms between named
 * pairs of their sites. One side's admin proposes it, the other side's admin (or organisation-wide
 * crisis lead) accepts or declines it; either side may suspend or revoke it at once. It is never changed
 * in place: a change is a new proposal that replaces it when accepted. Every step is audited on both sides.
 */

export const LINK_STATUSES = ['proposed', 'active', 'suspended', 'revoked', 'declined', 'replaced'] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];
/** to_partner: alarms at the proposer's sites reach the partner's; to_proposer: the other way. */
export type Side = 'proposer' | 'partner';

interface LinkRow {
  id: string;
  proposerOrganisationId: string;
  proposerName: string;
  partnerOrganisationId: string;
  partnerName: string;
  status: LinkStatus;
  sharePresserName: boolean;
  reviewAt: string;
  replacesLinkId: string | null;
  note: string | null;
  proposedAt: Date;
  decidedAt: Date | null;
  suspendedByOrganisationId: string | null;
  statusChangedAt: Date | null;
  statusReason: string | null;
}

/** How many of a link's latest crossings its view shows. */
const RECENT_CROSSINGS = 10;

const LINK_COLUMNS = `
  l.id, l.proposer_organisation_id AS "proposerOrganisationId", po.name AS "proposerName",
  l.partner_organisation_id AS "partnerOrganisationId", xo.name AS "partnerName", l.status, l.share_presser_name AS "sharePresserName",
  l.review_at::text AS "reviewAt", l.replaces_link_id AS "replacesLinkId", l.note, l.proposed_at AS "proposedAt",
  l.decided_at AS "decidedAt", l.suspended_by_organisation_id AS "suspendedByOrganisationId",
  l.status_changed_at AS "statusChangedAt", l.status_reason AS "statusReason"`;

const LINK_FROM = `
  FROM links l
  JOIN organisations po ON po.id = l.proposer_organisation_id
  JOIN organisations xo ON xo.id = l.partner_organisation_id`;

const LINK_SQL = {
  byId: `SELECT ${LINK_COLUMNS} ${LINK_FROM} WHERE l.id = $1`,
  lock: 'SELECT id FROM links WHERE id = $1 FOR UPDATE',
  ofOrganisation: `
    SELECT ${LINK_COLUMNS} ${LINK_FROM}
     WHERE l.proposer_organisation_id = $1 OR l.partner_organisation_id = $1
     ORDER BY l.status = 'proposed' DESC, l.status IN ('active', 'suspended') DESC, l.proposed_at DESC`,
  insert: `
    INSERT INTO links (proposer_organisation_id, partner_organisation_id, share_presser_name, review_at, replaces_link_id, note,
                       proposed_by, proposed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
  insertPairs: 'INSERT INTO link_site_pairs (link_id, proposer_site_id, partner_site_id) SELECT $1, * FROM unnest($2::uuid[], $3::uuid[])',
  insertTypes: 'INSERT INTO link_alarm_types (link_id, direction, alarm_type_id) SELECT $1, $2, unnest($3::uuid[])',
  insertGroups: `
    INSERT INTO link_receiving_groups (link_id, direction, group_id, site_id)
    SELECT $1, $2, * FROM unnest($3::uuid[], $4::uuid[])`,
  accept: `
    UPDATE links SET status = 'active', decided_by = $2, decided_at = $3, status_changed_by = $2, status_changed_at = $3
     WHERE id = $1`,
  setStatus: `
    UPDATE links SET status = $2, suspended_by_organisation_id = $3, status_changed_by = $4, status_changed_at = $5, status_reason = $6
     WHERE id = $1`,
  pairs: `
    SELECT p.link_id AS "linkId", p.proposer_site_id AS "proposerSiteId", ps.name AS "proposerSiteName",
           p.partner_site_id AS "partnerSiteId", xs.name AS "partnerSiteName"
      FROM link_site_pairs p JOIN sites ps ON ps.id = p.proposer_site_id JOIN sites xs ON xs.id = p.partner_site_id
     WHERE p.link_id = ANY($1::uuid[])
     ORDER BY ps.name, xs.name`,
  types: 'SELECT link_id AS "linkId", direction, alarm_type_id AS "alarmTypeId" FROM link_alarm_types WHERE link_id = ANY($1::uuid[])',
  groups: `
    SELECT link_id AS "linkId", direction, group_id AS "groupId", site_id AS "siteId"
      FROM link_receiving_groups WHERE link_id = ANY($1::uuid[])`,
  // Organisations one could link to, with their sites (names and addresses: what a link names).
  directory: `
    SELECT o.id, o.name, o.kind,
           json_agg(json_build_object('id', s.id, 'name', s.name, 'address', s.address) ORDER BY s.name) AS sites
      FROM organisations o JOIN sites s ON s.organisation_id = o.id
     WHERE o.id <> $1
     GROUP BY o.id
     ORDER BY o.name`,
  organisationExists: 'SELECT 1 FROM organisations WHERE id = $1',
  // The latest crossings of each link (alarms and tests), as both sides may see them: states and counts.
  recent: `
    SELECT c.id AS "crossingId", c.link_id AS "linkId", c.at, c.direction, c.test, c.drill, c.alarm_type_id AS "alarmTypeId",
           ss.name AS "fromSiteName", rs.name AS "toSiteName", c.state, c.linked_incident_id AS "linkedIncidentId",
           i.state AS "incidentState", c.ended_early_at IS NOT NULL AS "endedEarly"
      FROM unnest($1::uuid[]) AS lk(id)
      CROSS JOIN LATERAL (SELECT * FROM link_crossings x WHERE x.link_id = lk.id ORDER BY x.at DESC LIMIT ${RECENT_CROSSINGS}) c
      JOIN sites ss ON ss.id = c.source_site_id
      JOIN sites rs ON rs.id = c.receiving_site_id
      LEFT JOIN alarm_incidents i ON i.id = c.linked_incident_id
     ORDER BY c.at DESC`,
} as const;

interface PairRow { linkId: string; proposerSiteId: string; proposerSiteName: string; partnerSiteId: string; partnerSiteName: string }
interface TypeRow { linkId: string; direction: Direction; alarmTypeId: string }
interface GroupRow { linkId: string; direction: Direction; groupId: string; siteId: string }
interface RecentRow {
  crossingId: string; linkId: string; at: Date; direction: Direction; test: boolean; drill: boolean; alarmTypeId: string;
  fromSiteName: string; toSiteName: string; state: 'alerted' | 'held' | 'dismissed' | 'lapsed' | 'not_crossed';
  linkedIncidentId: string | null; incidentState: 'active' | 'resolved' | 'cancelled' | null; endedEarly: boolean;
}

const bilingual = (sv: string, en: string): Bilingual => ({ sv, en });
const invalid = (sv: string, en: string) => new AppError('invalid_reference', bilingual(sv, en));
const invalidInput = (sv: string, en: string) => new AppError('validation_failed', bilingual(sv, en));

/** The caller's side of the link, or null when their organisation is not part of it. */
export function sideOf(principal: Principal, link: Pick<LinkRow, 'proposerOrganisationId' | 'partnerOrganisationId'>): Side | null {
  if (principal.organisationId === link.proposerOrganisationId) return 'proposer';
  if (principal.organisationId === link.partnerOrganisationId) return 'partner';
  return null;
}

const organisationOf = (link: LinkRow, side: Side) => (side === 'proposer' ? link.proposerOrganisationId : link.partnerOrganisationId);
const otherSide = (side: Side): Side => (side === 'proposer' ? 'partner' : 'proposer');
/** The direction in which a side's alarms cross. */
export const outgoing = (side: Side): Direction => (side === 'proposer' ? 'to_partner' : 'to_proposer');
/** The side that receives in a direction. */
export const receiverOf = (direction: Direction): Side => (direction === 'to_partner' ? 'partner' : 'proposer');

/**
 * Loads a link the caller's organisation is part of, if the caller may see its links; any other is
 * not found (a third organisation learns nothing, not even that it exists).
 */
export async function visibleLink(db: Queryable, principal: Principal, id: string, lock = false): Promise<{ link: LinkRow; side: Side }> {
  if (lock) await db.query(LINK_SQL.lock, [id]);
  const link = (await db.query<LinkRow>(LINK_SQL.byId, [id])).rows[0];
  const side = link ? sideOf(principal, link) : null;
  if (!link || !side || !canViewLinks(principal, principal.organisationId)) throw new AppError('not_found');
  return { link, side };
}

export interface ReceivingSiteView {
  site: { id: string; name: string };
  groupCount: number;
  /** The groups by name: only for the receiving side, whose people they are. */
  groups: { id: string; name: string }[] | null;
  /** Members of the groups with a device that can receive alarms. */
  ableToReceive: number;
}

export interface LinkView {
  id: string;
  status: LinkStatus;
  side: Side;
  proposer: { organisationId: string; name: string };
  partner: { organisationId: string; name: string };
  sharePresserName: boolean;
  reviewAt: string;
  reviewDue: boolean;
  note: string | null;
  replacesLinkId: string | null;
  proposedAt: string;
  decidedAt: string | null;
  statusChangedAt: string | null;
  statusReason: string | null;
  suspendedBy: Side | null;
  pairs: { proposerSite: { id: string; name: string }; partnerSite: { id: string; name: string } }[];
  directions: { direction: Direction; alarmTypes: AlarmTypeBrief[]; receiving: ReceivingSiteView[] }[];
  warnings: { code: 'review_due' | 'no_receiving_group' | 'nobody_can_receive'; direction: Direction | null; siteName: string | null }[];
  /** The latest alarms and tests that crossed, either way: what became of them, counts only. */
  recent: {
    crossingId: string; at: string; direction: Direction; test: boolean; drill: boolean; alarmTypeId: string;
    fromSiteName: string; toSiteName: string; state: LinkedCounts['state']; counts: RollCallSummary | null;
  }[];
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** Links as the caller sees them: their side, the other side's receiving groups only as counts, warnings for both. */
async function present(db: Queryable, clock: Clock, principal: Principal, links: LinkRow[]): Promise<LinkView[]> {
  if (links.length === 0) return [];
  const ids = links.map((l) => l.id);
  const [pairs, types, groups, recent] = await Promise.all([
    db.query<PairRow>(LINK_SQL.pairs, [ids]), db.query<TypeRow>(LINK_SQL.types, [ids]), db.query<GroupRow>(LINK_SQL.groups, [ids]),
    db.query<RecentRow>(LINK_SQL.recent, [ids]),
  ]);
  const counts = await rollCallCounts(db, recent.rows.flatMap((r) => (r.linkedIncidentId ? [r.linkedIncidentId] : [])));
  const typeBriefs = new Map((await alarmTypeBriefs(db, [...new Set(types.rows.map((t) => t.alarmTypeId))])).map((t) => [t.id, t]));
  const groupInfo = new Map((await groupBriefs(db, [...new Set(groups.rows.map((g) => g.groupId))])).map((g) => [g.id, g]));
  const reachable = await ableToReceive(db, [...new Set([...groupInfo.values()].flatMap((g) => g.memberIds))]);
  const today = clock.now().toISOString().slice(0, 10);

  return links.map((link) => {
    const side = sideOf(principal, link) as Side;
    const linkPairs = pairs.rows.filter((p) => p.linkId === link.id);
    const directions = DIRECTIONS.map((direction) => {
      const receiver = receiverOf(direction);
      const sites = new Map(linkPairs.map((p) => receiver === 'partner'
        ? [p.partnerSiteId, p.partnerSiteName] : [p.proposerSiteId, p.proposerSiteName]));
      const chosen = groups.rows.filter((g) => g.linkId === link.id && g.direction === direction)
        .map((g) => groupInfo.get(g.groupId)).filter((g) => g !== undefined);
      const receiving = [...sites].map(([id, name]): ReceivingSiteView => {
        const here = chosen.filter((g) => g.siteId === id);
        const members = new Set(here.flatMap((g) => g.memberIds));
        return {
          site: { id, name }, groupCount: here.length,
          groups: side === receiver ? here.map((g) => ({ id: g.id, name: g.name })) : null,
          ableToReceive: [...members].filter((m) => reachable.has(m)).length,
        };
      });
      const alarmTypes = types.rows.filter((t) => t.linkId === link.id && t.direction === direction)
        .map((t) => typeBriefs.get(t.alarmTypeId)).filter((t) => t !== undefined);
      return { direction, alarmTypes, receiving };
    });
    const live = link.status === 'active' || link.status === 'suspended';
    const warnings: LinkView['warnings'] = [];
    if (live && link.reviewAt <= today) warnings.push({ code: 'review_due', direction: null, siteName: null });
    for (const d of directions) {
      if (!live || d.alarmTypes.length === 0) continue;
      for (const r of d.receiving) {
        if (r.groupCount === 0) warnings.push({ code: 'no_receiving_group', direction: d.direction, siteName: r.site.name });
        else if (r.ableToReceive === 0) warnings.push({ code: 'nobody_can_receive', direction: d.direction, siteName: r.site.name });
      }
    }
    const suspendedBy = link.suspendedByOrganisationId === null ? null
      : link.suspendedByOrganisationId === link.proposerOrganisationId ? 'proposer' : 'partner';
    return {
      id: link.id, status: link.status, side,
      proposer: { organisationId: link.proposerOrganisationId, name: link.proposerName },
      partner: { organisationId: link.partnerOrganisationId, name: link.partnerName },
      sharePresserName: link.sharePresserName, reviewAt: link.reviewAt, reviewDue: live && link.reviewAt <= today,
      note: link.note, replacesLinkId: link.replacesLinkId, proposedAt: iso(link.proposedAt) as string, decidedAt: iso(link.decidedAt),
      statusChangedAt: iso(link.statusChangedAt), statusReason: link.statusReason, suspendedBy,
      pairs: linkPairs.map((p) => ({ proposerSite: { id: p.proposerSiteId, name: p.proposerSiteName }, partnerSite: { id: p.partnerSiteId, name: p.partnerSiteName } })),
      directions, warnings,
      recent: recent.rows.filter((r) => r.linkId === link.id).map((r) => ({
        crossingId: r.crossingId, at: new Date(r.at).toISOString(), direction: r.direction, test: r.test, drill: r.drill,
        alarmTypeId: r.alarmTypeId, fromSiteName: r.fromSiteName, toSiteName: r.toSiteName, state: linkedState(r),
        counts: r.linkedIncidentId ? (counts.get(r.linkedIncidentId) ?? null) : null,
      })),
    };
  });
}

export async function listLinks(db: Queryable, clock: Clock, principal: Principal, organisationId: string): Promise<LinkView[]> {
  await visibleOrganisation(db, principal, organisationId);
  if (organisationId !== principal.organisationId || !canViewLinks(principal, organisationId)) throw new AppError('forbidden');
  return present(db, clock, principal, (await db.query<LinkRow>(LINK_SQL.ofOrganisation, [organisationId])).rows);
}

export async function readLink(db: Queryable, clock: Clock, principal: Principal, id: string): Promise<LinkView> {
  const { link } = await visibleLink(db, principal, id);
  return (await present(db, clock, principal, [link]))[0] as LinkView;
}

export interface DirectoryEntry {
  id: string;
  name: string;
  kind: string;
  sites: { id: string; name: string; address: string | null }[];
}

/** The organisations and sites an admin could propose a link to (names and addresses only). */
export async function linkDirectory(db: Queryable, principal: Principal): Promise<DirectoryEntry[]> {
  if (!canProposeLink(principal, principal.organisationId)) throw new AppError('forbidden');
  return (await db.query<DirectoryEntry>(LINK_SQL.directory, [principal.organisationId])).rows;
}

export interface ReceivingGroupsInput {
  siteId: string;
  groupIds: string[];
}

export interface ProposalInput {
  partnerOrganisationId: string;
  pairs: { siteId: string; partnerSiteId: string }[];
  /** Types raised at the proposer's sites that reach the partner's. */
  outgoingAlarmTypeIds: string[];
  /** Types raised at the partner's sites that reach the proposer's, and the proposer's groups that get them. */
  incomingAlarmTypeIds: string[];
  incomingReceivingGroups: ReceivingGroupsInput[];
  sharePresserName?: boolean;
  reviewAt?: string;
  replacesLinkId?: string;
  note?: string | null;
}

export interface LinkDeps {
  db: Db;
  clock: Clock;
}

/**
 * Proposes a link from the caller's organisation. Sites are checked against the organisation named for
 * each side (a link cannot be forged by naming another organisation's sites); the alarm types that come
 * in must be built-in ones (the proposer cannot see the partner's own types); the proposer chooses its
 * own receiving groups, the partner its own when accepting.
 */
export async function proposeLink(
  deps: LinkDeps, principal: Principal, organisationId: string, input: ProposalInput, requestId: string,
): Promise<LinkView> {
  return inTransaction(deps.db, async (tx) => {
    await visibleOrganisation(tx, principal, organisationId);
    if (!canProposeLink(principal, organisationId)) throw new AppError('forbidden');
    const partner = input.partnerOrganisationId;
    if (partner === organisationId || !(await tx.query(LINK_SQL.organisationExists, [partner])).rowCount) {
      throw invalid('Organisationen att samverka med finns inte.', 'The organisation to link with does not exist.');
    }
    const own = [...new Set(input.pairs.map((p) => p.siteId))];
    const theirs = [...new Set(input.pairs.map((p) => p.partnerSiteId))];
    if (!(await allSitesInOrganisation(tx, organisationId, own)) || !(await allSitesInOrganisation(tx, partner, theirs))) {
      throw invalid('Varje par måste vara en av era platser och en av den andra organisationens.', "Each pair must be one of your sites and one of the other organisation's.");
    }
    if (input.outgoingAlarmTypeIds.length + input.incomingAlarmTypeIds.length === 0) {
      throw invalidInput('Välj minst en larmtyp som ska gå över.', 'Choose at least one alarm type that crosses.');
    }
    if (!(await allAlarmTypesUsable(tx, organisationId, input.outgoingAlarmTypeIds))) {
      throw invalid('En larmtyp finns inte hos er.', 'An alarm type is not one of yours.');
    }
    // A custom type belongs to one organisation: usable by both means built-in.
    const incomingBuiltIn = await allAlarmTypesUsable(tx, organisationId, input.incomingAlarmTypeIds)
      && await allAlarmTypesUsable(tx, partner, input.incomingAlarmTypeIds);
    if (!incomingBuiltIn) throw invalid('Larm som kommer in kan bara vara de inbyggda larmtyperna.', 'Alarms coming in can only be of the built-in types.');
    if (!input.incomingAlarmTypeIds.length && input.incomingReceivingGroups.length) {
      throw invalidInput('Inga larm kommer till er med det här förslaget: välj inga mottagande grupper.', 'No alarms come to you with this proposal: choose no receiving groups.');
    }
    const incomingGroups = input.incomingAlarmTypeIds.length ? await checkReceivingGroups(tx, organisationId, own, input.incomingReceivingGroups) : [];
    if (input.replacesLinkId) await checkReplaceable(tx, principal, input.replacesLinkId, partner);
    const now = deps.clock.now();
    const reviewAt = input.reviewAt ?? oneYearAfter(now);
    if (reviewAt <= now.toISOString().slice(0, 10)) throw invalidInput('Omprövningsdatumet måste ligga framåt i tiden.', 'The review date must be in the future.');

    const { id } = (await tx.query<{ id: string }>(LINK_SQL.insert, [
      organisationId, partner, input.sharePresserName ?? false, reviewAt, input.replacesLinkId ?? null, input.note ?? null, principal.personId, now,
    ])).rows[0] as { id: string };
    await tx.query(LINK_SQL.insertPairs, [id, input.pairs.map((p) => p.siteId), input.pairs.map((p) => p.partnerSiteId)]);
    if (input.outgoingAlarmTypeIds.length) await tx.query(LINK_SQL.insertTypes, [id, 'to_partner', [...new Set(input.outgoingAlarmTypeIds)]]);
    if (input.incomingAlarmTypeIds.length) await tx.query(LINK_SQL.insertTypes, [id, 'to_proposer', [...new Set(input.incomingAlarmTypeIds)]]);
    await insertGroups(tx, id, 'to_proposer', incomingGroups);
    const link = (await tx.query<LinkRow>(LINK_SQL.byId, [id])).rows[0] as LinkRow;
    const [view] = await present(tx, deps.clock, principal, [link]);
    await auditBoth(tx, link, principal, 'link.proposed', { link: view }, requestId);
    return view as LinkView;
  });
}

const oneYearAfter = (now: Date): string => {
  const next = new Date(now);
  next.setUTCFullYear(next.getUTCFullYear() + 1);
  return next.toISOString().slice(0, 10);
};

/** Receiving groups chosen by a side: one or more for each of its sites in the pairs, groups of that site only. */
async function checkReceivingGroups(
  tx: Queryable, organisationId: string, siteIds: string[], chosen: ReceivingGroupsInput[],
): Promise<{ groupId: string; siteId: string }[]> {
  const groupIds = [...new Set(chosen.flatMap((c) => c.groupIds))];
  const found = new Map((await groupBriefs(tx, groupIds)).map((g) => [g.id, g]));
  const result: { groupId: string; siteId: string }[] = [];
  for (const entry of chosen) {
    if (!siteIds.includes(entry.siteId)) throw invalid('Mottagande grupper kan bara väljas för era platser i avtalet.', 'Receiving groups can only be chosen for your sites in the link.');
    for (const groupId of entry.groupIds) {
      const group = found.get(groupId);
      if (!group || group.organisationId !== organisationId || group.siteId !== entry.siteId) {
        throw invalid('En larmgrupp finns inte på den platsen.', 'An alarm group is not at that site.');
      }
      result.push({ groupId, siteId: entry.siteId });
    }
  }
  const covered = new Set(result.map((r) => r.siteId));
  if (siteIds.some((s) => !covered.has(s))) {
    throw invalidInput('Välj minst en mottagande larmgrupp för varje plats som tar emot larm.', 'Choose at least one receiving alarm group for each site that receives alarms.');
  }
  return result;
}

async function insertGroups(tx: Queryable, linkId: string, direction: Direction, groups: { groupId: string; siteId: string }[]): Promise<void> {
  const unique = [...new Map(groups.map((g) => [g.groupId, g])).values()];
  if (unique.length) await tx.query(LINK_SQL.insertGroups, [linkId, direction, unique.map((g) => g.groupId), unique.map((g) => g.siteId)]);
}

/** A proposal may replace a live link between the same two organisations. */
async function checkReplaceable(tx: Queryable, principal: Principal, replacesLinkId: string, partner: string): Promise<void> {
  const old = (await tx.query<LinkRow>(LINK_SQL.byId, [replacesLinkId])).rows[0];
  const side = old ? sideOf(principal, old) : null;
  const same = old && side && organisationOf(old, otherSide(side)) === partner;
  if (!old || !same || (old.status !== 'active' && old.status !== 'suspended')) {
    throw invalid('Avtalet som ska ersättas finns inte mellan era organisationer, eller gäller inte längre.', 'The link to replace does not exist between your organisations, or is no longer in force.');
  }
}

/**
 * The partner accepts a proposal, choosing its own receiving groups. A proposal that replaces a link
 * replaces it now (alarms already under way over the old link finish).
 */
export async function acceptLink(deps: LinkDeps, principal: Principal, id: string, receivingGroups: ReceivingGroupsInput[], requestId: string): Promise<LinkView> {
  return inTransaction(deps.db, async (tx) => {
    const { link, side } = await visibleLink(tx, principal, id, true);
    if (side !== 'partner' || !canDecideLink(principal, principal.organisationId)) {
      throw new AppError('forbidden', bilingual('Bara den andra organisationens administratörer eller krisledning kan godkänna förslaget.', "Only the other organisation's admins or crisis leads can accept the proposal."));
    }
    if (link.status !== 'proposed') throw new AppError('link_status_conflict', undefined, { status: link.status });
    const pairs = (await tx.query<PairRow>(LINK_SQL.pairs, [[id]])).rows;
    const comesIn = (await tx.query<TypeRow>(LINK_SQL.types, [[id]])).rows.some((t) => t.direction === 'to_partner');
    const partnerSites = [...new Set(pairs.map((p) => p.partnerSiteId))];
    const groups = comesIn ? await checkReceivingGroups(tx, link.partnerOrganisationId, partnerSites, receivingGroups) : [];
    if (!comesIn && receivingGroups.length) throw invalidInput('Inga larm går till er med det här avtalet.', 'No alarms come to you over this link.');
    const now = deps.clock.now();
    await insertGroups(tx, id, 'to_partner', groups);
    await tx.query(LINK_SQL.accept, [id, principal.personId, now]);
    if (link.replacesLinkId) {
      await tx.query(LINK_SQL.lock, [link.replacesLinkId]);
      const old = (await tx.query<LinkRow>(LINK_SQL.byId, [link.replacesLinkId])).rows[0];
      if (old && (old.status === 'active' || old.status === 'suspended')) {
        await tx.query(LINK_SQL.setStatus, [old.id, 'replaced', null, principal.personId, now, null]);
        await auditBoth(tx, old, principal, 'link.replaced', { replacedBy: id }, requestId);
      }
    }
    const accepted = (await tx.query<LinkRow>(LINK_SQL.byId, [id])).rows[0] as LinkRow;
    const [view] = await present(tx, deps.clock, principal, [accepted]);
    await auditBoth(tx, accepted, principal, 'link.accepted', { link: view }, requestId);
    return view as LinkView;
  });
}

export type StatusChange = 'decline' | 'suspend' | 'resume' | 'revoke';

/** Which statuses each change applies to, what it makes of the link, and who may make it. */
const CHANGES: Record<StatusChange, { from: LinkStatus[]; to: LinkStatus; action: string }> = {
  decline: { from: ['proposed'], to: 'declined', action: 'link.declined' },
  suspend: { from: ['active'], to: 'suspended', action: 'link.suspended' },
  resume: { from: ['suspended'], to: 'active', action: 'link.resumed' },
  revoke: { from: ['proposed', 'active', 'suspended'], to: 'revoked', action: 'link.revoked' },
};

/**
 * Decline (the partner, a proposal), suspend or revoke (either side, at once: no new alarm crosses
 * from the commit on; those under way finish), resume (only the side that suspended it).
 */
export async function changeLinkStatus(
  deps: LinkDeps, principal: Principal, id: string, change: StatusChange, reason: string | null, requestId: string,
): Promise<LinkView> {
  return inTransaction(deps.db, async (tx) => {
    const { link, side } = await visibleLink(tx, principal, id, true);
    if (!canDecideLink(principal, principal.organisationId)) throw new AppError('forbidden');
    const rule = CHANGES[change];
    if (!rule.from.includes(link.status)) throw new AppError('link_status_conflict', undefined, { status: link.status });
    if (change === 'decline' && side !== 'partner') {
      throw new AppError('forbidden', bilingual('Ett eget förslag återkallas, det avböjs inte.', 'Your own proposal is revoked, not declined.'));
    }
    if (change === 'resume' && link.suspendedByOrganisationId !== principal.organisationId) {
      throw new AppError('forbidden', bilingual('Bara organisationen som pausade avtalet kan återuppta det.', 'Only the organisation that suspended the link can resume it.'));
    }
    const now = deps.clock.now();
    await tx.query(LINK_SQL.setStatus, [id, rule.to, change === 'suspend' ? principal.organisationId : null, principal.personId, now, reason]);
    const after = (await tx.query<LinkRow>(LINK_SQL.byId, [id])).rows[0] as LinkRow;
    await auditBoth(tx, after, principal, rule.action, { status: rule.to, reason }, requestId);
    return (await present(tx, deps.clock, principal, [after]))[0] as LinkView;
  });
}
