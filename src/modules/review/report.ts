import type { ReviewIncident } from '../alarms/review-data.js';
import type { ReviewRecord } from './record.js';

/**
 * "Underlag för anmälan enligt 3 kap. 3 a § arbetsmiljölagen": what the employer tells
 * Arbetsmiljöverket after a serious incident, gathered from the incident and the review record.
 * Samlarm prepares it; a person submits it through the authority's own service.
 */
export interface AuthorityReport {
  title: string;
  drill: boolean;
  reportable: ReviewRecord['reportable'];
  employer: { name: string; organisationNumber: string | null };
  workplace: { name: string; address: string | null; municipality: string | null };
  contactPerson: { name: string | null; phone: string | null; email: string | null };
  eventType: ReviewRecord['report']['eventType'];
  occurredAt: string;
  place: { site: string; building: string | null; room: string | null; location: string | null };
  courseOfEvents: string;
  affected: { staff: number; pupils: number; injuries: boolean | null };
  measuresTaken: string[];
  measuresPlanned: string[];
  safetyRepresentative: ReviewRecord['safetyRepresentative'];
  policeReportNumber: string | null;
  reported: { at: string | null; receiptNumber: string | null };
  /** What must still be filled in before it can be submitted. */
  missing: string[];
}

export const AUTHORITY_REPORT_TITLE = 'Underlag för anmälan enligt 3 kap. 3 a § arbetsmiljölagen';

export function authorityReport(incident: ReviewIncident, record: ReviewRecord): AuthorityReport {
  const r = record.report;
  const action = (a: ReviewRecord['actions'][number]) =>
    `${a.description}${a.owner ? ` (ansvarig: ${a.owner}` : ''}${a.owner && a.deadline ? `, senast ${a.deadline})` : a.owner ? ')' : a.deadline ? ` (senast ${a.deadline})` : ''}`;
  const report: Omit<AuthorityReport, 'missing'> = {
    title: AUTHORITY_REPORT_TITLE,
    drill: incident.drill,
    reportable: record.reportable,
    employer: { name: incident.organisationName, organisationNumber: incident.organisationNumber },
    workplace: { name: incident.siteName, address: incident.siteAddress, municipality: incident.siteMunicipality },
    contactPerson: { name: r.contactName, phone: r.contactPhone, email: r.contactEmail },
    eventType: r.eventType,
    occurredAt: incident.raisedAt.toISOString(),
    place: { site: incident.siteName, building: r.building, room: r.room, location: incident.location },
    courseOfEvents: record.summary,
    affected: { staff: r.affectedStaff, pupils: r.affectedPupils, injuries: r.injuries },
    measuresTaken: record.actions.filter((a) => a.kind === 'taken').map(action),
    measuresPlanned: record.actions.filter((a) => a.kind === 'planned').map(action),
    safetyRepresentative: record.safetyRepresentative,
    policeReportNumber: record.policeReportNumber,
    reported: { at: r.reportedAt, receiptNumber: r.receiptNumber },
  };
  const missing = [
    ...(report.employer.organisationNumber ? [] : ['employer.organisationNumber']),
    ...(report.workplace.address ? [] : ['workplace.address']),
    ...(report.workplace.municipality ? [] : ['workplace.municipality']),
    ...(report.contactPerson.name && (report.contactPerson.phone || report.contactPerson.email) ? [] : ['contactPerson']),
    ...(report.eventType ? [] : ['eventType']),
    ...(report.courseOfEvents.trim() ? [] : ['courseOfEvents']),
    ...(report.affected.injuries === null ? ['affected.injuries'] : []),
  ];
  return { ...report, missing };
}

export const EVENT_TYPE_SV: Record<NonNullable<ReviewRecord['report']['eventType']>, string> = {
  serious_near_miss: 'Allvarligt tillbud',
  serious_injury: 'Olycka med svår personskada',
  death: 'Dödsfall',
};
