import type { Queryable } from '../../db/pool.js';
import { incidentBrief } from '../alarms/incidents.js';
import type { PendingChange } from '../alarms/pipeline.js';
import { siteBystanders, siteInstructionChanges, siteNotice } from '../alarms/site-notices.js';
import { policyOf } from './incident-pushes.js';
import { enqueuePeoplePush, supersedeQueued } from './outbox.js';
import { buildPayload, type PayloadInput } from './payload.js';

/** Push services take a Topic of at most 32 URL-safe characters: the site id without dashes. */
const siteTopic = (siteId: string) => siteId.replaceAll('-', '');

/**
 * The pipeline's `queue-site-pushes` step (ADR 027): when a change alters a site's instruction, one push
 * "instruction at your site" per device of everyone working there whom the change's own events did not
 * tell, queued in the change's transaction like the alarm's own pushes. Silent unless the instruction
 * in force is loud by type; never counted in the roll call (they are not recipients).
 */
export async function queueSitePushes(tx: Queryable, change: PendingChange, now: Date): Promise<void> {
  for (const site of siteInstructionChanges(change.events)) {
    const people = await siteBystanders(tx, site);
    if (people.length === 0) continue;
    const notice = await siteNotice(tx, site.siteId);
    const context = await incidentBrief(tx, site.incidentId);
    if (!notice || !context) continue;
    const input: PayloadInput = {
      kind: 'site_instruction', incident: context, instruction: notice.instruction, at: now,
      ...(notice.message ? { message: `${notice.message.authorName}: ${notice.message.body}` } : {}),
    };
    const topic = siteTopic(site.siteId);
    await supersedeQueued(tx, topic, 'site_instruction', now);
    await enqueuePeoplePush(tx, {
      incidentId: context.id, kind: 'site_instruction', payloads: { sv: buildPayload(input, 'sv'), en: buildPayload(input, 'en') },
      topic, ttlSeconds: policyOf(context).pushTtlSeconds, now, personIds: people,
    });
  }
}
