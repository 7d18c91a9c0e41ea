import type { Queryable } from '../../db/pool.js';
import type { PushProgressView, ResponseStatus, RollCallSummary, RollCallView } from '../../contract/alarms.js';
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../auth/policies.js';
import type { AlarmSources } from './deps.js';
import { visibleIncident } from './incidents.js';

export interface RollCallEntry {
  personId: string;
  name: string;
  /** So that a lead can call someone who needs help or cannot be reached. */
  phone: string | null;
  lead: boolean;
  deliveredAt: Date | null;
  acknowledgedAt: Date | null;
  status: ResponseStatus | null;
  text: string | null;
  location: string | null;
  respondedAt: Date | null;
}


const ROLLCALL_SQL = {
  // One row per targeted person with their latest response; a lateral lookup per person on the
  // (incident_id, person_id, id DESC) index.
  entries: `
    SELECT r.person_id AS "personId", p.name, p.phone, r.lead, r.delivered_at AS "deliveredAt", r.acknowledged_at AS "acknowledgedAt",
           lr.status, lr.text, lr.location, lr.at AS "respondedAt"
      FROM incident_recipients r
      JOIN people p ON p.id = r.person_id
      LEFT JOIN LATERAL (
        SELECT status, text, location, at FROM incident_responses x
         WHERE x.incident_id = r.incident_id AND x.person_id = r.person_id ORDER BY x.id DESC LIMIT 1
      ) lr ON true
     WHERE r.incident_id = $1
     ORDER BY (lr.status = 'need_help') DESC NULLS LAST, p.name, p.id`,
  // The same counts for several incidents at once, without names: what the leads' live summaries (four a second
  // while an alarm's receipts arrive) and a linked organisation's leads read. Each person's latest answer is
  // taken from the incidents' answers in one pass and joined by hash, not looked up once per recipient: for
  // 5,000 recipients about 1.6 ms against 14 ms (docs/PERFORMANCE.md, 2026-12-03 late evening).
  counts: `
    WITH latest AS (
      SELECT DISTINCT ON (incident_id, person_id) incident_id, person_id, status
        FROM incident_responses WHERE incident_id = ANY($1::uuid[])
       ORDER BY incident_id, person_id, id DESC
    )
    SELECT r.incident_id AS "incidentId", count(*)::int AS targeted, count(r.delivered_at)::int AS delivered,
           count(r.acknowledged_at)::int AS acknowledged, count(*) FILTER (WHERE lr.status = 'safe')::int AS safe,
           count(*) FILTER (WHERE lr.status = 'need_help')::int AS "needHelp",
           count(*) FILTER (WHERE lr.status = 'not_on_site')::int AS "notOnSite", count(*) FILTER (WHERE lr.status IS NULL)::int AS "noAnswer"
      FROM incident_recipients r
      LEFT JOIN latest lr ON lr.incident_id = r.incident_id AND lr.person_id = r.person_id
     WHERE r.incident_id = ANY($1::uuid[])
     GROUP BY r.incident_id`,
} as const;

/** Who was targeted, reached, acknowledged, safe, needs help: the counts and everyone by name. */
export async function rollCall(db: Queryable, incidentId: string): Promise<{ summary: RollCallSummary; people: RollCallEntry[] }> {
  const people = (await db.query<RollCallEntry>(ROLLCALL_SQL.entries, [incidentId])).rows;
  const count = (predicate: (e: RollCallEntry) => boolean) => people.filter(predicate).length;
  return {
    summary: {
      targeted: people.length,
      delivered: count((e) => e.deliveredAt !== null),
      acknowledged: count((e) => e.acknowledgedAt !== null),
      safe: count((e) => e.status === 'safe'),
      needHelp: count((e) => e.status === 'need_help'),
      notOnSite: count((e) => e.status === 'not_on_site'),
      noAnswer: count((e) => e.status === null),
    },
    people,
  };
}

/** The roll call's counts of several incidents, without names. */
export async function rollCallCounts(db: Queryable, incidentIds: string[]): Promise<Map<string, RollCallSummary>> {
  if (incidentIds.length === 0) return new Map();
  const rows = (await db.query<RollCallSummary & { incidentId: string }>(ROLLCALL_SQL.counts, [incidentIds])).rows;
  return new Map(rows.map(({ incidentId, ...counts }) => [incidentId, counts]));
}

const NOBODY: RollCallSummary = { targeted: 0, delivered: 0, acknowledged: 0, safe: 0, needHelp: 0, notOnSite: 0, noAnswer: 0 };

/** One incident's counts, without reading anyone's name: what the live summaries send. */
export async function rollCallSummary(db: Queryable, incidentId: string): Promise<RollCallSummary> {
  return (await rollCallCounts(db, [incidentId])).get(incidentId) ?? NOBODY;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const NO_PUSH: PushProgressView = { devices: 0, acceptedAt: null, reminders: 0, sms: null };

/**
 * The roll call as a lead reads it: names, answers, and for those not reached what push did; for each
 * linked organisation the alarm crossed to, counts only. Leads only.
 */
export async function rollCallFor(
  db: Queryable, sources: Pick<AlarmSources, 'pushProgress' | 'linkedCounts'>, principal: Principal, incidentId: string,
): Promise<RollCallView> {
  const { incident, lead } = await visibleIncident(db, principal, incidentId);
  if (!lead) throw new AppError('forbidden', { sv: 'Bara larmets ledare ser uppropet.', en: 'Only the incident\'s leads see the roll call.' });
  const [{ summary, people }, pushes, linked] = await Promise.all([
    rollCall(db, incident.id), sources.pushProgress(db, incident.id), sources.linkedCounts(db, incident.id),
  ]);
  return {
    summary,
    linked,
    people: people.map((p) => {
      const push = pushes.get(p.personId);
      return {
        ...p, deliveredAt: iso(p.deliveredAt), acknowledgedAt: iso(p.acknowledgedAt), respondedAt: iso(p.respondedAt),
        push: push ? {
          devices: push.devices, acceptedAt: iso(push.acceptedAt), reminders: push.reminders,
          sms: push.sms ? { state: push.sms.state, at: iso(push.sms.at) } : null,
        } : NO_PUSH,
      };
    }),
  };
}
