import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { realtime } from '../lib/realtime.ts';
import { navigate } from '../lib/router.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { Incident, ResponseStatus } from '../lib/types.ts';
import { textOn } from './colour.ts';
import { TypeIcon } from './icons.tsx';
import { ErrorText, errorMessage, link } from './components.tsx';
import { describeNote } from '../lib/escalation.ts';
import { OtherPresses, PressStatus } from './press.tsx';
import { currentPress } from '../lib/raise.ts';
import { HeldLinkAlarms, LinkedFromBanner } from './links-alarm.tsx';

const ANSWERS: { status: ResponseStatus; key: TextKey; icon: string }[] = [
  { status: 'safe', key: 'imSafe', icon: '✔' },
  { status: 'need_help', key: 'needHelp', icon: '✚' },
  { status: 'not_on_site', key: 'notOnSite', icon: '⌂' },
];
const STATUS_TEXT: Record<ResponseStatus, TextKey> = { safe: 'imSafe', need_help: 'needHelp', not_on_site: 'notOnSite' };

/** The full-screen alarm: the type's colour, text and instruction, the answer buttons, the leads' messages. */
export function AlarmPage({ id }: { id: string }) {
  const t = useT();
  const { incidents, instructions, lang } = useAppState();
  const [fetched, setFetched] = useState<Incident | null>(null);
  const [lead, setLead] = useState(false);
  const [busy, setBusy] = useState<ResponseStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const press = currentPress();

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
  // Focus moves to the alarm as soon as it is shown, and again when it ends, so that a screen reader
  // announces it (the heading, described by the instruction).
  useEffect(() => {
    heading.current?.focus();
  }, [id, incident?.state, incident !== null]);
  useEffect(() => {
    if (incident) document.title = `${incident.drill ? `${t('drillBanner')}: ` : ''}${pick(lang, incident.type.label)} · Samlarm`;
  }, [incident?.id, incident?.drill, lang]);
  if (!incident) return <main id="main"><p role="status">{t('loading')}</p></main>;

  const state = incident.state;
  const instruction = instructions[incident.siteId];
  const ended = state !== 'active';
  const background = ended ? (state === 'resolved' ? '#1b5e20' : '#424242') : incident.type.colour;
  const colour = textOn(background);
  const label = pick(lang, incident.type.label);
  const latest = view?.escalations[view.escalations.length - 1];

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
    <main
      id="main"
      class={`alarm${incident.drill ? ' drill' : ''}${ended ? ' ended' : ''}`}
      style={{ backgroundColor: background, color: colour }}
      data-state={state}
      data-incident={incident.id}
      // On click, not pointerdown: the silence button leaving on acknowledge moves what is below it, and a
      // tap whose pointerdown and pointerup land on different elements (the roll-call link) is no tap.
      onClick={() => realtime.acknowledge(id)}
      onKeyDown={() => realtime.acknowledge(id)}
    >
      {press?.incident?.id === id && press.status === 'sent' && <PressStatus press={press} />}
      {/* The person's own press that is not stored yet or needs them stays in sight when an alarm takes the screen. */}
      {press && press.status !== 'sent' && <PressStatus press={press} />}
      <OtherPresses />
      {incident.drill && <p class="drill-banner"><strong>{t('drillBanner')}</strong> · {t('drillNote')}</p>}
      <LinkedFromBanner incident={incident} />
      {lead && !ended && <HeldLinkAlarms siteId={incident.siteId} />}
      {/* Another alarm's instruction rules the site: on top, also once this alarm has ended. */}
      {instruction && instruction.incidentId !== incident.id && (
        <section class="current" aria-label={t('currentInstruction')} style={{ background: instruction.colour, color: textOn(instruction.colour) }}>
          {instruction.drill && <strong class="drill-tag">{t('drillBanner')}</strong>}{' '}
          <strong>{t('currentInstruction')}: {pick(lang, instruction.label)}</strong> — {pick(lang, instruction.text)}{' '}
          <a href={`/alarm/${instruction.incidentId}`} onClick={link(`/alarm/${instruction.incidentId}`)}>{t('open')}</a>
        </section>
      )}
      {ended ? (
        <>
          <h1 ref={heading} tabIndex={-1} aria-describedby="alarm-text">{state === 'resolved' ? t('allClear') : t('cancelled')}</h1>
          <p class="big">{t('alarmOf', { label })}</p>
          <p id="alarm-text">{state === 'resolved' ? t('allClearText') : t('cancelledText', { reason: view?.endReason ?? '' })}</p>
        </>
      ) : (
        <>
          <h1 ref={heading} tabIndex={-1} aria-describedby="alarm-text">
            <TypeIcon icon={incident.type.icon} size={36} />{' '}{incident.drill && <span class="sr-only">{t('drillBanner')}: </span>}{label}
          </h1>
          <p class="instruction" id="alarm-text">{pick(lang, incident.type.instruction)}</p>
        </>
      )}
      <p>
        {incident.siteName}{incident.raisedBy && <> · {t('raisedBy', { name: incident.raisedBy.name })}</>} · {t('at', { time: formatTime(lang, incident.raisedAt) })}
        {incident.location && <><br />{t('location', { location: incident.location })}</>}
      </p>
      {!ended && (
        <div class="answers" role="group" aria-label={t('answerGroup')}>
          {ANSWERS.map((a) => (
            <button key={a.status} type="button" class={`answer ${a.status}${view?.myStatus === a.status ? ' chosen' : ''}`}
              aria-pressed={view?.myStatus === a.status} disabled={busy !== null} onClick={() => void answer(a.status)}>
              <span aria-hidden="true">{a.icon} </span>{t(a.key)}
            </button>
          ))}
        </div>
      )}
      {view?.myStatus && <p role="status" class="your-answer">{t('yourAnswer', { status: t(STATUS_TEXT[view.myStatus]) })}</p>}
      {error && <ErrorText>{error}</ErrorText>}
      {!ended && view && !view.acknowledged && (
        <button type="button" class="secondary on-colour" onClick={() => realtime.acknowledge(id)}>
          {realtime.soundOf(incident) === 'silent' ? t('acknowledge') : t('silence')}
        </button>
      )}
      <section aria-labelledby="messages-title" class="messages">
        <h2 id="messages-title">{t('messages')}</h2>
        {view && view.messages.length > 0 ? (
          <ol aria-live="polite">
            {view.messages.map((m) => <li key={m.key}><time>{formatTime(lang, m.at)}</time>{m.author && <strong> {m.author}:</strong>} {m.body}</li>)}
          </ol>
        ) : <p>{t('noMessages')}</p>}
      </section>
      {lead && latest && (
        <p class="card escalation-brief" role="status">
          <strong>{t('escalationTitle')}:</strong> {describeNote(t, latest)}
        </p>
      )}
      <div class="row">
        {lead && (
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
