import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { unlockAudio } from '../lib/alert.ts';
import { describeNote } from '../lib/escalation.ts';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { realtime } from '../lib/realtime/client.ts';
import { navigate } from '../lib/router.ts';
import { useAppState, useT, type IncidentView } from '../lib/store.ts';
import type { Incident, IncidentMessage, ResponseStatus } from '../lib/types.ts';
import { textOn } from './colour.ts';
import { ErrorText, endedLine, errorMessage, link } from './components.tsx';
import { TypeIcon } from './icons.tsx';
import { useRollCall } from './rollcall.tsx';
import { SiteAlarmNotes } from './site-notes.tsx';
import { HeldLinkAlarms, LinkedFromBanner } from './links-alarm.tsx';

const ANSWERS: { status: ResponseStatus; key: TextKey; icon: string }[] = [
  { status: 'safe', key: 'imSafe', icon: '✔' },
  { status: 'need_help', key: 'needHelp', icon: '✚' },
  { status: 'not_on_site', key: 'notOnSite', icon: '⌂' },
];
const STATUS_TEXT: Record<ResponseStatus, TextKey> = { safe: 'imSafe', need_help: 'needHelp', not_on_site: 'notOnSite' };
/** The screen of an ended alarm: all clear green, called-off grey. */
const ENDED_COLOUR = { resolved: '#1b5e20', cancelled: '#424242' } as const;

/**
 * The full-screen alarm. What to do comes first: the type and its instruction, and a lead's newest
 * instruction above it, highlighted (and felt, where the site is not silent) until the person touches
 * the screen. Then the answers, then the rest. An ended alarm says who ended it and when, and is never
 * shown as "all clear" while another alarm of the site is active: the screen moves to that one.
 */
export function AlarmPage({ id }: { id: string }) {
  const t = useT();
  const { incidents, instructions, lang } = useAppState();
  const [fetched, setFetched] = useState<Incident | null>(null);
  const [lead, setLead] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    void api<{ incident: Incident & { endReason: string | null }; lead: boolean }>('GET', `/incidents/${id}`).then(
      (r) => {
        setFetched(r.incident);
        setLead(r.lead);
      },
      () => undefined,
    );
  }, [id]);

  const view = incidents[id];
  const incident = view?.incident ?? fetched;
  const instruction = incident ? instructions[incident.siteId] : null;
  const other = instruction && instruction.incidentId !== id ? instruction : null;
  const ended = incident !== null && incident.state !== 'active';
  // Focus moves to the alarm as soon as it is shown, and again when it ends, so that a screen reader
  // announces it (the heading, described by the instruction).
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, [id, incident?.state, incident !== null]);
  useEffect(() => {
    if (incident) document.title = `${incident.drill ? `${t('drillBanner')}: ` : ''}${pick(lang, incident.type.label)} · Samlarm`;
  }, [incident?.id, incident?.drill, lang]);
  // An alarm that ended while another of the site is still active is not "all clear": show the live one.
  useEffect(() => {
    if (ended && other) navigate(`/alarm/${other.incidentId}`, { replace: true });
  }, [ended, other?.incidentId]);
  if (!incident) return <main id="main"><p role="status">{t('loading')}</p></main>;

  const state = incident.state;
  const background = state === 'active' ? incident.type.colour : ENDED_COLOUR[state];
  const colour = textOn(background);
  const label = pick(lang, incident.type.label);

  return (
    <main
      id="main"
      class={`alarm${incident.drill ? ' drill' : ''}${ended ? ' ended' : ''}`}
      style={{ backgroundColor: background, color: colour }}
      data-state={state}
      data-incident={incident.id}
      // On click, not pointerdown: the silence button leaving on acknowledge moves what is below it, and a
      // tap whose pointerdown and pointerup land on different elements (the roll-call link) is no tap.
      onClick={() => realtime.acknowledge(id)}
      onKeyDown={(e) => {
        if (e.key !== 'Escape') realtime.acknowledge(id);
      }}
    >
      {incident.drill && <p class="drill-banner"><strong>{t('drillBanner')}</strong> · {t('drillNote')}</p>}
      {ended ? (
        <>
          <h1 ref={heading} tabIndex={-1} aria-describedby="alarm-text">
            <TypeIcon icon={state === 'resolved' ? 'check' : 'cross'} size={44} />{' '}{state === 'resolved' ? t('allClear') : t('cancelled')}
          </h1>
          <p class="big">{t('alarmOf', { label })}</p>
          <p class="ended-by">{endedLine(t, lang, incident)}</p>
          <p id="alarm-text">{state === 'resolved' ? t('allClearText') : t('cancelledText', { reason: view?.endReason ?? '' })}</p>
          {view && view.messages.length > 0 && (
            <details class="messages">
              <summary>{t('messagesDuring', { n: view.messages.length })}</summary>
              <Messages messages={view.messages} />
            </details>
          )}
        </>
      ) : (
        <ActiveAlarm incident={incident} view={view} lead={lead} heading={heading} />
      )}
      <div class="row">
        {lead && ended && (
          <a class="button secondary" href={`/incidents/${id}/rollcall`} onClick={link(`/incidents/${id}/rollcall`)}>{t('rollCall')}</a>
        )}
        <button type="button" class="secondary" onClick={() => {
          realtime.acknowledge(id);
          if (ended) realtime.dismiss(id);
          navigate('/');
        }}>{t('close')}</button>
      </div>
    </main>
  );
}

function ActiveAlarm({ incident, view, lead, heading }: { incident: Incident; view: IncidentView | undefined; lead: boolean; heading: { current: HTMLHeadingElement | null } }) {
  const t = useT();
  const { incidents, instructions, lang, soundReady } = useAppState();
  const [busy, setBusy] = useState<ResponseStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = incident.id;
  const instruction = instructions[incident.siteId];
  const label = pick(lang, incident.type.label);
  const latest = view?.messages[view.messages.length - 1];
  const fresh = latest !== undefined && view?.freshMessage === latest.key;
  const escalation = view?.escalations[view.escalations.length - 1];
  const loud = realtime.soundOf(incident) === 'loud';
  // Other alarms of this site that have ended while this one goes on: said plainly, never as "all clear".
  const endedHere = Object.values(incidents).filter((v) => v.incident.siteId === incident.siteId && v.incident.state !== 'active');

  const answer = async (status: ResponseStatus) => {
    setBusy(status);
    setError(null);
    try {
      await api('POST', `/incidents/${id}/responses`, { status });
      realtime.answered(id, status);
    } catch (err) {
      setError(`${t('answerFailed')} ${errorMessage(t, err)}`);
    }
    setBusy(null);
  };

  return (
    <>
      {/* Another alarm to raise (a lockdown during a fire): the buttons are one touch away, at the top. */}
      <p class="to-buttons"><a class="button secondary" href="/" onClick={link('/')}><span aria-hidden="true">← </span>{t('toAlarmButtons')}</a></p>
      {loud && !soundReady && view && !view.acknowledged && (
        <button type="button" class="sound-prompt" onClick={(e) => {
          // Only the sound: this tap must not also count as "seen" and silence it again.
          e.stopPropagation();
          unlockAudio();
        }}>
          <span aria-hidden="true">🔊 </span>{t('soundTapToHear')}
        </button>
      )}
      <LinkedFromBanner incident={incident} />
      {lead && incident.state === 'active' && <HeldLinkAlarms siteId={incident.siteId} />}
      {/* Another alarm's instruction rules the site: on top. */}
      {instruction && instruction.incidentId !== id && (
        <section class="current" aria-label={t('currentInstruction')} style={{ background: instruction.colour, color: textOn(instruction.colour) }}>
          {instruction.drill && <strong class="drill-tag">{t('drillBanner')}</strong>}{' '}
          <strong>{t('currentInstruction')}: {pick(lang, instruction.label)}</strong> — {pick(lang, instruction.text)}{' '}
          <a href={`/alarm/${instruction.incidentId}`} onClick={link(`/alarm/${instruction.incidentId}`)}>{t('open')}</a>
        </section>
      )}
      <h1 ref={heading} tabIndex={-1} aria-describedby="alarm-text">
        <TypeIcon icon={incident.type.icon} size={44} />{' '}{incident.drill && <span class="sr-only">{t('drillBanner')}: </span>}{label}
      </h1>
      {endedHere.map((v) => (
        <p key={v.incident.id} class="ended-here">
          {t('endedWhileOther', { label: pick(lang, v.incident.type.label), current: label })} {endedLine(t, lang, v.incident)}
        </p>
      ))}
      {latest && (
        <section class={`latest${fresh ? ' fresh' : ''}`} aria-labelledby="latest-title" data-fresh={fresh}>
          <h2 id="latest-title">{fresh && <span class="new-tag">{t('newInstruction')}</span>}{!fresh && t('latestInstruction')}</h2>
          <p><time>{formatTime(lang, latest.at)}</time>{latest.author && <strong> {latest.author}:</strong>} {latest.body}</p>
        </section>
      )}
      <p class="instruction" id="alarm-text">{pick(lang, incident.type.instruction)}</p>
      <SiteAlarmNotes siteId={incident.siteId} alarmTypeId={incident.type.id} />
      {lead && <LeadPanel incidentId={id} />}
      <div class="answers" role="group" aria-label={t('answerGroup')}>
        {ANSWERS.map((a) => (
          <button key={a.status} type="button" class={`answer ${a.status}${view?.myStatus === a.status ? ' chosen' : ''}`}
            aria-pressed={view?.myStatus === a.status} disabled={busy !== null} onClick={() => void answer(a.status)}>
            <span aria-hidden="true">{a.icon} </span>{t(a.key)}
          </button>
        ))}
      </div>
      {view?.myStatus && <p role="status" class="your-answer">{t('yourAnswer', { status: t(STATUS_TEXT[view.myStatus]) })}</p>}
      {error && <ErrorText>{error}</ErrorText>}
      {view?.myStatus === 'need_help' && <NeedHelpForm incidentId={id} />}
      {view && !view.acknowledged && (
        <button type="button" class="secondary on-colour" onClick={() => realtime.acknowledge(id)}>
          {loud ? t('silence') : t('acknowledge')}
        </button>
      )}
      <p>
        {incident.siteName}{incident.raisedBy && <> · {t('raisedBy', { name: incident.raisedBy.name })}</>} · {t('at', { time: formatTime(lang, incident.raisedAt) })}
        {incident.location && <><br />{t('location', { location: incident.location })}</>}
      </p>
      <section aria-labelledby="messages-title" class="messages">
        <h2 id="messages-title">{t('messages')}</h2>
        {view && view.messages.length > 0 ? <Messages messages={view.messages} live /> : <p>{t('noMessages')}</p>}
      </section>
      {lead && escalation && (
        <p class="card escalation-brief" role="status">
          <strong>{t('escalationTitle')}:</strong> {describeNote(t, escalation)}
        </p>
      )}
    </>
  );
}

function Messages({ messages, live = false }: { messages: IncidentMessage[]; live?: boolean }) {
  const { lang } = useAppState();
  return (
    <ol aria-live={live ? 'polite' : undefined}>
      {messages.map((m) => <li key={m.key}><time>{formatTime(lang, m.at)}</time>{m.author && <strong> {m.author}:</strong>} {m.body}</li>)}
    </ol>
  );
}

/**
 * "I need help" can say where and what, so that someone can come: the answer itself is sent at the
 * first touch; this follows it (every change is kept).
 */
function NeedHelpForm({ incidentId }: { incidentId: string }) {
  const t = useT();
  const [place, setPlace] = useState('');
  const [text, setText] = useState('');
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form class="stack card need-help" onClick={(e) => e.stopPropagation()} onSubmit={(e) => {
      e.preventDefault();
      setBusy(true);
      setError(null);
      api('POST', `/incidents/${incidentId}/responses`, { status: 'need_help', text: text.trim() || null, location: place.trim() || null })
        .then(() => setSent(true), (err: unknown) => setError(errorMessage(t, err)))
        .finally(() => setBusy(false));
    }}>
      <h2>{t('needHelpDetails')}</h2>
      <label for="help-place">{t('needHelpPlace')}</label>
      <input id="help-place" type="text" maxLength={200} value={place} onInput={(e) => setPlace(e.currentTarget.value)} />
      <label for="help-text">{t('needHelpText')}</label>
      <input id="help-text" type="text" maxLength={200} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit" class="primary" disabled={busy || (!place.trim() && !text.trim())}>{t('needHelpSend')}</button>
      {sent && <p role="status" class="ok">{t('needHelpSent')}</p>}
      {error && <ErrorText>{error}</ErrorText>}
    </form>
  );
}

/** The lead's roll call in brief, near the top of the alarm: counts, and who needs help with a number to call. */
function LeadPanel({ incidentId }: { incidentId: string }) {
  const t = useT();
  const { summary, people } = useRollCall(incidentId);
  const needHelp = people.filter((p) => p.status === 'need_help');
  return (
    <section class="lead-panel" aria-labelledby="lead-title" onClick={(e) => e.stopPropagation()}>
      <h2 id="lead-title"><a href={`/incidents/${incidentId}/rollcall`} onClick={link(`/incidents/${incidentId}/rollcall`)}>{t('rollCall')}</a></h2>
      {summary && <p>{t('leadSummary', { ...summary })}</p>}
      {needHelp.length > 0 && (
        <ul class="need-help-list">
          {needHelp.map((p) => (
            <li key={p.personId}>
              <strong><span aria-hidden="true">✚ </span>{p.name}</strong>
              {p.location && <> · {p.location}</>}{p.text && <> · {p.text}</>}
              {p.phone ? <> · <a class="tel" href={`tel:${p.phone}`}>{t('call', { name: p.name })}: {p.phone}</a></> : <> · {t('noPhone')}</>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
