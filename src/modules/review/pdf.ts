import { createRequire } from 'node:module';
import pdfMake from 'pdfmake';
import type { Content, TDocumentDefinitions } from 'pdfmake/interfaces.js';
import { reachChart, rollCallChart } from './charts.js';
import type { AccountEntry, UnreachedReason } from './figures.js';
import { seconds, stockholmDateTime } from './format.js';
import { EVENT_TYPE_SV } from './report.js';
import type { IncidentReview } from './review.js';

/**
 * The "Händelserapport" of one incident as a PDF, drawn on the server with pdfmake (pdfkit) in the
 * embedded DejaVu Sans (its licence: docs/licenses/dejavu-fonts.txt): a first page with the figures,
 * the instruction history and the reach curve, then the roll call, the timeline and the review
 * record; page numbers on every page, and a drill's hazard band marked ÖVNING on every page.
 */

const require = createRequire(import.meta.url);
const FONT_FILES = {
  normal: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
  italics: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Oblique.ttf'),
  bolditalics: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-BoldOblique.ttf'),
};
pdfMake.setFonts({ DejaVuSans: FONT_FILES });
// Nothing a document contains may make the server fetch a URL or read a file other than the font.
pdfMake.setUrlAccessPolicy(() => false);
pdfMake.setLocalAccessPolicy((path) => Object.values(FONT_FILES).includes(path));

const TYPE_SV: Record<string, string> = {
  raised: 'Larm', joined: 'Anslöt till larmet', reraised: 'Larmade igen', recipients_computed: 'Mottagare beräknade',
  instruction_changed: 'Instruktionen ändrades', delivered: 'Nådd', acknowledged: 'Kvitterade', responded: 'Svarade',
  message: 'Instruktion', reply: 'Svar till ledningen', resolved: 'Faran över', cancelled: 'Avbrutet',
  repushed: 'Påminnelse', escalated: 'Eskalerat till kontakter', delivery_attempt: 'Leveransförsök',
};
const STATUS_SV: Record<string, string> = { safe: 'I säkerhet', need_help: 'Behöver hjälp', not_on_site: 'Inte på plats' };
const REASON_SV: Record<UnreachedReason, string> = {
  no_device: 'ingen enhet med push', push_denied: 'notiser blockerade', push_gone: 'push-prenumerationen fanns inte längre',
  push_failed: 'push misslyckades', push_not_confirmed: 'push lämnades till tjänsten men bekräftades aldrig', push_not_sent: 'push skickades aldrig',
};
const CHANNEL_SV: Record<string, string> = { socket: 'app (live)', push: 'push (bekräftad)', push_service: 'push (lämnad till tjänsten)', sms: 'SMS', response: 'svar' };

const describe = (e: AccountEntry): string => {
  const d = e.details;
  const parts = Object.entries(d).filter(([k, v]) => v !== null && v !== '' && !k.endsWith('En')).map(([k, v]) => {
    if (k === 'status' && typeof v === 'string') return STATUS_SV[v] ?? v;
    if (k === 'person' || k === 'body') return String(v);
    return `${k}: ${String(v)}`;
  });
  return parts.join(' · ');
};

const time = (iso: string | null) => (iso ? stockholmDateTime(new Date(iso)) : '–');
const table = (header: string[], rows: (string | number)[][], widths?: (string | number)[]): Content => ({
  table: {
    headerRows: 1,
    widths: widths ?? header.map(() => '*'),
    body: [header.map((h) => ({ text: h, bold: true })), ...rows.map((r) => r.map((c) => String(c)))],
  },
  layout: 'lightHorizontalLines',
  fontSize: 8,
  margin: [0, 4, 0, 10],
});

export function reviewPdfDefinition(review: IncidentReview, exportedAt: Date): TDocumentDefinitions {
  const { data, computed, record } = review;
  const i = data.incident;
  const f = computed.figures;
  const drill = i.drill;
  const title = `${drill ? 'ÖVNING – ' : ''}Händelserapport: ${i.type.label.sv}, ${i.siteName}`;
  const state = i.state === 'resolved' ? 'Faran över' : i.state === 'cancelled' ? 'Avbrutet' : 'Pågår';
  const figureRows: [string, string][] = [
    ['Tryck → sparat', 'registreras inte'],
    ['Skulle nås (utom den som larmade)', `${f.toReach} av ${f.targeted} mottagare`],
    ['Nådda / kvitterat / inte nådda', `${f.reached} / ${f.acknowledged} / ${f.unreached}`],
    ['Första enhet', seconds(f.firstDeviceMs)],
    ['50 % nådda', seconds(f.reached50Ms)],
    ['90 % nådda', seconds(f.reached90Ms)],
    ['Alla nådda', seconds(f.allReachedMs)],
    ['Första kvittens', seconds(f.firstAcknowledgementMs)],
    ['Första instruktion', seconds(f.firstInstructionMs)],
    ['Faran över', seconds(f.allClearMs)],
    ...(f.cancelledMs !== null ? [['Avbrutet', seconds(f.cancelledMs)] as [string, string]] : []),
    ['Svar', `i säkerhet ${f.answers.safe}, behöver hjälp ${f.answers.needHelp}, inte på plats ${f.answers.notOnSite}, inget svar ${f.answers.none}`],
  ];
  const timeline = computed.account.filter((e) => !e.attempt);
  const attempts = computed.account.length - timeline.length;
  const content: Content[] = [
    { text: title, style: 'title' },
    {
      columns: [
        { width: '*', text: [{ text: 'Larmtyp: ', bold: true }, i.type.label.sv, '\n', { text: 'Verksamhet: ', bold: true }, `${i.siteName}${i.siteAddress ? `, ${i.siteAddress}` : ''}`, '\n',
          { text: 'Organisation: ', bold: true }, i.organisationName, '\n', { text: 'Plats: ', bold: true }, i.location ?? '–'] },
        { width: '*', text: [{ text: 'Larmat: ', bold: true }, `${stockholmDateTime(i.raisedAt)} ${i.raisedBy ? `av ${i.raisedBy.name}` : '(larm från en länkad organisation)'}`, '\n',
          { text: 'Status: ', bold: true }, `${state}${i.endedAt ? ` ${stockholmDateTime(i.endedAt)}` : ''}${i.endedBy ? ` (${i.endedBy.name})` : ''}`, '\n',
          { text: 'Händelse-id: ', bold: true }, i.id] },
      ],
      fontSize: 9, margin: [0, 0, 0, 8],
    },
    { text: 'Nyckeltal (tid efter första trycket)', style: 'h2' },
    table(['Mått', 'Värde'], figureRows, [200, '*']),
    { text: 'Instruktioner', style: 'h2' },
    table(['Tid', 'Efter', 'Vad'], computed.instructions.map((x) => [
      time(x.at), seconds(x.offsetMs),
      x.kind === 'alarm' ? `Larm: ${x.label?.sv ?? ''} – ${x.text ?? ''}` : x.kind === 'changed' ? `Ny instruktion: ${x.label?.sv ?? ''}`
        : x.kind === 'message' ? `Instruktion: ${x.text ?? ''}` : x.kind === 'all_clear' ? `Faran över${x.text ? `: ${x.text}` : ''}` : `Avbrutet: ${x.text ?? ''}`,
    ]), [100, 50, '*']),
    { svg: reachChart(computed.reachCurve, 'sv'), width: 480 },
    { text: 'Leverans per kanal', style: 'h2', pageBreak: 'before' },
    table(['Kanal', 'Antal', 'p50', 'p90', 'max'], computed.channels.map((c) => [CHANNEL_SV[c.channel] ?? c.channel, c.n, seconds(c.p50Ms), seconds(c.p90Ms), seconds(c.maxMs)])),
    { svg: rollCallChart(computed.rollCall, computed.reachCurve.untilMs, 'sv'), width: 480 },
    { text: 'Närvaro och svar per person', style: 'h2' },
    table(['Namn', 'Nådd', 'Kanal', 'Sett', 'Kvitterat', 'Svar', 'Påminnelser'], computed.people.map((p) => [
      `${p.name}${p.lead ? ' (ledning)' : ''}${p.pressed ? ' (larmade)' : ''}`, seconds(p.deliveredMs), p.deliveredChannel ? CHANNEL_SV[p.deliveredChannel] ?? p.deliveredChannel : '–',
      seconds(p.seenMs), seconds(p.acknowledgedMs), p.answer ? `${STATUS_SV[p.answer] ?? p.answer}${p.answerText ? `: ${p.answerText}` : ''} (${seconds(p.answeredMs)})` : '–', p.reminders,
    ]), [110, 50, 55, 50, 50, '*', 45]),
    { text: 'Inte nådda', style: 'h2' },
    computed.unreached.length
      ? { ul: computed.unreached.map((u) => `${u.name}: ${REASON_SV[u.reason]}`), fontSize: 9, margin: [0, 0, 0, 8] }
      : { text: 'Alla som skulle nås nåddes.', fontSize: 9, margin: [0, 0, 0, 8] },
    { text: 'Eskalering', style: 'h2' },
    computed.escalation.length
      ? table(['Steg', 'Planerat', 'Kördes', 'Status', 'Ej nådda', 'Push', 'Kontakter'], computed.escalation.map((s) => [
        s.step === 'repush' ? `Påminnelse ${s.round}` : 'Kontakter', seconds(s.dueMs), seconds(s.ranMs), s.state, s.unreached ?? '–', s.pushes ?? '–',
        s.contacts.map((c) => `${c.name}${c.sms ? ' (SMS)' : ''}`).join(', ') || '–',
      ]))
      : { text: 'Ingen eskalering.', fontSize: 9, margin: [0, 0, 0, 8] },
    { text: 'Tidslinje', style: 'h2', pageBreak: 'before' },
    table(['Tid', 'Efter', 'Händelse', 'Vem', 'Detaljer'], timeline.map((e) => [
      time(e.at), seconds(e.offsetMs), TYPE_SV[e.type] ?? e.type, e.actor ?? '', describe(e),
    ]), [90, 50, 80, 80, '*']),
    { text: `${attempts} leveransförsök (push och SMS) finns i JSON- och CSV-exporten.`, fontSize: 8, italics: true },
    { text: 'Efterarbete', style: 'h2', pageBreak: 'before' },
    {
      text: review.revisions[0]
        ? `Version ${review.revisions[0].revision}, ${review.revisions[0].status === 'closed' ? `avslutad och signerad av ${review.revisions[0].signedOffBy?.name ?? ''}` : 'öppen'}, ${stockholmDateTime(new Date(review.revisions[0].at))} (${review.revisions[0].author.name})`
        : 'Inget efterarbete sparat ännu: förslag ur tidslinjen.',
      fontSize: 9, italics: true,
    },
    { text: 'Vad hände', style: 'h3' }, { text: record.summary || '–', fontSize: 9 },
    { text: 'Orsaker', style: 'h3' }, { text: record.causes || '–', fontSize: 9 },
    { text: 'Åtgärder', style: 'h3' },
    record.actions.length
      ? table(['Åtgärd', 'Typ', 'Ansvarig', 'Senast', 'Klar'], record.actions.map((a) => [a.description, a.kind === 'taken' ? 'vidtagen' : 'planerad', a.owner ?? '–', a.deadline ?? '–', a.done ? 'ja' : 'nej']))
      : { text: '–', fontSize: 9 },
    { text: 'Skyddsombud informerat', style: 'h3' },
    { text: record.safetyRepresentative.informed ? `Ja: ${record.safetyRepresentative.name ?? ''} ${time(record.safetyRepresentative.informedAt)}` : 'Nej', fontSize: 9 },
    { text: 'Polisanmälan', style: 'h3' }, { text: record.policeReportNumber ?? '–', fontSize: 9 },
    { text: 'Anmälningspliktigt till Arbetsmiljöverket?', style: 'h3' },
    { text: record.reportable === 'yes' ? 'Ja' : record.reportable === 'no' ? 'Nej' : 'Inte besvarat', fontSize: 9 },
  ];
  if (record.reportable === 'yes') content.push(...authorityReportContent(review));
  return {
    info: { title, subject: 'Händelserapport', creator: 'Samlarm', producer: 'Samlarm' },
    language: 'sv-SE',
    pageSize: 'A4',
    pageMargins: [40, drill ? 70 : 50, 40, 50],
    defaultStyle: { font: 'DejaVuSans', fontSize: 10 },
    styles: {
      title: { fontSize: 16, bold: true, margin: [0, 0, 0, 8] },
      h2: { fontSize: 12, bold: true, margin: [0, 8, 0, 2] },
      h3: { fontSize: 10, bold: true, margin: [0, 6, 0, 2] },
    },
    header: (): Content => (drill
      ? {
        stack: [
          { canvas: hazardBand(), absolutePosition: { x: 0, y: 0 } },
          { text: 'ÖVNING – ÖVNING – ÖVNING', bold: true, fontSize: 16, alignment: 'center', margin: [0, 34, 0, 0] },
        ],
      }
      : { text: 'Samlarm – Händelserapport', fontSize: 8, margin: [40, 20, 40, 0], color: '#444444' }),
    footer: (page: number, pages: number): Content => ({
      columns: [
        { text: `${drill ? 'ÖVNING · ' : ''}${i.type.label.sv}, ${i.siteName} · exporterad ${stockholmDateTime(exportedAt)}`, fontSize: 8 },
        { text: `Sida ${page} av ${pages}`, alignment: 'right', fontSize: 8 },
      ],
      margin: [40, 16, 40, 0],
    }),
    content,
  };
}

/** Yellow and black diagonal stripes across the top of an A4 page: the drill's hazard marking. */
function hazardBand() {
  const width = 595.28;
  const height = 26;
  const shapes: { type: 'polyline'; points: { x: number; y: number }[]; closePath: boolean; color: string }[] = [
    { type: 'polyline', points: [{ x: 0, y: 0 }, { x: width, y: 0 }, { x: width, y: height }, { x: 0, y: height }], closePath: true, color: '#ffd600' },
  ];
  for (let x = -height; x < width; x += 40) {
    shapes.push({ type: 'polyline', points: [{ x, y: height }, { x: x + 20, y: height }, { x: x + 20 + height, y: 0 }, { x: x + height, y: 0 }], closePath: true, color: '#000000' });
  }
  return shapes;
}

function authorityReportContent(review: IncidentReview): Content[] {
  const r = review.authorityReport;
  const line = (label: string, value: string): Content => ({ text: [{ text: `${label}: `, bold: true }, value], fontSize: 9, margin: [0, 1, 0, 1] });
  return [
    { text: r.title, style: 'h2', pageBreak: 'before' },
    { text: 'Utkast från Samlarm. Anmälan görs av arbetsgivaren i Arbetsmiljöverkets e-tjänst.', fontSize: 8, italics: true, margin: [0, 0, 0, 6] },
    line('Arbetsgivare', r.employer.name),
    line('Organisationsnummer', r.employer.organisationNumber ?? 'saknas'),
    line('Arbetsställe', [r.workplace.name, r.workplace.address ?? 'adress saknas', r.workplace.municipality ?? 'kommun saknas'].join(', ')),
    line('Kontaktperson', [r.contactPerson.name, r.contactPerson.phone, r.contactPerson.email].filter(Boolean).join(', ') || 'saknas'),
    line('Typ av händelse', r.eventType ? EVENT_TYPE_SV[r.eventType] : 'saknas'),
    line('Datum och tid', stockholmDateTime(new Date(r.occurredAt))),
    line('Plats', [r.place.site, r.place.building, r.place.room, r.place.location].filter(Boolean).join(', ')),
    line('Händelseförlopp', r.courseOfEvents || 'saknas'),
    line('Berörda', `personal ${r.affected.staff}, elever ${r.affected.pupils}, personskador: ${r.affected.injuries === null ? 'saknas' : r.affected.injuries ? 'ja' : 'nej'}`),
    line('Vidtagna åtgärder', r.measuresTaken.join('; ') || '–'),
    line('Planerade åtgärder', r.measuresPlanned.join('; ') || '–'),
    line('Skyddsombud informerat', r.safetyRepresentative.informed ? `ja, ${r.safetyRepresentative.name ?? ''} ${time(r.safetyRepresentative.informedAt)}` : 'nej'),
    line('Anmäld', r.reported.at ? `${time(r.reported.at)}, ärendenummer ${r.reported.receiptNumber ?? 'saknas'}` : 'inte ännu'),
  ];
}

export async function reviewPdf(review: IncidentReview, exportedAt: Date): Promise<Buffer> {
  return pdfMake.createPdf(reviewPdfDefinition(review, exportedAt)).getBuffer();
}
