import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../lib/api.ts';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { describeNote, escalationOf } from '../lib/escalation.ts';
import { realtime } from '../lib/realtime/client.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { Envelope, EscalationNote, Incident, Lang, ResponseStatus, RollCallPerson, RollCallSummary } from '../lib/types.ts';
import { ErrorText, Page, errorMessage, link, useEscape } from './components.tsx';
import { LinkedRollCall } from './links-alarm.tsx';

const STATUS: Record<ResponseStatus, { key: TextKey; icon: string }> = {
  need_help: { key: 'needsHelp', icon: '✚' },
  safe: { key: 'safe', icon: '✔' },
  not_on_site: { key: 'notOnSiteCount', icon: '⌂' },
};
const ORDER: Record<string, number> = { need_help: 0, none: 1, not_on_site: 2, safe: 3 };

/** The crisis lead's live roll call: counts, names and answers; instructions; all clear or cancel. */
export function RollCallPage({ id }: { id: string }) {
  const t = useT();
  const { lang, incidents } = useAppState();
  const [actError, setError] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState<'resolve' | 'cancel' | null>(null);
  const [busy, setBusy] = useState(false);
  const dialogStart = useRef<HTMLButtonElement & HTMLInputElement>(null);
  const live = incidents[id]?.incident.state;
  const [earlier, setEarlier] = useState<EscalationNote[]>([]);
  const notes = incidents[id]?.escalations ?? earlier;
  const newest = notes[notes.length - 1];

  useEffect(() => {
    // Reminders and escalations before this device joined (or before a reload): from the timeline, once.
    // Later ones arrive as events.
    void api<{ events: Envelope[] }>('GET', `/incidents/${id}/timeline?types=repushed,escalated`).then((r) => {
      const found = r.events.map(escalationOf).filter((n): n is EscalationNote => n !== null);
      setEarlier(found);
      realtime.noteEscalations(id, found);
    }, () => undefined);
  }, [id]);

  const { incident, summary, people, error: loadError } = useRollCall(id, live);
  const error = actError ?? loadError;

  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await work();
      setError(null);
    } catch (err) {
      setError(errorMessage(t, err));
    }
    setBusy(false);
  };

  const closeDialog = useCallback(() => setConfirming(null), []);
  useEscape(confirming !== null, closeDialog);
  useEffect(() => {
    if (confirming) dialogStart.current?.focus();
  }, [confirming]);

  const label = incident ? pick(lang, incident.type.label) : '';
  const ended = incident ? incident.state !== 'active' : false;
  const counts: { key: TextKey; value: number | undefined }[] = [
    { key: 'targeted', value: summary?.targeted },
    { key: 'delivered', value: summary?.delivered },
    { key: 'acknowledged', value: summary?.acknowledged },
    { key: 'safe', value: summary?.safe },
    { key: 'needsHelp', value: summary?.needHelp },
    { key: 'notOnSiteCount', value: summary?.notOnSite },
    { key: 'noAnswer', value: summary?.noAnswer },
  ];
  const sorted = [...people].sort((a, b) => (ORDER[a.status ?? 'none'] ?? 1) - (ORDER[b.status ?? 'none'] ?? 1) || a.name.localeCompare(b.name));

  return (
    <Page title={t('rollCallTitle', { label: `${incident?.drill ? `${t('drillBanner')} ` : ''}${label}` })}>
      {error && <ErrorText>{error}</ErrorText>}
      {incident && ended && <p class="card ok" role="status">{incident.state === 'resolved' ? t('allClear') : t('cancelled')}</p>}
      {/* Not a live region: counts change several times a second while receipts arrive. */}
      <dl class="counts">
        {counts.map((c) => <div key={c.key}><dt>{t(c.key)}</dt><dd>{c.value ?? '–'}</dd></div>)}
      </dl>
      <LinkedRollCall incidentId={id} />
      {notes.length > 0 && (
        <section class="escalations" aria-labelledby="escalation-title">
          <h2 id="escalation-title">{t('escalationTitle')}</h2>
          <ol>
            {notes.map((n) => <li key={n.id}><time>{formatTime(lang, n.at)}</time> <span>{describeNote(t, n)}</span></li>)}
          </ol>
        </section>
      )}
      {/* Only the newest step is announced, once. */}
      <p class="sr-only" role="status">{newest ? describeNote(t, newest) : ''}</p>
      <table class="people">
        <caption class="sr-only">{t('rollCall')}</caption>
        <thead><tr><th scope="col">{t('contactPerson')}</th><th scope="col">{t('answerColumn')}</th><th scope="col">{t('delivered')}</th><th scope="col">{t('phone')}</th></tr></thead>
        <tbody>
          {sorted.map((p) => {
            const s = p.status ? STATUS[p.status] : null;
            return (
              <tr key={p.personId} class={`status-${p.status ?? 'none'}`} data-person={p.name}>
                <th scope="row">{p.name}</th>
                <td>
                  {s ? <><span aria-hidden="true">{s.icon} </span>{t(s.key)}</> : t('statusNone')}
                  {p.location && <><br /><span class="where">{t('location', { location: p.location })}</span></>}
                  {p.text && <><br /><span class="what">{p.text}</span></>}
                </td>
                <td>
                  {p.deliveredAt ? t('reachedAt', { time: formatTime(lang, p.deliveredAt) }) : t('notReached')}
                  {!p.deliveredAt && <><br /><small class="push-progress">{pushProgress(t, lang, p.push)}</small></>}
                </td>
                <td>{p.phone ? <a class="tel" href={`tel:${p.phone}`}>{t('call', { name: p.phone })}</a> : <small>{t('noPhone')}</small>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {incident && !ended && (
        <>
          <form class="stack card" onSubmit={(e) => {
            e.preventDefault();
            if (!message.trim()) return;
            void act(async () => {
              await api('POST', `/incidents/${id}/messages`, { kind: 'instruction', body: message.trim() });
              setMessage('');
            });
          }}>
            <h2>{t('sendMessage')}</h2>
            <label for="message">{t('messageLabel')}</label>
            <textarea id="message" rows={3} maxLength={2000} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
            <button type="submit" class="primary" disabled={busy || !message.trim()}>{t('send')}</button>
          </form>
          {confirming === 'resolve' ? (
            <div class="card" role="alertdialog" aria-labelledby="resolve-q">
              <p id="resolve-q">{t('confirmAllClear')}</p>
              <div class="row">
                <button ref={dialogStart} type="button" class="primary safe" disabled={busy}
                  onClick={() => void act(() => api('POST', `/incidents/${id}/resolve`, {})).then(() => setConfirming(null))}>{t('declareAllClear')}</button>
                <button type="button" class="secondary" onClick={() => setConfirming(null)}>{t('cancel')}</button>
              </div>
            </div>
          ) : confirming === 'cancel' ? (
            <form class="stack card" onSubmit={(e) => {
              e.preventDefault();
              void act(() => api('POST', `/incidents/${id}/cancel`, { reason: reason.trim() })).then(() => setConfirming(null));
            }}>
              <label for="reason">{t('cancelReason')}</label>
              <input ref={dialogStart} id="reason" type="text" required maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              <div class="row">
                <button type="submit" class="primary" disabled={busy || !reason.trim()}>{t('confirmCancel')}</button>
                <button type="button" class="secondary" onClick={() => setConfirming(null)}>{t('cancel')}</button>
              </div>
            </form>
          ) : (
            <div class="row">
              <button type="button" class="primary safe" onClick={() => setConfirming('resolve')}>{t('declareAllClear')}</button>
              <button type="button" class="secondary" onClick={() => setConfirming('cancel')}>{t('cancelAlarm')}</button>
            </div>
          )}
        </>
      )}
      <p><a href={`/alarm/${id}`} onClick={link(`/alarm/${id}`)}>{t('back')}</a></p>
    </Page>
  );
}

/** How often an open roll call reads again what no event announces (delivery progress). */
const ROLLCALL_REFRESH_MS = 15_000;

/**
 * The roll call of an incident, read again whenever something it shows has changed (receipts arrive in
 * bursts: gathered for a quarter of a second, then read once). Shared by the roll-call page and the
 * lead's alarm screen.
 */
export function useRollCall(id: string, state?: string): { incident: Incident | null; summary: RollCallSummary | null; people: RollCallPerson[]; error: string | null } {
  const t = useT();
  const { rollcallVersion } = useAppState();
  const [incident, setIncident] = useState<Incident | null>(null);
  const [summary, setSummary] = useState<RollCallSummary | null>(null);
  const [people, setPeople] = useState<RollCallPerson[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const version = rollcallVersion[id] ?? 0;
  useEffect(() => {
    // What changes without an event (a push handed to the push service, an SMS sent, the gateway's report that it
    // was delivered or not) is read again while the page is in view and the device online.
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible' && navigator.onLine) setTick((n) => n + 1);
    }, ROLLCALL_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [id]);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      void Promise.all([
        api<{ incident: Incident }>('GET', `/incidents/${id}`),
        api<{ summary: RollCallSummary; people: RollCallPerson[] }>('GET', `/incidents/${id}/rollcall`),
      ]).then(([i, r]) => {
        setIncident(i.incident);
        setSummary(r.summary);
        setPeople(r.people);
        setError(null);
      }, (err: unknown) => setError(err instanceof ApiError && err.code === 'forbidden' ? t('onlyLeads') : errorMessage(t, err)));
    }, version === 0 && tick === 0 ? 0 : 250);
    return () => window.clearTimeout(timer);
  }, [id, version, state, tick]);
  return { incident, summary, people, error };
}

/**
 * Why someone is not reached yet, as far as Web Push and the alarm's SMS can tell: no device, handed to the
 * push service, or waiting; an SMS sent or delivered to someone without push (a failed one: call them).
 */
function pushProgress(t: ReturnType<typeof useT>, lang: Lang, push: RollCallPerson['push']): string {
  const sms = smsProgress(t, lang, push.sms);
  if (push.devices === 0) return sms ?? t('pushNone');
  const handed = push.acceptedAt
    ? t('pushAccepted', { n: push.devices, time: formatTime(lang, push.acceptedAt) })
    : t('pushPending', { n: push.devices });
  return [handed, push.reminders > 0 ? t('pushReminders', { n: push.reminders }) : null, sms].filter(Boolean).join(' · ');
}

function smsProgress(t: ReturnType<typeof useT>, lang: Lang, sms: RollCallPerson['push']['sms']): string | null {
  if (!sms) return null;
  const time = sms.at ? formatTime(lang, sms.at) : '';
  switch (sms.state) {
    case 'queued': return t('smsQueued');
    case 'sent': return t('smsSent', { time });
    case 'delivered': return t('smsDelivered', { time });
    case 'failed': return t('smsFailed');
  }
}
