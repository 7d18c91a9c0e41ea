import type { Queryable } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { canEditReview, type Principal } from '../auth/policies.js';
import { incidentReviewData, type IncidentReviewData } from '../alarms/review-data.js';
import { reviewableIncident } from './access.js';
import type { CapMessage } from './cap.js';
import { reachChart, rollCallChart, type Lang } from './charts.js';
import { computeReview, type ReviewComputation } from './figures.js';
import { prefilledRecord, revisions, type Revision, type ReviewRecord } from './record.js';
import { authorityReport, type AuthorityReport } from './report.js';
import type { LinkedCounts } from '../../contract/alarms.js';
import { linkedCountsFor } from '../links/crossing.js';

export interface IncidentReview {
  data: IncidentReviewData;
  computed: ReviewComputation;
  revisions: Revision[];
  /** The newest revision's record, or the prefilled draft when nobody has written one yet. */
  record: ReviewRecord;
  authorityReport: AuthorityReport;
  cap: CapMessage[];
  linked: LinkedCounts[];
  mayEdit: boolean;
  charts: { reach: string; rollCall: string };
}

/** An incident's review as the caller may read it: every figure, the record and its revisions, the draft report. */
export async function incidentReview(db: Queryable, clock: Clock, principal: Principal, incidentId: string, lang: Lang): Promise<IncidentReview> {
  const scope = await reviewableIncident(db, principal, incidentId);
  const [data, history] = await Promise.all([incidentReviewData(db, incidentId), revisions(db, incidentId)]);
  if (!data) throw new AppError('not_found');
  const computed = computeReview(data, clock.now());
  // Loaded on first use, like the PDF: the XML builder is not needed to start a node.
  const { capMessages } = await import('./cap.js');
  const record = history[0]?.record ?? prefilledRecord(data, computed);
  return {
    data,
    computed,
    revisions: history,
    record,
    authorityReport: authorityReport(data.incident, record),
    cap: capMessages(data, computed),
    // Per linked site the alarm crossed to, only the counts the link shares (docs/linking.md).
    linked: await linkedCountsFor(db, incidentId),
    mayEdit: canEditReview(principal, { id: scope.siteId, organisationId: scope.organisationId }),
    charts: {
      reach: reachChart(computed.reachCurve, lang),
      rollCall: rollCallChart(computed.rollCall, computed.reachCurve.untilMs, lang),
    },
  };
}
