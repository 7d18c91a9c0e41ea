import { create } from 'xmlbuilder2';
import type { IncidentReviewData } from '../alarms/review-data.js';
import type { ReviewComputation } from './figures.js';
import { capDateTime } from './format.js';

/**
 * The incident as a chain of CAP 1.2 messages (OASIS Common Alerting Protocol): the alarm as
 * Alert; each instruction from a lead and each change of the site's instruction as Update; all
 * clear as Update with responseType AllClear; a cancelled alarm as Cancel. Each message references
 * every earlier one. Drills are status Exercise; scope is always Restricted (the school's own people).
 */

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

export interface CapMessage {
  sequence: number;
  msgType: 'Alert' | 'Update' | 'Cancel';
  identifier: string;
  sent: string;
  xml: string;
}

interface Info {
  language: string;
  responseType: string;
  urgency: string;
  severity: string;
  headline: string;
  description: string | null;
  instruction: string | null;
}

const RESTRICTION = 'Endast för mottagarna i Samlarm vid verksamheten / Only for the recipients at the site in Samlarm';

export function capMessages(data: IncidentReviewData, review: ReviewComputation): CapMessage[] {
  const { incident } = data;
  const type = incident.type;
  const sender = `samlarm:${incident.organisationId}`;
  const area = [incident.siteName, incident.siteAddress].filter(Boolean).join(', ');
  const drillSv = incident.drill ? 'ÖVNING – ' : '';
  const drillEn = incident.drill ? 'DRILL – ' : '';
  const planned: { msgType: CapMessage['msgType']; at: Date; key: string; infos: Info[]; note: string | null }[] = [];
  const where = incident.location ? `\nPlats: ${incident.location}` : '';
  const whereEn = incident.location ? `\nLocation: ${incident.location}` : '';
  planned.push({
    msgType: 'Alert', at: incident.raisedAt, key: 'alert', note: null,
    infos: [
      { language: 'sv-SE', responseType: type.cap.responseType, urgency: type.cap.urgency, severity: type.cap.severity,
        headline: `${drillSv}${type.label.sv} – ${incident.siteName}`, description: `${incident.message ?? type.label.sv}${where}`, instruction: type.instruction.sv },
      { language: 'en-GB', responseType: type.cap.responseType, urgency: type.cap.urgency, severity: type.cap.severity,
        headline: `${drillEn}${type.label.en} – ${incident.siteName}`, description: `${incident.message ?? type.label.en}${whereEn}`, instruction: type.instruction.en },
    ],
  });
  review.instructions.forEach((i, n) => {
    if (i.kind === 'message' || i.kind === 'changed') {
      const text = i.kind === 'message' ? i.text ?? '' : `Ny instruktion: ${i.label?.sv ?? ''}`;
      planned.push({
        msgType: 'Update', at: new Date(i.at), key: `update-${n}`, note: null,
        infos: [{ language: 'sv-SE', responseType: type.cap.responseType, urgency: type.cap.urgency, severity: type.cap.severity,
          headline: `${drillSv}${type.label.sv} – ${incident.siteName}: instruktion`, description: null, instruction: text }],
      });
    }
    if (i.kind === 'all_clear') {
      planned.push({
        msgType: 'Update', at: new Date(i.at), key: 'all-clear', note: i.text,
        infos: [
          { language: 'sv-SE', responseType: 'AllClear', urgency: 'Past', severity: 'Minor', headline: `${drillSv}Faran över – ${incident.siteName}`,
            description: `${type.label.sv}: faran över.`, instruction: i.text },
          { language: 'en-GB', responseType: 'AllClear', urgency: 'Past', severity: 'Minor', headline: `${drillEn}All clear – ${incident.siteName}`,
            description: `${type.label.en}: all clear.`, instruction: i.text },
        ],
      });
    }
    if (i.kind === 'cancelled') {
      planned.push({ msgType: 'Cancel', at: new Date(i.at), key: 'cancel', note: `Larmet avbröts: ${i.text ?? ''}`, infos: [] });
    }
  });

  const sent: string[] = [];
  return planned.map((m, index) => {
    const identifier = `samlarm-${incident.id}-${m.key}`;
    const at = capDateTime(m.at);
    const doc = create({ version: '1.0', encoding: 'UTF-8' }).ele(CAP_NAMESPACE, 'alert');
    const el = (parent: typeof doc, name: string, text: string) => parent.ele(name).txt(text).up();
    el(doc, 'identifier', identifier);
    el(doc, 'sender', sender);
    el(doc, 'sent', at);
    el(doc, 'status', incident.drill ? 'Exercise' : 'Actual');
    el(doc, 'msgType', m.msgType);
    el(doc, 'source', 'Samlarm');
    el(doc, 'scope', 'Restricted');
    el(doc, 'restriction', RESTRICTION);
    const note = [incident.drill ? 'ÖVNING / DRILL' : null, m.note].filter(Boolean).join(' – ');
    if (note) el(doc, 'note', note);
    if (sent.length) el(doc, 'references', sent.join(' '));
    el(doc, 'incidents', incident.id);
    for (const info of m.infos) {
      const i = doc.ele('info');
      el(i, 'language', info.language);
      el(i, 'category', type.cap.category);
      el(i, 'event', type.cap.event);
      el(i, 'responseType', info.responseType);
      el(i, 'urgency', info.urgency);
      el(i, 'severity', info.severity);
      el(i, 'certainty', 'Observed');
      el(i, 'senderName', `${incident.organisationName} – ${incident.siteName}`);
      el(i, 'headline', info.headline);
      if (info.description) el(i, 'description', info.description);
      if (info.instruction) el(i, 'instruction', info.instruction);
      if (incident.drill) {
        const p = i.ele('parameter');
        el(p, 'valueName', 'exercise');
        el(p, 'value', 'true');
        p.up();
      }
      const a = i.ele('area');
      el(a, 'areaDesc', area);
      a.up();
      i.up();
    }
    sent.push(`${sender},${identifier},${at}`);
    return { sequence: index + 1, msgType: m.msgType, identifier, sent: at, xml: doc.end({ prettyPrint: true }) };
  });
}
