import type { AlarmTypeInput } from '../alarm-types/alarm-types.js';
import type { Queryable } from '../../db/pool.js';

/** The alarm type as frozen into an incident when it was raised. */
export type TypeSnapshot = AlarmTypeInput & { id: string; key: string };

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

export const INSTRUCTION_SQL = {
  activeAtSite: `
    SELECT id, type_snapshot, drill, raised_at, count(*) OVER () AS active
      FROM incidents
     WHERE site_id = $1 AND state = 'active'
     ORDER BY drill ASC, (type_snapshot->>'precedence')::int DESC, raised_at ASC
     LIMIT 1`,
  othersActive: "SELECT id FROM incidents WHERE site_id = $1 AND state = 'active' AND id <> $2 ORDER BY raised_at",
} as const;

export async function siteInstruction(db: Queryable, siteId: string): Promise<SiteInstruction | null> {
  const row = (await db.query<{ id: string; type_snapshot: TypeSnapshot; drill: boolean; raised_at: Date; active: string }>(
    INSTRUCTION_SQL.activeAtSite, [siteId],
  )).rows[0];
  if (!row) return null;
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
export async function otherActiveIncidents(db: Queryable, siteId: string, exceptIncidentId: string): Promise<string[]> {
  return (await db.query<{ id: string }>(INSTRUCTION_SQL.othersActive, [siteId, exceptIncidentId])).rows.map((r) => r.id);
}

/** Two instructions contradict when they ask for different actions (e.g. Evacuate against Shelter). */
export function contradicts(current: SiteInstruction | null, next: TypeSnapshot, drill: boolean): boolean {
  if (!current) return false;
  if (current.drill && !drill) return false;
  return current.responseType !== next.cap.responseType;
}

export const sameInstruction = (a: SiteInstruction | null, b: SiteInstruction | null): boolean =>
  (a?.incidentId ?? null) === (b?.incidentId ?? null);
