import type { Queryable } from '../../db/pool.js';
import { incidentBrief } from '../alarms/incidents.js';
import type { PendingChange } from '../alarms/pipeline.js';
import { siteBystanders, siteInstructionChanges, siteNotice } from '../alarms/site-notices.js';
import { policyOf } from './incident-pushes.js';
import { buildPayload, type PayloadInput } from './payload.js';

const SITE_PUSH_SQL = {
  // One row per live subscription of the people given, under the site's Topic: the push service keeps
  // only the newest instruction of a site for a phone that is off.
  enqueue: `
    INSERT INTO deliveries (incident_id, person_id, subscription_id, channel, kind, origin, payload, topic, ttl_seconds, due_at, expires_at)
    SELECT $1, p.id, ps.id, 'push', 'site_instruction', ps.origin,
           CASE WHEN p.language = 'en' THEN $3::jsonb ELSE $2::jsonb END, $4, $5::int, $6, $6::timestamptz + make_interval(secs => $5::int)
      FROM people p
      JOIN push_subscriptions ps ON ps.person_id = p.id
      JOIN live_sessions s ON s.id = ps.session_id
     WHERE p.id = ANY($7::uuid[]) AND p.active`,
  // A newer instruction for the site makes any older one still queued (waiting out a retry) stale.
  supersede: `
    UPDATE deliveries SET state = 'cancelled', last_error = 'superseded by a newer site instruction', finished_at = $2, claim = NULL
     WHERE topic = $1 AND kind = 'site_instruction' AND state = 'queued'`,
} as const;

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
    await tx.query(SITE_PUSH_SQL.supersede, [topic, now]);
    await tx.query(SITE_PUSH_SQL.enqueue, [
      context.id, JSON.stringify(buildPayload(input, 'sv')), JSON.stringify(buildPayload(input, 'en')), topic,
      policyOf(context).pushTtlSeconds, now, people,
    ]);
  }
}
