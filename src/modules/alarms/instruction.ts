import type { AlarmTypeSnapshot } from '../alarm-types/alarm-types.js';
import type { Queryable } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { canSeeSiteInstruction, type Principal } from '../auth/policies.js';
import { visibleSite } from '../sites/sites.js';

/**
 * What staff at a site must do now (invariant 5): derived from the site's active incidents, a
 * real alarm before any drill, then the highest precedence, then the earliest. Null: nothing active.
 */
export interface SiteInstruction {
  siteId: string;
  incidentId: string;
  typeKey: string;
  label: { sv: string; en: string };
  text: { sv: string; en: string };
  colour: string;
  icon: string;
  sound: 'loud' | 'silent';
  responseType: string;
  drill: boolean;
  since: string;
  /** How many incidents are active at the site (more than one: others were overridden). */
  activeIncidents: number;
}

const ACTIVE_AT_SITE = `
    SELECT id, type_snapshot, drill, raised_at, count(*) OVER () AS active
      FROM incidents
     WHERE site_id = $1 AND state = 'active'
     ORDER BY drill ASC, (type_snapshot->>'precedence')::int DESC, raised_at ASC
     LIMIT 1`;

const INSTRUCTION_SQL = {
  // Serialises everything that changes a site's incidents, so that joins and the instruction stay consistent.
  lockSite: "SELECT pg_advisory_xact_lock(hashtextextended('site:' || $1::text, 0))",
  activeAtSite: ACTIVE_AT_SITE,
  // The instruction's incident, and the active incident of one type and drill flag (at most one: migration 003's
  // incidents_one_active_idx), in one round trip: always one row, its columns null for what is not there.
  siteNow: `
    SELECT w.id, w.type_snapshot, w.drill, w.raised_at, w.active, same.id AS same_id, same.last_pressed_at AS same_last_pressed_at
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (${ACTIVE_AT_SITE}) AS w ON true
      LEFT JOIN incidents same ON same.site_id = $1 AND same.alarm_type_id = $2 AND same.drill = $3 AND same.state = 'active'`,
  worksAt: 'SELECT 1 FROM person_sites WHERE person_id = $1 AND site_id = $2',
  othersActive: "SELECT id, drill FROM incidents WHERE site_id = $1 AND state = 'active' AND id <> $2 ORDER BY raised_at",
} as const;

/** Held until the transaction ends: raises, answers and all clears at one site happen one after the other. */
export async function lockSite(tx: Queryable, siteId: string): Promise<void> {
  await tx.query(INSTRUCTION_SQL.lockSite, [siteId]);
}

/**
 * Locks several sites (a site and the sites linked to it) always in the same order, so that two changes
 * touching the same linked sites from either end wait for each other instead of deadlocking.
 */
export async function lockSites(tx: Queryable, siteIds: string[]): Promise<void> {
  for (const siteId of [...new Set(siteIds)].sort()) await lockSite(tx, siteId);
}

type InstructionRow = { id: string; type_snapshot: AlarmTypeSnapshot; drill: boolean; raised_at: Date; active: string };

/**
 * The instruction at a site where `incident`, just opened, is the only active incident: the caller holds the site's
 * lock and found nothing in force before it, so this is what `siteInstruction` would read, without reading it.
 */
export function onlyInstruction(incident: { id: string; siteId: string; type: AlarmTypeSnapshot; drill: boolean; raisedAt: Date }): SiteInstruction {
  return instructionOf(incident.siteId, { id: incident.id, type_snapshot: incident.type, drill: incident.drill, raised_at: incident.raisedAt, active: '1' });
}

export async function siteInstruction(db: Queryable, siteId: string): Promise<SiteInstruction | null> {
  const row = (await db.query<InstructionRow>(INSTRUCTION_SQL.activeAtSite, [siteId])).rows[0];
  return row ? instructionOf(siteId, row) : null;
}

/** The active incident of a type at a site, if any: the one a press joins (one per site, type and drill flag). */
export interface SameActive {
  id: string;
  lastPressedAt: Date;
}

/**
 * What a new alarm of a type at a site meets (the caller holds the site's lock): the site's instruction, and the
 * incident of the same type and drill flag already active there, if any.
 */
export async function siteNow(tx: Queryable, siteId: string, alarmTypeId: string, drill: boolean): Promise<{ instruction: SiteInstruction | null; same: SameActive | null }> {
  const row = (await tx.query<{ [K in keyof InstructionRow]: InstructionRow[K] | null } & { same_id: string | null; same_last_pressed_at: Date | null }>(
    INSTRUCTION_SQL.siteNow, [siteId, alarmTypeId, drill],
  )).rows[0];
  const instruction = row?.id ? instructionOf(siteId, row as InstructionRow) : null;
  const same = row?.same_id && row.same_last_pressed_at ? { id: row.same_id, lastPressedAt: row.same_last_pressed_at } : null;
  return { instruction, same };
}

function instructionOf(siteId: string, row: InstructionRow): SiteInstruction {
  const type = row.type_snapshot;
  return {
    siteId,
    incidentId: row.id,
    typeKey: type.key,
    label: type.label,
    text: type.instruction,
    colour: type.colour,
    icon: type.icon,
    sound: type.sound,
    responseType: type.cap.responseType,
    drill: row.drill,
    since: row.raised_at.toISOString(),
    activeIncidents: Number(row.active),
  };
}

/**
 * The site's other active incidents. Their people were told the instruction that held when they
 * were alarmed; when it changes they are told too, even if the alarm that changed it did not target them.
 */
export async function otherActiveIncidents(db: Queryable, siteId: string, exceptIncidentId: string): Promise<{ id: string; drill: boolean }[]> {
  return (await db.query<{ id: string; drill: boolean }>(INSTRUCTION_SQL.othersActive, [siteId, exceptIncidentId])).rows;
}

/** Two instructions contradict when they ask for different actions (e.g. Evacuate against Shelter). */
export function contradicts(current: SiteInstruction | null, next: AlarmTypeSnapshot, drill: boolean): boolean {
  if (!current) return false;
  if (current.drill && !drill) return false;
  return current.responseType !== next.cap.responseType;
}

export const sameInstruction = (a: SiteInstruction | null, b: SiteInstruction | null): boolean =>
  (a?.incidentId ?? null) === (b?.incidentId ?? null);

/** The site's instruction as a person asks for it: those who work there and its leads. */
export async function instructionFor(db: Queryable, principal: Principal, siteId: string): Promise<SiteInstruction | null> {
  const site = await visibleSite(db, principal, siteId);
  const worksThere = Boolean((await db.query(INSTRUCTION_SQL.worksAt, [principal.personId, site.id])).rowCount);
  if (!canSeeSiteInstruction(principal, site, worksThere)) throw new AppError('forbidden');
  return siteInstruction(db, site.id);
}
