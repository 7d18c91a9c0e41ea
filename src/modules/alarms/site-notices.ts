import type { Queryable } from '../../db/pool.js';
import type { NewEvent } from './events.js';
import { siteInstruction, type SiteInstruction } from './instruction.js';

/**
 * "Instruction at your site" (issue 13, ADR 027): what a site's instruction is now, for the people who
 * work there but were not told by the alarm itself (they are in no group that receives its type). They
 * are never made recipients: the roll call counts only whom the alarm targeted.
 */
export interface SiteNotice {
  siteId: string;
  siteName: string;
  organisationId: string;
  /** What staff at the site must do now; null: nothing is active any more (back to normal). */
  instruction: SiteInstruction | null;
  /** The latest written instruction from a lead of the incident in force, if any. */
  message: { body: string; authorName: string; at: Date } | null;
}

/** A site whose instruction a change altered, and who already heard it through the change's own events. */
export interface SiteChange {
  siteId: string;
  organisationId: string;
  /** The incident whose change it was: the outbox rows of the notice belong to it. */
  incidentId: string;
  /** Incidents of the site that told their recipients in this change: those people need no notice. */
  told: string[];
  at: Date;
}

const SITE_NOTICE_SQL = {
  siteName: 'SELECT name, organisation_id AS "organisationId" FROM sites WHERE id = $1',
  latestMessage: `
    SELECT m.body, p.name AS "authorName", m.at
      FROM incident_messages m JOIN people p ON p.id = m.author_id
     WHERE m.incident_id = $1 AND m.kind = 'instruction'
     ORDER BY m.at DESC, m.id DESC LIMIT 1`,
  // Active people who work at the site and are not recipients of an incident that told them in this
  // change. Served by person_sites' site index and the recipients' (incident_id, person_id) key.
  bystanders: `
    SELECT ps.person_id AS "personId"
      FROM person_sites ps JOIN people p ON p.id = ps.person_id AND p.active
     WHERE ps.site_id = $1
       AND NOT EXISTS (SELECT 1 FROM incident_recipients r WHERE r.person_id = ps.person_id AND r.incident_id = ANY($2::uuid[]))`,
  sitesOf: 'SELECT site_id AS "siteId" FROM person_sites WHERE person_id = $1 ORDER BY site_id',
} as const;

const ENDED: ReadonlySet<NewEvent['type']> = new Set(['resolved', 'cancelled']);

/**
 * The sites whose instruction a change altered (pure): a raise that put its incident in force, an
 * instruction changed on the site's other incidents, an end that left nothing in force, or a lead's
 * written instruction on the incident in force. A linked incident is an incident of its own site, so
 * its raise and its end count there like any other.
 */
export function siteInstructionChanges(events: readonly NewEvent[]): SiteChange[] {
  const changes = new Map<string, SiteChange>();
  const inForce = (e: NewEvent) => (e.data.instruction as SiteInstruction | null | undefined)?.incidentId === e.incidentId;
  for (const event of events) {
    const changed = event.type === 'instruction_changed'
      || (event.type === 'raised' && inForce(event))
      || (ENDED.has(event.type) && event.data.instruction === null)
      || (event.type === 'message' && inForce(event));
    if (!changed || changes.has(event.siteId)) continue;
    changes.set(event.siteId, { siteId: event.siteId, organisationId: event.organisationId, incidentId: event.incidentId, told: [], at: event.at });
  }
  for (const event of events) {
    const change = changes.get(event.siteId);
    if (change && event.audience === 'all' && !change.told.includes(event.incidentId)) change.told.push(event.incidentId);
  }
  return [...changes.values()];
}

/** The site's instruction now, with the latest written instruction of the incident in force. */
export async function siteNotice(db: Queryable, siteId: string): Promise<SiteNotice | null> {
  const site = (await db.query<{ name: string; organisationId: string }>(SITE_NOTICE_SQL.siteName, [siteId])).rows[0];
  if (!site) return null;
  const instruction = await siteInstruction(db, siteId);
  const message = instruction
    ? (await db.query<{ body: string; authorName: string; at: Date }>(SITE_NOTICE_SQL.latestMessage, [instruction.incidentId])).rows[0] ?? null
    : null;
  return { siteId, siteName: site.name, organisationId: site.organisationId, instruction, message };
}

/** Who at the site gets the notice: everyone working there whom the change's own events did not tell. */
export async function siteBystanders(db: Queryable, change: Pick<SiteChange, 'siteId' | 'told'>): Promise<string[]> {
  return (await db.query<{ personId: string }>(SITE_NOTICE_SQL.bystanders, [change.siteId, change.told])).rows.map((r) => r.personId);
}

/** The notices of every site a person works at: what a device gets on connect (catch-up of the site's instruction). */
export async function noticesFor(db: Queryable, personId: string): Promise<SiteNotice[]> {
  const sites = (await db.query<{ siteId: string }>(SITE_NOTICE_SQL.sitesOf, [personId])).rows;
  const notices = await Promise.all(sites.map((s) => siteNotice(db, s.siteId)));
  return notices.filter((n): n is SiteNotice => n !== null);
}
