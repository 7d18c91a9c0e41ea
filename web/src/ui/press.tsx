import { useEffect, useRef } from 'preact/hooks';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { clearPress, confirmPress, currentPress, otherPressesInFlight, sendStaleNow, type Press } from '../lib/raise.ts';
import { usePath } from '../lib/router.ts';
import { useAppState, useT } from '../lib/store.ts';
import { link, useEscape } from './components.tsx';

const REFUSALS: Record<string, TextKey> = {
  forbidden: 'errForbiddenRaise',
  real_alarm_active: 'errRealAlarmActive',
  unauthenticated: 'signedOutElsewhere',
};

/**
 * The person's press and what became of it, fixed at the bottom of every screen where the thumb is:
 * sending; NOT sent, call 112 (also when the server answers nothing within the app's own deadline);
 * a contradiction to confirm with one touch, naming both alarms; sent to N people. Nothing the person
 * pressed can scroll out of sight.
 */
export function PressDock() {
  useAppState();
  const press = currentPress();
  const others = otherPressesInFlight();
  const dock = useRef<HTMLDivElement>(null);
  const path = usePath();
  const shown = press !== null || others > 0;

  // "Sent" belongs to its alarm screen: once the person moves on, it would only cover what they came for.
  useEffect(() => {
    if (press?.status === 'sent' && press.sent && !press.sent.whileClosed && path !== `/alarm/${press.sent.incidentId}`) clearPress();
  }, [path, press?.status]);

  // The pages keep room for the dock at their end, so that it never covers their last control.
  useEffect(() => {
    const root = document.documentElement;
    const el = dock.current;
    if (!el) {
      root.style.removeProperty('--dock-height');
      return;
    }
    const observer = new ResizeObserver(() => root.style.setProperty('--dock-height', `${el.offsetHeight}px`));
    observer.observe(el);
    return () => {
      observer.disconnect();
      root.style.removeProperty('--dock-height');
    };
  }, [shown]);

  if (!shown) return null;
  return (
    <div class="dock" ref={dock} data-press-status={press ? statusOf(press) : 'others'}>
      {press && <PressCard press={press} />}
      {others > 0 && <OtherPresses n={others} />}
    </div>
  );
}

/** What the screen says about a press: `not-sent` once the deadline passed or an attempt failed. */
const statusOf = (press: Press): string => (press.status === 'retrying' || (press.status === 'sending' && press.late) ? 'not-sent' : press.status);

function PressCard({ press }: { press: Press }) {
  const t = useT();
  const { lang } = useAppState();
  const action = useRef<HTMLButtonElement>(null);
  const status = statusOf(press);
  const label = `${press.input.drill ? `${t('drillBanner')} ` : ''}${pick(lang, press.input.label)}`;
  const needsAnswer = status === 'confirm' || status === 'stale';
  // A question for the person gets the focus (keyboard, screen reader); Esc answers "no".
  useEffect(() => {
    if (needsAnswer) action.current?.focus();
  }, [press.pressId, needsAnswer]);
  useEscape(needsAnswer, clearPress);

  if (status === 'sending') {
    return <p class="press sending" role="status"><span class="press-mark" aria-hidden="true">…</span> {t('pressSending', { label })}</p>;
  }
  if (status === 'not-sent') {
    return (
      <div class="press danger" role="alert">
        <p class="press-head"><span class="press-mark" aria-hidden="true">✘</span> <strong>{t('pressNotSent', { label })}</strong></p>
        <p class="big"><a href="tel:112">{t('call112')}</a></p>
        <p>{press.status === 'retrying' ? t('pressRetrying', { n: press.attempt }) : t('pressStillTrying')}</p>
        <button type="button" class="secondary" onClick={clearPress}>{t('stopTrying')}</button>
      </div>
    );
  }
  if (status === 'confirm') {
    const current = press.current ? pick(lang, press.current) : '';
    return (
      <div class="press danger" role="alertdialog" aria-labelledby="press-title" aria-describedby="press-text">
        <p class="press-head" id="press-title"><span class="press-mark" aria-hidden="true">✘</span> <strong>{t('pressNotSent', { label })}</strong></p>
        <p id="press-text">{t('pressConfirmText', { current, label })}</p>
        <div class="row">
          <button ref={action} type="button" class="primary urgent" onClick={confirmPress}>{t('pressConfirmButton', { label })}</button>
          <button type="button" class="secondary" onClick={clearPress}>{t('cancel')}</button>
        </div>
      </div>
    );
  }
  if (status === 'stale') {
    return (
      <div class="press danger" role="alertdialog" aria-labelledby="press-title">
        <p class="press-head" id="press-title"><strong>{t('pressStale', { label, time: formatTime(lang, new Date(press.startedAt).toISOString()) })}</strong></p>
        <div class="row">
          <button ref={action} type="button" class="primary urgent" onClick={sendStaleNow}>{t('pressStaleSend')}</button>
          <button type="button" class="secondary" onClick={clearPress}>{t('pressStaleDiscard')}</button>
        </div>
      </div>
    );
  }
  if (status === 'refused') {
    const key = REFUSALS[press.code ?? ''];
    return (
      <div class="press danger" role="alert">
        <p class="press-head"><span class="press-mark" aria-hidden="true">✘</span> <strong>{t('pressRefused', { label })}</strong> {key ? t(key) : t('errGeneric', { message: press.code ?? '' })}</p>
        <p class="big"><a href="tel:112">{t('call112')}</a></p>
        <button type="button" class="secondary" onClick={clearPress}>{t('close')}</button>
      </div>
    );
  }
  const sent = press.sent;
  if (!sent) return null;
  const text = sent.outcome !== 'raised' ? t('joinedExisting')
    : sent.whileClosed ? t('pressSentWhileClosed', { label, n: sent.recipients })
      : t('pressSent', { label, time: formatTime(lang, sent.at), n: sent.recipients });
  // Compact: it must not hide the alarm buttons for long.
  return (
    <div class="press ok sent" role="status">
      <p class="press-head"><span class="press-mark" aria-hidden="true">✔</span> <strong>{text}</strong></p>
      {location.pathname !== `/alarm/${sent.incidentId}` && (
        <a class="button secondary" href={`/alarm/${sent.incidentId}`} onClick={link(`/alarm/${sent.incidentId}`)}>{t('open')}</a>
      )}
      <button type="button" class="secondary" onClick={clearPress}>{t('close')}</button>
    </div>
  );
}

/** Earlier presses still being sent while the dock shows a newer one: never out of sight. */
function OtherPresses({ n }: { n: number }) {
  const t = useT();
  return (
    <p class="press danger others" role="alert">
      <strong>{t('otherPressesRetrying', { n })}</strong> <a href="tel:112">{t('call112')}</a>
    </p>
  );
}
