import { formatTime, pick } from '../lib/i18n.ts';
import { clearPress, confirmPress, otherPressesInFlight, type Press } from '../lib/raise.ts';
import { useAppState, useT } from '../lib/store.ts';
import { link } from './components.tsx';

const REFUSALS: Record<string, 'errForbiddenRaise' | 'errRealAlarmActive'> = {
  forbidden: 'errForbiddenRaise',
  real_alarm_active: 'errRealAlarmActive',
};

/** What happens to the press after the hold: sending, retrying (call 112), confirmation, stored. */
export function PressStatus({ press }: { press: Press }) {
  const t = useT();
  const { lang, rollcalls } = useAppState();
  if (press.status === 'sending') return <p class="card" role="status">{t('sending')}</p>;
  if (press.status === 'retrying') {
    return (
      <div class="card danger" role="alert">
        <p><strong>{t('notSentRetrying', { n: press.attempt })}</strong></p>
        <p class="big"><a href="tel:112">{t('call112')}</a></p>
        <button type="button" class="secondary" onClick={clearPress}>{t('stopTrying')}</button>
      </div>
    );
  }
  if (press.status === 'confirm') {
    return (
      <div class="card danger" role="alertdialog" aria-labelledby="contra-title" aria-describedby="contra-text">
        <h2 id="contra-title">{t('confirmContradictionTitle')}</h2>
        <p id="contra-text">{t('confirmContradiction', { current: press.detail ?? '' })}</p>
        <div class="row">
          <button type="button" class="primary" onClick={confirmPress}>{t('confirmRaise')}</button>
          <button type="button" class="secondary" onClick={clearPress}>{t('cancel')}</button>
        </div>
      </div>
    );
  }
  if (press.status === 'refused') {
    const key = REFUSALS[press.detail ?? ''];
    return (
      <div class="card danger" role="alert">
        <p><strong>{t('notSent')}</strong> {key ? t(key) : t('errGeneric', { message: press.detail ?? '' })}</p>
        <p class="big"><a href="tel:112">{t('call112')}</a></p>
        <button type="button" class="secondary" onClick={clearPress}>{t('close')}</button>
      </div>
    );
  }
  const incident = press.incident;
  if (!incident) return null;
  const summary = rollcalls[incident.id];
  return (
    <div class="card ok" role="status">
      <p><strong>{press.outcome === 'raised' ? t('sentTo', { n: incident.recipients }) : t('joinedExisting')}</strong></p>
      <p>{incident.drill ? `${t('drillBanner')}: ` : ''}{pick(lang, incident.type.label)} · {formatTime(lang, incident.raisedAt)}</p>
      {summary && (
        <p>{t('receiptsTitle')}: {t('delivered')} {summary.delivered}/{summary.targeted} · {t('safe')} {summary.safe} · {t('needsHelp')} {summary.needHelp}</p>
      )}
      <div class="row">
        {location.pathname !== `/alarm/${incident.id}` && (
          <a class="button secondary" href={`/alarm/${incident.id}`} onClick={link(`/alarm/${incident.id}`)}>{t('open')}</a>
        )}
        <button type="button" class="secondary" onClick={clearPress}>{t('close')}</button>
      </div>
    </div>
  );
}


/** Earlier presses still being sent while the screen shows a newer one: never out of sight. */
export function OtherPresses() {
  const t = useT();
  const n = otherPressesInFlight();
  if (n === 0) return null;
  return (
    <div class="card danger" role="alert">
      <p><strong>{t('otherPressesRetrying', { n })}</strong></p>
      <p class="big"><a href="tel:112">{t('call112')}</a></p>
    </div>
  );
}
