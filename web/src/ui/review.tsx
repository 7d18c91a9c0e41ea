import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../lib/api.ts';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { storedToken } from '../lib/session.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { Bilingual, Lang } from '../lib/types.ts';
import { ErrorText, Page, errorMessage, link } from './components.tsx';

/** The post-incident review (efterarbete): figures, charts, the account minute by minute, the record and the exports. */

type Ms = number | null;
interface Person {
  personId: string; name: string; lead: boolean; pressed: boolean; deliveredMs: Ms; deliveredChannel: string | null; seenMs: Ms;
  acknowledgedMs: Ms; answer: string | null; answerText: string | null; answeredMs: Ms; reminders: number; namedToContacts: boolean;
  unreachedReason: string | null;
}
interface AccountEntry { id: string; at: string; offsetMs: number; type: string; attempt: boolean; actor: string | null; details: Record<string, string | number | boolean | null> }
interface ReviewRecord {
  summary: string; causes: string;
  actions: { description: string; kind: 'taken' | 'planned'; owner: string | null; deadline: string | null; done: boolean }[];
  safetyRepresentative: { informed: boolean; name: string | null; informedAt: string | null };
  policeReportNumber: string | null; reportable: 'yes' | 'no' | 'undecided';
  report: {
    eventType: 'serious_near_miss' | 'serious_injury' | 'death' | null; building: string | null; room: string | null; affectedStaff: number;
    affectedPupils: number; injuries: boolean | null; contactName: string | null; contactPhone: string | null; contactEmail: string | null;
    reportedAt: string | null; receiptNumber: string | null;
  };
}
interface Revision { revision: number; status: 'open' | 'closed'; record: ReviewRecord; author: { name: string }; signedOffBy: { name: string } | null; at: string }
interface Review {
  incident: {
    id: string; siteName: string; type: { label: Bilingual }; drill: boolean; state: string; location: string | null; raisedBy: { name: string } | null;
    raisedAt: string; endedAt: string | null; endedBy: { name: string } | null; endReason: string | null;
  };
  figures: {
    targeted: number; pressers: number; toReach: number; reached: number; acknowledged: number; unreached: number; firstDeviceMs: Ms;
    reached50Ms: Ms; reached90Ms: Ms; allReachedMs: Ms; firstAcknowledgementMs: Ms; firstInstructionMs: Ms; allClearMs: Ms; cancelledMs: Ms;
    answers: { safe: number; needHelp: number; notOnSite: number; none: number };
  };
  channels: { channel: string; n: number; p50Ms: Ms; p90Ms: Ms; maxMs: Ms }[];
  people: Person[];
  unreached: { personId: string; name: string; reason: string }[];
  escalation: { step: string; round: number; dueMs: number; ranMs: Ms; state: string; unreached: number | null; contacts: { name: string; sms: boolean }[] }[];
  account: AccountEntry[];
  instructions: { at: string; offsetMs: number; kind: string; label: Bilingual | null; text: string | null }[];
  charts: { reach: string; rollCall: string };
  record: { current: Revision | null; draft: ReviewRecord; revisions: number; mayEdit: boolean };
  authorityReport: {
    title: string; employer: { name: string; organisationNumber: string | null }; workplace: { name: string; address: string | null; municipality: string | null };
    missing: string[];
  };
  cap: { sequence: number; msgType: string }[];
  linked: { organisationName: string; siteName: string; targeted: number; reached: number; acknowledged: number; safe: number; needHelp: number }[];
}

type T = (key: TextKey, vars?: Record<string, string | number>) => string;

export const secondsText = (lang: Lang, ms: Ms): string =>
  ms === null ? '–' : `${(ms / 1000).toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB', { minimumFractionDigits: 3, maximumFractionDigits: 3 })} s`;

/** The SVG scales to the page (the server draws it 640 wide for the PDF). */
export const Chart = ({ svg, caption }: { svg: string; caption: string }) => (
  <figure class="card" style={{ margin: '1rem 0' }}>
    <div dangerouslySetInnerHTML={{ __html: svg.replace(/ width="\d+" height="\d+"/, ' width="100%"') }} />
    <figcaption class="help">{caption}</figcaption>
  </figure>
);

/** Downloads an export with the session's token (a plain link cannot carry it). */
async function download(path: string, t: T): Promise<string | null> {
  const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${storedToken() ?? ''}` } });
  if (!res.ok) return t('exportFailed');
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'samlarm-export';
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return null;
}

const EVENT_KEYS: Record<string, TextKey> = {
  raised: 'evRaised', joined: 'evJoined', reraised: 'evReraised', recipients_computed: 'evRecipients', instruction_changed: 'evInstructionChanged',
  delivered: 'evDelivered', acknowledged: 'evAcknowledged', responded: 'evResponded', message: 'evMessage', reply: 'evReply',
  resolved: 'evResolved', cancelled: 'evCancelled', repushed: 'evRepushed', escalated: 'evEscalated', delivery_attempt: 'evAttempt',
};
const STATUS_KEYS: Record<string, TextKey> = { safe: 'safe', need_help: 'needsHelp', not_on_site: 'notOnSiteCount' };
const REASON_KEYS: Record<string, TextKey> = {
  no_device: 'reasonNoDevice', push_denied: 'reasonPushDenied', push_gone: 'reasonPushGone', push_failed: 'reasonPushFailed',
  push_not_confirmed: 'reasonNotConfirmed', push_not_sent: 'reasonNotSent',
};
const CHANNEL_KEYS: Record<string, TextKey> = { socket: 'chSocket', push: 'chPush', push_service: 'chPushService', sms: 'chSms', response: 'chResponse' };

function describe(t: T, lang: Lang, e: AccountEntry): string {
  const d = e.details;
  const who = typeof d.person === 'string' ? d.person : e.actor ?? '';
  const parts: string[] = [];
  if (who) parts.push(who);
  if (typeof d.status === 'string') parts.push(t(STATUS_KEYS[d.status] ?? 'statusNone'));
  if (typeof d.channel === 'string' && e.type !== 'delivery_attempt') parts.push(t(CHANNEL_KEYS[d.channel] ?? 'chPush'));
  for (const key of ['text', 'body', 'location', 'reason'] as const) if (typeof d[key] === 'string' && d[key]) parts.push(String(d[key]));
  if (e.type === 'instruction_changed') parts.push(String((lang === 'en' ? d.toEn : d.to) ?? ''));
  if (e.type === 'repushed') parts.push(t('accRepushed', { n: Number(d.unreached), round: Number(d.round) }));
  if (e.type === 'escalated') parts.push(t('accEscalated', { n: Number(d.unreached), contacts: String(d.contacts || '–') }));
  if (e.type === 'delivery_attempt') parts.push(`${String(d.channel)} ${String(d.kind)} #${String(d.attempt)}: ${String(d.outcome)}${d.status ? ` (${String(d.status)})` : ''}`);
  if (e.type === 'recipients_computed') parts.push(t('accTargeted', { n: Number(d.targeted) }));
  return parts.join(' · ');
}

export function ReviewPage({ id }: { id: string }) {
  const t = useT();
  const { lang } = useAppState();
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempts, setAttempts] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    void api<Review>('GET', `/incidents/${id}/review?lang=${lang}`).then((r) => {
      setReview(r);
      setError(null);
    }, (err: unknown) => setError(err instanceof ApiError && err.code === 'forbidden' ? t('reviewForbidden') : errorMessage(t, err)));
  }, [id, lang, version]);

  if (!review) return <Page title={t('reviewTitle', { label: '' })}>{error ? <ErrorText>{error}</ErrorText> : <p role="status">{t('loading')}</p>}</Page>;
  const i = review.incident;
  const f = review.figures;
  const s = (ms: Ms) => secondsText(lang, ms);
  const label = pick(lang, i.type.label);
  const figures: [TextKey, string][] = [
    ['figPressToCommit', t('notRecorded')],
    ['figToReach', t('figToReachValue', { n: f.toReach, total: f.targeted })],
    ['delivered', String(f.reached)], ['acknowledged', String(f.acknowledged)], ['figUnreached', String(f.unreached)],
    ['figFirstDevice', s(f.firstDeviceMs)], ['figReached50', s(f.reached50Ms)], ['figReached90', s(f.reached90Ms)], ['figAllReached', s(f.allReachedMs)],
    ['figFirstAck', s(f.firstAcknowledgementMs)], ['figFirstInstruction', s(f.firstInstructionMs)],
    ...(f.cancelledMs !== null ? [['figCancelled', s(f.cancelledMs)] as [TextKey, string]] : [['figAllClear', s(f.allClearMs)] as [TextKey, string]]),
  ];
  const minutes = new Map<number, AccountEntry[]>();
  for (const e of review.account.filter((x) => attempts || !x.attempt)) {
    const m = Math.floor(Math.max(0, e.offsetMs) / 60_000);
    minutes.set(m, [...(minutes.get(m) ?? []), e]);
  }
  const attemptCount = review.account.filter((x) => x.attempt).length;

  return (
    <Page title={t('reviewTitle', { label: `${i.drill ? `${t('drillBanner')} ` : ''}${label}` })}>
      {i.drill && <p class="drill-banner" style={{ margin: '0 0 1rem' }}>{t('drillBanner')} – {t('drillNote')}</p>}
      {error && <ErrorText>{error}</ErrorText>}
      <dl class="checks">
        <dt>{t('site')}</dt><dd>{i.siteName}</dd>
        <dt>{t('reviewRaised')}</dt><dd>{new Date(i.raisedAt).toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB')}{i.raisedBy ? ` · ${i.raisedBy.name}` : ''}</dd>
        {i.location && <><dt>{t('reviewPlace')}</dt><dd>{i.location}</dd></>}
        <dt>{t('reviewState')}</dt>
        <dd>{i.state === 'active' ? t('reviewActive') : `${i.state === 'resolved' ? t('allClear') : t('cancelled')}${i.endedBy ? ` · ${i.endedBy.name}` : ''}`}</dd>
      </dl>

      <h2>{t('figuresTitle')}</h2>
      <table>
        <caption class="sr-only">{t('figuresTitle')}</caption>
        <tbody>{figures.map(([k, v]) => <tr key={k}><th scope="row">{t(k)}</th><td>{v}</td></tr>)}</tbody>
      </table>
      <dl class="counts">
        <div><dt>{t('safe')}</dt><dd>{f.answers.safe}</dd></div>
        <div><dt>{t('needsHelp')}</dt><dd>{f.answers.needHelp}</dd></div>
        <div><dt>{t('notOnSiteCount')}</dt><dd>{f.answers.notOnSite}</dd></div>
        <div><dt>{t('noAnswer')}</dt><dd>{f.answers.none}</dd></div>
      </dl>

      <Chart svg={review.charts.reach} caption={t('reachCaption')} />
      <Chart svg={review.charts.rollCall} caption={t('rollCallCaption')} />

      <h2>{t('channelsTitle')}</h2>
      <table>
        <thead><tr><th scope="col">{t('channel')}</th><th scope="col">{t('count')}</th><th scope="col">p50</th><th scope="col">p90</th><th scope="col">max</th></tr></thead>
        <tbody>{review.channels.map((c) => (
          <tr key={c.channel}><th scope="row">{t(CHANNEL_KEYS[c.channel] ?? 'chPush')}</th><td>{c.n}</td><td>{s(c.p50Ms)}</td><td>{s(c.p90Ms)}</td><td>{s(c.maxMs)}</td></tr>
        ))}</tbody>
      </table>

      <h2>{t('instructionsTitle')}</h2>
      <ol class="list">
        {review.instructions.map((x, n) => (
          <li key={n}><time dateTime={x.at}>{formatTime(lang, x.at)}</time> (+{s(x.offsetMs)}) {
            x.kind === 'alarm' ? `${t('evRaised')}: ${x.label ? pick(lang, x.label) : ''}`
              : x.kind === 'changed' ? `${t('evInstructionChanged')}: ${x.label ? pick(lang, x.label) : ''}`
                : x.kind === 'message' ? `${t('evMessage')}: ${x.text ?? ''}`
                  : x.kind === 'all_clear' ? t('allClear') : `${t('cancelled')}: ${x.text ?? ''}`
          }</li>
        ))}
      </ol>

      <h2>{t('reviewPeopleTitle')}</h2>
      <div style={{ overflowX: 'auto' }} tabIndex={0} role="region" aria-label={t('reviewPeopleTitle')}>
        <table>
          <thead><tr>
            <th scope="col">{t('contactPerson')}</th><th scope="col">{t('delivered')}</th><th scope="col">{t('reviewSeen')}</th>
            <th scope="col">{t('acknowledged')}</th><th scope="col">{t('answerColumn')}</th><th scope="col">{t('reviewEscalation')}</th>
          </tr></thead>
          <tbody>{review.people.map((p) => (
            <tr key={p.personId} data-person={p.name} class={p.answer ? `status-${p.answer}` : ''}>
              <th scope="row">{p.name}{p.lead ? ` (${t('reviewLead')})` : ''}{p.pressed ? ` (${t('reviewPressed')})` : ''}</th>
              <td>{p.deliveredMs !== null ? `${s(p.deliveredMs)} · ${t(CHANNEL_KEYS[p.deliveredChannel ?? ''] ?? 'chPush')}` : p.unreachedReason ? t(REASON_KEYS[p.unreachedReason] ?? 'notReached') : '–'}</td>
              <td>{s(p.seenMs)}</td>
              <td>{s(p.acknowledgedMs)}</td>
              <td>{p.answer ? `${t(STATUS_KEYS[p.answer] ?? 'statusNone')} (${s(p.answeredMs)})${p.answerText ? ` — ${p.answerText}` : ''}` : t('statusNone')}</td>
              <td>{[p.reminders ? t('pushReminders', { n: p.reminders }) : '', p.namedToContacts ? t('reviewNamed') : ''].filter(Boolean).join(' · ') || '–'}</td>
            </tr>
          ))}</tbody>
        </table>
      </div>

      <h2>{t('unreachedTitle')}</h2>
      {review.unreached.length === 0 ? <p>{t('allReachedText')}</p> : (
        <ul class="list">{review.unreached.map((u) => <li key={u.personId}><strong>{u.name}</strong>: {t(REASON_KEYS[u.reason] ?? 'notReached')}</li>)}</ul>
      )}

      <h2>{t('escalationTitle')}</h2>
      {review.escalation.length === 0 ? <p>{t('noEscalation')}</p> : (
        <table>
          <thead><tr><th scope="col">{t('reviewStep')}</th><th scope="col">{t('reviewPlanned')}</th><th scope="col">{t('reviewRan')}</th><th scope="col">{t('figUnreached')}</th><th scope="col">{t('escalationContacts')}</th></tr></thead>
          <tbody>{review.escalation.map((x) => (
            <tr key={`${x.step}-${x.round}`}>
              <th scope="row">{x.step === 'repush' ? t('stepRepush', { round: x.round }) : t('stepContacts')}</th>
              <td>{s(x.dueMs)}</td><td>{x.ranMs === null ? t(x.state === 'cancelled' ? 'stepCancelled' : 'stepPending') : s(x.ranMs)}</td><td>{x.unreached ?? '–'}</td>
              <td>{x.contacts.map((c) => `${c.name}${c.sms ? ` (${t('sms')})` : ''}`).join(', ') || '–'}</td>
            </tr>
          ))}</tbody>
        </table>
      )}

      {review.linked.length > 0 && (
        <>
          <h2>{t('linkedTitle')}</h2>
          <table>
            <thead><tr><th scope="col">{t('site')}</th><th scope="col">{t('targeted')}</th><th scope="col">{t('delivered')}</th><th scope="col">{t('acknowledged')}</th><th scope="col">{t('safe')}</th><th scope="col">{t('needsHelp')}</th></tr></thead>
            <tbody>{review.linked.map((l) => (
              <tr key={`${l.organisationName}-${l.siteName}`}><th scope="row">{l.organisationName}, {l.siteName}</th><td>{l.targeted}</td><td>{l.reached}</td><td>{l.acknowledged}</td><td>{l.safe}</td><td>{l.needHelp}</td></tr>
            ))}</tbody>
          </table>
        </>
      )}

      <h2>{t('reviewAccountTitle')}</h2>
      <label class="check"><input type="checkbox" checked={attempts} onChange={(e) => setAttempts(e.currentTarget.checked)} /> {t('showAttempts', { n: attemptCount })}</label>
      {[...minutes.entries()].map(([m, entries]) => (
        <section key={m} aria-labelledby={`minute-${m}`}>
          <h3 id={`minute-${m}`}>{t('minute', { n: m })}</h3>
          <ol class="list">
            {entries.map((e) => (
              <li key={e.id} class={e.attempt ? 'help' : ''}>
                <time dateTime={e.at}>{formatTime(lang, e.at)}</time> (+{s(e.offsetMs)}) <strong>{t(EVENT_KEYS[e.type] ?? 'evRaised')}</strong> {describe(t, lang, e)}
              </li>
            ))}
          </ol>
        </section>
      ))}

      <Exports id={id} cap={review.cap} />
      <RecordSection id={id} review={review} onSaved={() => setVersion((v) => v + 1)} />
      <p><a href="/statistics" onClick={link('/statistics')}>{t('statisticsTitle')}</a></p>
    </Page>
  );
}

function Exports({ id, cap }: { id: string; cap: Review['cap'] }) {
  const t = useT();
  const [error, setError] = useState<string | null>(null);
  const files: [string, string][] = [
    [t('exportPdf'), `/incidents/${id}/export/pdf`], [t('exportCsv'), `/incidents/${id}/export/csv`],
    [t('exportCsvTimeline'), `/incidents/${id}/export/csv?table=timeline`], [t('exportJson'), `/incidents/${id}/export/json`],
    ...cap.map((c): [string, string] => [t('exportCap', { n: c.sequence, type: c.msgType }), `/incidents/${id}/export/cap?message=${c.sequence}`]),
  ];
  return (
    <section class="card" aria-labelledby="exports-title">
      <h2 id="exports-title">{t('exportsTitle')}</h2>
      <p class="help">{t('exportsHelp')}</p>
      {error && <ErrorText>{error}</ErrorText>}
      <div class="row">
        {files.map(([label, path]) => <button key={path} type="button" class="secondary" onClick={() => void download(path, t).then(setError)}>{label}</button>)}
      </div>
    </section>
  );
}

const toLocalInput = (iso: string | null): string => {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (v: string): string | null => (v ? new Date(v).toISOString() : null);
const orNull = (v: string): string | null => (v.trim() ? v : null);

function RecordSection({ id, review, onSaved }: { id: string; review: Review; onSaved: () => void }) {
  const t = useT();
  const { lang } = useAppState();
  const current = review.record.current;
  const [record, setRecord] = useState<ReviewRecord>(review.record.draft);
  const [base, setBase] = useState(current?.revision ?? 0);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [history, setHistory] = useState<Revision[]>([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setRecord(review.record.draft);
    setBase(review.record.current?.revision ?? 0);
    void api<{ revisions: Revision[] }>('GET', `/incidents/${id}/review/record`).then((r) => setHistory(r.revisions), () => undefined);
  }, [review]);
  const edit = review.record.mayEdit;
  const closed = current?.status === 'closed';
  const set = (patch: Partial<ReviewRecord>) => setRecord({ ...record, ...patch });
  const setReport = (patch: Partial<ReviewRecord['report']>) => setRecord({ ...record, report: { ...record.report, ...patch } });
  const save = async (status: 'open' | 'closed') => {
    setBusy(true);
    try {
      await api('PUT', `/incidents/${id}/review/record`, { baseRevision: base, status, record });
      setMessage({ kind: 'ok', text: status === 'closed' ? t('recordSignedOff') : t('saved') });
      onSaved();
    } catch (err) {
      setMessage({
        kind: 'error',
        text: err instanceof ApiError && err.code === 'review_stale' ? t('recordStale')
          : err instanceof ApiError && err.code === 'review_closed' ? t('recordClosed') : errorMessage(t, err),
      });
    }
    setBusy(false);
  };
  const disabled = !edit || closed;
  const text = (field: 'summary' | 'causes', key: TextKey) => (
    <>
      <label for={`record-${field}`}>{t(key)}</label>
      <textarea id={`record-${field}`} rows={field === 'summary' ? 8 : 4} maxLength={20000} disabled={disabled} value={record[field]}
        onInput={(e) => set({ [field]: e.currentTarget.value })} />
    </>
  );
  const input = (fieldId: string, key: TextKey, value: string, onInput: (v: string) => void, type: 'text' | 'date' | 'datetime-local' | 'number' | 'tel' | 'email' = 'text') => (
    <>
      <label for={fieldId}>{t(key)}</label>
      {/* One helper for every kind of field; Preact's input types are a union per kind. */}
      <input id={fieldId} type={type as 'text'} disabled={disabled} value={value} onInput={(e) => onInput(e.currentTarget.value)} />
    </>
  );
  return (
    <section aria-labelledby="record-title">
      <h2 id="record-title">{t('recordTitle')}</h2>
      <p class="help">
        {current
          ? t('recordVersion', { n: current.revision, status: current.status === 'closed' ? t('recordClosedBy', { name: current.signedOffBy?.name ?? '' }) : t('recordOpen'), name: current.author.name, time: new Date(current.at).toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB') })
          : t('recordDraft')}
      </p>
      {!edit && <p class="help">{t('recordReadOnly')}</p>}
      <form class="stack card" onSubmit={(e) => { e.preventDefault(); void save('open'); }}>
        <fieldset class="card notice">
          <legend class="big">{t('reportableQuestion')}</legend>
          {(['yes', 'no', 'undecided'] as const).map((v) => (
            <label key={v} class="check"><input type="radio" name="reportable" value={v} disabled={disabled} checked={record.reportable === v}
              onChange={() => set({ reportable: v })} /> {t(v === 'yes' ? 'yes' : v === 'no' ? 'no' : 'undecided')}</label>
          ))}
          <p class="help">{t('reportableHelp')}</p>
        </fieldset>
        {text('summary', 'recordSummary')}
        {text('causes', 'recordCauses')}
        <fieldset>
          <legend><strong>{t('recordActions')}</strong></legend>
          {record.actions.map((a, n) => (
            <div key={n} class="card stack">
              {input(`action-${n}-description`, 'actionDescription', a.description, (v) => set({ actions: record.actions.map((x, k) => (k === n ? { ...x, description: v } : x)) }))}
              <label for={`action-${n}-kind`}>{t('actionKind')}</label>
              <select id={`action-${n}-kind`} disabled={disabled} value={a.kind}
                onChange={(e) => set({ actions: record.actions.map((x, k) => (k === n ? { ...x, kind: e.currentTarget.value as 'taken' | 'planned' } : x)) })}>
                <option value="taken">{t('actionTaken')}</option><option value="planned">{t('actionPlanned')}</option>
              </select>
              {input(`action-${n}-owner`, 'actionOwner', a.owner ?? '', (v) => set({ actions: record.actions.map((x, k) => (k === n ? { ...x, owner: orNull(v) } : x)) }))}
              {input(`action-${n}-deadline`, 'actionDeadline', a.deadline ?? '', (v) => set({ actions: record.actions.map((x, k) => (k === n ? { ...x, deadline: orNull(v) } : x)) }), 'date')}
              <label class="check"><input type="checkbox" disabled={disabled} checked={a.done}
                onChange={(e) => set({ actions: record.actions.map((x, k) => (k === n ? { ...x, done: e.currentTarget.checked } : x)) })} /> {t('actionDone')}</label>
              {!disabled && <button type="button" class="secondary" onClick={() => set({ actions: record.actions.filter((_, k) => k !== n) })}>{t('remove')}</button>}
            </div>
          ))}
          {!disabled && <button type="button" class="secondary" onClick={() => set({ actions: [...record.actions, { description: '', kind: 'planned', owner: null, deadline: null, done: false }] })}>{t('addAction')}</button>}
        </fieldset>
        <label class="check"><input type="checkbox" disabled={disabled} checked={record.safetyRepresentative.informed}
          onChange={(e) => set({ safetyRepresentative: { ...record.safetyRepresentative, informed: e.currentTarget.checked } })} /> {t('safetyRepInformed')}</label>
        {input('safety-name', 'safetyRepName', record.safetyRepresentative.name ?? '', (v) => set({ safetyRepresentative: { ...record.safetyRepresentative, name: orNull(v) } }))}
        {input('safety-at', 'safetyRepAt', toLocalInput(record.safetyRepresentative.informedAt), (v) => set({ safetyRepresentative: { ...record.safetyRepresentative, informedAt: fromLocalInput(v) } }), 'datetime-local')}
        {input('police', 'policeReport', record.policeReportNumber ?? '', (v) => set({ policeReportNumber: orNull(v) }))}
        <fieldset class="card stack">
          <legend><strong>{review.authorityReport.title}</strong></legend>
          <p class="help">{t('authorityHelp')}</p>
          <p>{review.authorityReport.employer.name} · {review.authorityReport.employer.organisationNumber ?? t('missingValue')} · {review.authorityReport.workplace.name}, {review.authorityReport.workplace.address ?? t('missingValue')}, {review.authorityReport.workplace.municipality ?? t('missingValue')}</p>
          <label for="event-type">{t('eventType')}</label>
          <select id="event-type" disabled={disabled} value={record.report.eventType ?? ''}
            onChange={(e) => setReport({ eventType: (e.currentTarget.value || null) as ReviewRecord['report']['eventType'] })}>
            <option value="">–</option><option value="serious_near_miss">{t('evtNearMiss')}</option>
            <option value="serious_injury">{t('evtInjury')}</option><option value="death">{t('evtDeath')}</option>
          </select>
          {input('building', 'building', record.report.building ?? '', (v) => setReport({ building: orNull(v) }))}
          {input('room', 'room', record.report.room ?? '', (v) => setReport({ room: orNull(v) }))}
          {input('affected-staff', 'affectedStaff', String(record.report.affectedStaff), (v) => setReport({ affectedStaff: Math.max(0, Number.parseInt(v || '0', 10) || 0) }), 'number')}
          {input('affected-pupils', 'affectedPupils', String(record.report.affectedPupils), (v) => setReport({ affectedPupils: Math.max(0, Number.parseInt(v || '0', 10) || 0) }), 'number')}
          <label for="injuries">{t('injuries')}</label>
          <select id="injuries" disabled={disabled} value={record.report.injuries === null ? '' : String(record.report.injuries)}
            onChange={(e) => setReport({ injuries: e.currentTarget.value === '' ? null : e.currentTarget.value === 'true' })}>
            <option value="">–</option><option value="true">{t('yes')}</option><option value="false">{t('no')}</option>
          </select>
          {input('contact-name', 'reportContact', record.report.contactName ?? '', (v) => setReport({ contactName: orNull(v) }))}
          {input('contact-phone', 'contactPhone', record.report.contactPhone ?? '', (v) => setReport({ contactPhone: orNull(v) }), 'tel')}
          {input('contact-email', 'email', record.report.contactEmail ?? '', (v) => setReport({ contactEmail: orNull(v) }), 'email')}
          {input('reported-at', 'reportedAt', toLocalInput(record.report.reportedAt), (v) => setReport({ reportedAt: fromLocalInput(v) }), 'datetime-local')}
          {input('receipt', 'receiptNumber', record.report.receiptNumber ?? '', (v) => setReport({ receiptNumber: orNull(v) }))}
          {review.authorityReport.missing.length > 0 && <p class="help">{t('missingFields', { n: review.authorityReport.missing.length })}</p>}
        </fieldset>
        {message && (message.kind === 'ok' ? <p class="ok" role="status">{message.text}</p> : <ErrorText>{message.text}</ErrorText>)}
        {edit && (
          <div class="row">
            {!closed && <button type="submit" class="primary" disabled={busy}>{t('save')}</button>}
            {!closed && <button type="button" class="primary safe" disabled={busy} onClick={() => void save('closed')}>{t('signOff')}</button>}
            {closed && <button type="button" class="secondary" disabled={busy} onClick={() => void save('open')}>{t('reopen')}</button>}
            {message?.kind === 'error' && <button type="button" class="secondary" onClick={onSaved}>{t('reloadRecord')}</button>}
          </div>
        )}
      </form>
      {history.length > 0 && (
        <>
          <h3>{t('revisionsTitle')}</h3>
          <ol class="list" reversed>
            {history.map((r) => (
              <li key={r.revision}>{t('revisionLine', {
                n: r.revision, name: r.author.name, time: new Date(r.at).toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB'),
                status: r.status === 'closed' ? t('recordClosedBy', { name: r.signedOffBy?.name ?? '' }) : t('recordOpen'),
              })}</li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
