import type { LinkedFrom } from '../../contract/alarms.js';
import type { Queryable } from '../../db/pool.js';
import type { AlarmTypeSnapshot } from '../alarm-types/alarm-types.js';
import { closeIncident, postMessage } from './during.js';
import type { NewEvent } from './events.js';
import { loadIncident } from './incidents.js';
import { contradicts, lockSite, siteNow, type SiteInstruction } from './instruction.js';
import { openIncident, type OpenedIncident } from './raise.js';

/**
 * Linked incidents (docs/linking.md): an alarm of another organisation that crossed a link becomes an
 * incident of the receiving site's own, with its own recipients, roll call, leads, escalation and
 * pushes. The links module decides which links a raise crosses and records the crossings; the alarm
 * module, which owns incidents, opens, instructs and ends them through these functions, the same way
 * it does for a press, so that one authoritative instruction per site (invariant 5) holds across links.
 */

export interface LinkedAlarm {
  /** The receiving site. */
  site: { id: string; organisationId: string };
  /** The source's type, as frozen in the source incident. */
  type: AlarmTypeSnapshot;
  drill: boolean;
  /** "Vasaskolan, Sal 204": where it happened, told at the receiving site. */
  location: string | null;
  at: Date;
  from: LinkedFrom;
  /** The receiving site's groups its organisation chose for the link. */
  groupIds: string[];
  /** A receiving lead who confirmed a held linked alarm: it is raised even though it contradicts. */
  confirmedBy?: string;
}

export type NotCrossedReason = 'real_alarm_active' | 'already_active' | 'site_busy';

export type LinkedOutcome =
  | { kind: 'raised'; opened: OpenedIncident }
  /** It contradicts the receiving site's instruction and would not override it: its leads decide. */
  | { kind: 'held'; on: SiteInstruction }
  | { kind: 'not_crossed'; reason: NotCrossedReason };

const LINKED_SQL = {
  precedence: "SELECT (type_snapshot->>'precedence')::int AS precedence FROM incidents WHERE id = $1",
  source: "SELECT linked_from->>'incidentId' AS source FROM incidents WHERE id = $1",
} as const;

/**
 * Opens a linked incident at the receiving site, by the rules a press follows there:
 * - a link test crosses only into a site where nothing is active; a drill never into a real alarm;
 * - the same alarm already active at the site is not raised twice (the site's people have it);
 * - an alarm that contradicts the site's instruction and would not override it by precedence (a fire
 *   during a lockdown: a fire alarm has been used as a lure) is held for the site's leads, never rung
 *   by itself; one that overrides it (a lockdown during a fire) becomes the site's instruction, shown
 *   to everyone as a change.
 * The caller holds the source site's lock; the receiving site's is taken here (normally already held).
 */
export async function openLinkedIncident(tx: Queryable, alarm: LinkedAlarm): Promise<LinkedOutcome> {
  const { site, type, drill } = alarm;
  await lockSite(tx, site.id);
  const { instruction: before, same } = await siteNow(tx, site.id, type.id, drill);
  if (alarm.from.test && before) return { kind: 'not_crossed', reason: 'site_busy' };
  if (drill && before && !before.drill) return { kind: 'not_crossed', reason: 'real_alarm_active' };
  if (same) return { kind: 'not_crossed', reason: 'already_active' };
  const contradiction = contradicts(before, type, drill);
  if (before && contradiction && !alarm.confirmedBy && !(await overrides(tx, before, type))) return { kind: 'held', on: before };
  const opened = await openIncident(tx, {
    site, type, drill, location: alarm.location, message: null, at: alarm.at, before, contradiction,
    raisedBy: null, linkedFrom: { from: alarm.from, groupIds: alarm.groupIds }, ...(alarm.confirmedBy ? { decidedBy: alarm.confirmedBy } : {}),
  });
  return { kind: 'raised', opened };
}

/** Whether a new alarm of this type would become the site's instruction (instruction.ts orders by precedence, then age). */
async function overrides(tx: Queryable, current: SiteInstruction, type: AlarmTypeSnapshot): Promise<boolean> {
  const row = (await tx.query<{ precedence: number }>(LINKED_SQL.precedence, [current.incidentId])).rows[0];
  return row !== undefined && type.precedence > row.precedence;
}

/** A source's instruction, carried to its linked incident: everyone there sees it, with its author's name. */
export async function followInstruction(
  tx: Queryable, linkedIncidentId: string, instruction: { authorId: string; body: string; at: Date },
): Promise<NewEvent[]> {
  const incident = await loadIncident(tx, linkedIncidentId);
  if (incident.state !== 'active') return [];
  return [await postMessage(tx, incident, { kind: 'instruction', body: instruction.body, authorId: instruction.authorId, actorPersonId: null, at: instruction.at })];
}

/**
 * Ends a linked incident because its source ended ("Faran över enligt Vasaskolan"); nothing if it had ended.
 * One that someone at the receiving site has pressed too (their press joined it) is theirs as well: only their
 * own leads end it, and its people are told that the source has ended and why it goes on.
 */
export async function endLinkedIncident(
  tx: Queryable, linkedIncidentId: string, end: { outcome: 'resolved' | 'cancelled'; reason: string; at: Date; by: string },
): Promise<NewEvent[]> {
  const incident = await loadIncident(tx, linkedIncidentId);
  if (incident.state !== 'active') return [];
  await lockSite(tx, incident.siteId);
  if (incident.pressers.length > 0) {
    const body = `${end.reason}. Larmet fortsätter här eftersom någon här också har larmat: er krisledning ger faran över.`;
    return [await postMessage(tx, incident, { kind: 'instruction', body, authorId: end.by, actorPersonId: null, at: end.at })];
  }
  return closeIncident(tx, incident, { outcome: end.outcome, reason: end.reason, at: end.at, endedBy: null });
}

/** The source incident of a linked incident, or null (a link test, or not linked). */
export async function linkedSourceOf(db: Queryable, incidentId: string): Promise<string | null> {
  return (await db.query<{ source: string | null }>(LINKED_SQL.source, [incidentId])).rows[0]?.source ?? null;
}
