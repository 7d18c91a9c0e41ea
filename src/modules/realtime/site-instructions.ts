import type { OrgIncidentPayload, SiteInstructionPayload } from '../../contract/realtime.js';
import type { Db, Queryable } from '../../db/pool.js';
import type { Log } from '../../lib/log.js';
import type { CommittedChange } from '../alarms/pipeline.js';
import { presentSiteNotice } from '../alarms/presenters.js';
import { noticesFor, siteBystanders, siteInstructionChanges, siteNotice } from '../alarms/site-notices.js';
import type { Publisher } from './publisher.js';

const SITE_LIVE_SQL = {
  // An organisation's admins lead all its incidents (policies.isIncidentLead) but are in no group: they see them live here.
  orgAdmins: `
    SELECT DISTINCT p.id FROM role_assignments ra JOIN people p ON p.id = ra.person_id AND p.active
     WHERE ra.role = 'org_admin' AND p.organisation_id = $1`,
} as const;

/** Raised and ended incidents: what changes an organisation admin's list of active incidents. */
const LIST_CHANGES = new Set(['raised', 'resolved', 'cancelled']);

/**
 * The pipeline's `site-instructions` processor (ADR 027): a site's changed instruction to everyone who
 * works there and was not told by the change's own events, as `site_instruction`; and each raised or
 * ended incident to its organisation's admins, as `org_incident` (never another organisation's). Only
 * the present state travels, so a device that missed one gets the same on connect and sync (`welcome`).
 */
export class SiteInstructions {
  constructor(private readonly db: Db, private readonly publisher: Publisher, private readonly log: Log) {}

  async process(change: CommittedChange): Promise<void> {
    for (const site of siteInstructionChanges(change.events)) {
      const notice = await siteNotice(this.db, site.siteId);
      if (!notice) continue;
      const people = await siteBystanders(this.db, site);
      this.log.info({ siteId: site.siteId, incidentId: site.incidentId, people: people.length }, 'site instruction sent to the site');
      this.publisher.toPeople(people, 'site_instruction', presentSiteNotice(notice, site.at));
    }
    for (const event of change.events) {
      if (!LIST_CHANGES.has(event.type) || event.audience !== 'all') continue;
      const admins = await orgAdmins(this.db, event.organisationId);
      const payload: OrgIncidentPayload = { incident: event.data.incident as OrgIncidentPayload['incident'], at: new Date(event.at).toISOString() };
      this.publisher.toPeople(admins, 'org_incident', payload);
    }
  }

  /** What a device gets on connect: the instruction now at every site its person works at (null where nothing is active). */
  async welcome(personId: string, now: Date): Promise<SiteInstructionPayload[]> {
    return (await noticesFor(this.db, personId)).map((n) => presentSiteNotice(n, now));
  }
}

async function orgAdmins(db: Queryable, organisationId: string): Promise<string[]> {
  return (await db.query<{ id: string }>(SITE_LIVE_SQL.orgAdmins, [organisationId])).rows.map((r) => r.id);
}
