import type { Queryable } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import type { Principal } from '../auth/policies.js';
import { canonicalJson, sha256 } from './canonical.js';
import { toCsv, type Cell, type Separator } from './csv.js';
import { incidentReview, type IncidentReview } from './review.js';

export const EXPORT_FORMATS = ['json', 'csv', 'pdf', 'cap'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_VERSION = 1;

export interface ExportOptions {
  /** csv: recipients (one row per person) or timeline. */
  table: 'recipients' | 'timeline';
  separator: Separator;
  /** cap: which message of the chain (1-based); null: the newest. */
  message: number | null;
}

export interface ExportFile {
  contentType: string;
  filename: string;
  body: Buffer;
  sha256: string;
}

/** The canonical, versioned content of an incident's export: everything its review is built from and shows. */
export function exportContent(review: IncidentReview) {
  const { data, computed } = review;
  const i = data.incident;
  return {
    incident: {
      id: i.id, organisation: { id: i.organisationId, name: i.organisationName, organisationNumber: i.organisationNumber },
      site: { id: i.siteId, name: i.siteName, address: i.siteAddress, municipality: i.siteMunicipality },
      type: i.type, drill: i.drill, state: i.state, location: i.location, message: i.message, raisedBy: i.raisedBy,
      raisedAt: i.raisedAt, endedAt: i.endedAt, endedBy: i.endedBy, endReason: i.endReason,
      presses: data.presses,
    },
    figures: computed.figures,
    channels: computed.channels,
    recipients: computed.people,
    unreached: computed.unreached,
    escalation: computed.escalation,
    instructions: computed.instructions,
    timeline: computed.account,
    responses: data.responses,
    messages: data.messages,
    review: {
      current: review.revisions[0] ?? null,
      revisions: review.revisions,
      authorityReport: review.authorityReport,
    },
    linked: review.linked,
  };
}

const RECIPIENT_COLUMNS = [
  'drill', 'name', 'lead', 'pressed', 'delivered_at', 'delivered_ms', 'delivered_channel', 'seen_at', 'seen_ms', 'acknowledged_at',
  'acknowledged_ms', 'answer', 'answer_text', 'answered_at', 'answered_ms', 'answers', 'push_devices', 'push_accepted_ms', 'reminders',
  'named_to_contacts', 'unreached_reason',
];
const TIMELINE_COLUMNS = ['drill', 'at', 'offset_ms', 'type', 'delivery_attempt', 'actor', 'details'];

export function recipientRows(review: IncidentReview): Cell[][] {
  const drill = review.data.incident.drill ? 'ÖVNING' : '';
  return review.computed.people.map((p) => [
    drill, p.name, p.lead, p.pressed, p.deliveredAt, p.deliveredMs, p.deliveredChannel, p.seenAt, p.seenMs, p.acknowledgedAt, p.acknowledgedMs,
    p.answer, p.answerText, p.answeredAt, p.answeredMs, p.answers, p.pushDevices, p.pushAcceptedMs, p.reminders, p.namedToContacts, p.unreachedReason,
  ]);
}

export function timelineRows(review: IncidentReview): Cell[][] {
  const drill = review.data.incident.drill ? 'ÖVNING' : '';
  return review.computed.account.map((e) => [
    drill, e.at, e.offsetMs, e.type, e.attempt, e.actor,
    Object.entries(e.details).filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}=${String(v)}`).join('; '),
  ]);
}

async function render(review: IncidentReview, format: ExportFormat, options: ExportOptions, exportedAt: Date, principal: Principal): Promise<Omit<ExportFile, 'sha256'> & { sha256?: string }> {
  const i = review.data.incident;
  const base = `samlarm-${i.drill ? 'OVNING-' : ''}${i.raisedAt.toISOString().slice(0, 10)}-${i.id}`;
  switch (format) {
    case 'json': {
      const content = canonicalJson({ format: 'samlarm.incident', version: EXPORT_VERSION, ...exportContent(review) });
      const hash = sha256(content);
      // The content's bytes are exactly the canonical form the hash is taken of.
      const body = `{"format":"samlarm.incident-export","version":${EXPORT_VERSION},"sha256":"${hash}",`
        + `"exportedAt":${JSON.stringify(exportedAt.toISOString())},"exportedBy":${JSON.stringify(principal.personId)},"content":${content}}`;
      return { contentType: 'application/json; charset=utf-8', filename: `${base}.json`, body: Buffer.from(body), sha256: hash };
    }
    case 'csv': {
      const csv = options.table === 'timeline'
        ? toCsv(TIMELINE_COLUMNS, timelineRows(review), options.separator)
        : toCsv(RECIPIENT_COLUMNS, recipientRows(review), options.separator);
      return { contentType: 'text/csv; charset=utf-8', filename: `${base}-${options.table}.csv`, body: Buffer.from(csv) };
    }
    case 'pdf': {
      // Loaded on first use: pdfmake and pdfkit add half a second to every node's start-up otherwise.
      const { reviewPdf } = await import('./pdf.js');
      return { contentType: 'application/pdf', filename: `${base}.pdf`, body: await reviewPdf(review, exportedAt) };
    }
    case 'cap': {
      const n = options.message ?? review.cap.length;
      const message = review.cap[n - 1];
      if (!message) throw new AppError('validation_failed', {
        sv: `Larmet har ${review.cap.length} CAP-meddelanden.`, en: `This incident has ${review.cap.length} CAP messages.`,
      }, { messages: review.cap.length });
      return { contentType: 'application/cap+xml; charset=utf-8', filename: `${base}-cap-${n}.xml`, body: Buffer.from(message.xml) };
    }
  }
}

/** Exports an incident in one format; every export is written to the audit log (who, what, when, its SHA-256). */
export async function exportIncident(
  db: Queryable, clock: Clock, principal: Principal, incidentId: string, format: ExportFormat, options: ExportOptions, requestId: string,
): Promise<ExportFile> {
  const review = await incidentReview(db, clock, principal, incidentId, 'sv');
  const exportedAt = clock.now();
  const rendered = await render(review, format, options, exportedAt, principal);
  const file = { ...rendered, sha256: rendered.sha256 ?? sha256(rendered.body) };
  await recordAudit(db, {
    organisationId: review.data.incident.organisationId, actorPersonId: principal.personId, action: 'incident.exported',
    entityType: 'incident', entityId: incidentId, before: null,
    after: {
      format, drill: review.data.incident.drill, bytes: file.body.length, sha256: file.sha256,
      ...(format === 'csv' ? { table: options.table, separator: options.separator } : {}),
      ...(format === 'cap' ? { message: options.message ?? review.cap.length } : {}),
    },
    requestId,
  });
  return file;
}
