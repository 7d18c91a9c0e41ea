import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { canEditReview, type Principal } from '../auth/policies.js';
import type { ReviewComputation } from './figures.js';
import type { IncidentReviewData } from '../alarms/review-data.js';
import { reviewableIncident } from './access.js';
import { stockholmDateTime, seconds } from './format.js';

/** The review record (efterarbete) of an incident: what a person writes about it afterwards. */
export interface ReviewRecord {
  summary: string;
  causes: string;
  actions: { description: string; kind: 'taken' | 'planned'; owner: string | null; deadline: string | null; done: boolean }[];
  safetyRepresentative: { informed: boolean; name: string | null; informedAt: string | null };
  policeReportNumber: string | null;
  /** "Anmälningspliktigt till Arbetsmiljöverket?", asked on the day. */
  reportable: 'yes' | 'no' | 'undecided';
  report: {
    eventType: 'serious_near_miss' | 'serious_injury' | 'death' | null;
    building: string | null;
    room: string | null;
    affectedStaff: number;
    affectedPupils: number;
    injuries: boolean | null;
    contactName: string | null;
    contactPhone: string | null;
    contactEmail: string | null;
    reportedAt: string | null;
    receiptNumber: string | null;
  };
}

export type ReviewStatus = 'open' | 'closed';

export interface Revision {
  revision: number;
  status: ReviewStatus;
  record: ReviewRecord;
  author: { id: string; name: string };
  signedOffBy: { id: string; name: string } | null;
  at: Date;
}

export const RECORD_SQL = {
  revisions: `
    SELECT r.revision, r.status, r.record, json_build_object('id', a.id, 'name', a.name) AS author,
           CASE WHEN s.id IS NULL THEN NULL ELSE json_build_object('id', s.id, 'name', s.name) END AS "signedOffBy", r.at
      FROM incident_review_revisions r
      JOIN people a ON a.id = r.author_id
      LEFT JOIN people s ON s.id = r.signed_off_by
     WHERE r.incident_id = $1
     ORDER BY r.revision DESC`,
  latest: 'SELECT revision, status FROM incident_review_revisions WHERE incident_id = $1 ORDER BY revision DESC LIMIT 1',
  // The primary key (incident_id, revision) refuses a second writer of the same next revision.
  insert: `
    INSERT INTO incident_review_revisions (incident_id, revision, organisation_id, status, record, author_id, signed_off_by, at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  // Serialises writers of one incident's record, so the stale check and the insert see the same newest revision.
  lock: "SELECT pg_advisory_xact_lock(hashtextextended('review:' || $1::text, 0))",
} as const;

export async function revisions(db: Queryable, incidentId: string): Promise<Revision[]> {
  return (await db.query<Revision>(RECORD_SQL.revisions, [incidentId])).rows;
}

/** A first draft of the record, prefilled from the timeline: what happened, in Swedish. */
export function prefilledRecord(data: IncidentReviewData, review: ReviewComputation): ReviewRecord {
  const { incident } = data;
  const f = review.figures;
  const lines = [
    `${incident.drill ? 'ÖVNING: ' : ''}${incident.type.label.sv} vid ${incident.siteName}, larmat ${stockholmDateTime(incident.raisedAt)} ${incident.raisedBy ? `av ${incident.raisedBy.name}` : 'genom en länk från en annan organisation'}`
      + `${incident.location ? ` (plats: ${incident.location})` : ''}.`,
    `${f.toReach} personer skulle nås: ${f.reached} nåddes${f.allReachedMs !== null ? `, alla efter ${seconds(f.allReachedMs)}` : ''}; ${f.acknowledged} kvitterade.`,
    ...review.instructions.filter((i) => i.kind === 'message').map((i) => `Instruktion efter ${seconds(i.offsetMs)}: ${i.text ?? ''}`),
    ...(f.unreached > 0 ? [`Inte nådda: ${review.unreached.map((u) => u.name).join(', ')}.`] : []),
    incident.endedAt
      ? `${incident.state === 'resolved' ? 'Faran över' : 'Avbrutet'} ${stockholmDateTime(incident.endedAt)}${incident.endedBy ? ` av ${incident.endedBy.name}` : ''}`
        + `${incident.endReason ? ` (${incident.endReason})` : ''}.`
      : 'Larmet pågår fortfarande.',
  ];
  return {
    summary: lines.join('\n'),
    causes: '',
    actions: [],
    safetyRepresentative: { informed: false, name: null, informedAt: null },
    policeReportNumber: null,
    reportable: 'undecided',
    report: {
      eventType: null, building: null, room: incident.location, affectedStaff: 0, affectedPupils: 0, injuries: null,
      contactName: null, contactPhone: null, contactEmail: null, reportedAt: null, receiptNumber: null,
    },
  };
}

export interface SaveRecordInput {
  /** The revision the editor started from (0: none yet). Another revision saved since makes this one stale. */
  baseRevision: number;
  status: ReviewStatus;
  record: ReviewRecord;
}

/**
 * Saves a new revision: never overwrites. A stale base (someone saved meanwhile) is a 409 the editor
 * resolves by reloading; a closed record changes only by reopening it, which is a revision too;
 * closing (sign-off) needs the reportability question answered.
 */
export async function saveRecord(db: Db, clock: Clock, principal: Principal, incidentId: string, input: SaveRecordInput): Promise<Revision> {
  return inTransaction(db, async (tx) => {
    const incident = await reviewableIncident(tx, principal, incidentId);
    if (!canEditReview(principal, { id: incident.siteId, organisationId: incident.organisationId })) {
      throw new AppError('forbidden', {
        sv: 'Bara platsens krisledare, rektorer och administratörer ändrar dess efterarbete.',
        en: 'Only the crisis leads, rektorer and admins of the site edit its reviews.',
      });
    }
    await tx.query(RECORD_SQL.lock, [incidentId]);
    const latest = (await tx.query<{ revision: number; status: ReviewStatus }>(RECORD_SQL.latest, [incidentId])).rows[0];
    const current = latest?.revision ?? 0;
    if (input.baseRevision !== current) {
      throw new AppError('review_stale', undefined, { currentRevision: current, baseRevision: input.baseRevision });
    }
    if (latest?.status === 'closed' && input.status === 'closed') throw new AppError('review_closed');
    if (input.status === 'closed' && input.record.reportable === 'undecided') {
      throw new AppError('validation_failed', {
        sv: 'Svara på om händelsen är anmälningspliktig till Arbetsmiljöverket innan du godkänner.',
        en: 'Answer whether the incident is reportable to Arbetsmiljöverket before signing off.',
      });
    }
    await tx.query(RECORD_SQL.insert, [
      incidentId, current + 1, incident.organisationId, input.status, JSON.stringify(input.record), principal.personId,
      input.status === 'closed' ? principal.personId : null, clock.now(),
    ]);
    const saved = (await revisions(tx, incidentId))[0];
    if (!saved) throw new AppError('internal_error');
    return saved;
  });
}
