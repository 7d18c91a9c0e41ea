import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../lib/api.ts';
import { formatTime, pick } from '../lib/i18n.ts';
import { realtime } from '../lib/realtime.ts';
import { currentPress, raise } from '../lib/raise.ts';
import { OtherPresses, PressStatus } from './press.tsx';
import { useAppState, useT } from '../lib/store.ts';
import type { AlarmType } from '../lib/types.ts';
import { TypeIcon } from './icons.tsx';
import { HoldButton, Page, link } from './components.tsx';
import { LinkReach } from './links-alarm.tsx';

export function HomePage() {
  const t = useT();
  const { me, incidents, lang } = useAppState();
  const [siteId, setSiteId] = useState(me?.sites[0]?.id ?? '');
  const [types, setTypes] = useState<AlarmType[] | null>(null);
  const [typesFailed, setTypesFailed] = useState(false);
  const [drillAllowed, setDrillAllowed] = useState(false);
  const [location, setLocation] = useState('');
  const [drill, setDrill] = useState(false);
  const press = currentPress();

  useEffect(() => {
    if (!siteId) return;
    // Only the buttons this person may press here (their groups' types; every type for the site's leads).
    // Asked again until the server answers: no buttons because of one failed request would be worse than late ones.
    setTypes(null);
    let timer: number | undefined;
    let attempt = 0;
    const load = (): void => {
      void api<{ alarmTypes: AlarmType[]; drill: boolean }>('GET', `/sites/${siteId}/alarm-types`).then(
        (r) => {
          setTypes(r.alarmTypes);
          setDrillAllowed(r.drill);
          setTypesFailed(false);
        },
        (err: unknown) => {
          // A refusal (not this person's site) is an answer: no buttons. Anything else is asked again.
          if (err instanceof ApiError && err.status < 500 && err.status !== 429) {
            setTypes([]);
            return;
          }
          setTypesFailed(true);
          attempt += 1;
          timer = window.setTimeout(load, Math.min(500 * 2 ** attempt, 10_000));
        },
      );
    };
    load();
    return () => window.clearTimeout(timer);
  }, [siteId]);

  if (!me) return null;
  const active = Object.values(incidents).filter((v) => v.incident.state === 'active')
    .sort((a, b) => b.incident.raisedAt.localeCompare(a.incident.raisedAt));
  const ended = Object.values(incidents).filter((v) => v.incident.state !== 'active');

  return (
    <Page title={t('raiseTitle')}>
      {press && <PressStatus press={press} />}
      <OtherPresses />
      <p id="raise-help" class="help">{t('raiseHelp')}</p>
      {me.sites.length > 1 && (
        <p class="stack">
          <label for="site">{t('site')}</label>
          <select id="site" value={siteId} onChange={(e) => setSiteId(e.currentTarget.value)}>
            {me.sites.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </p>
      )}
      <p class="stack">
        <label for="location">{t('locationLabel')}</label>
        <input id="location" type="text" maxLength={200} placeholder={t('locationPlaceholder')} value={location}
          onInput={(e) => setLocation(e.currentTarget.value)} />
      </p>
      {drillAllowed && (
        <p class="check">
          <input id="drill" type="checkbox" checked={drill} onChange={(e) => setDrill(e.currentTarget.checked)} />
          <label for="drill">{t('drillToggle')}</label>
        </p>
      )}
      {types === null && typesFailed ? (
        <div class="card danger" role="alert"><p><strong>{t('typesUnavailable')}</strong></p><p class="big"><a href="tel:112">{t('call112')}</a></p></div>
      ) : types === null ? <p role="status">{t('loading')}</p> : types.length === 0 ? <p>{t('noTypes')}</p> : (
        <div class="holds">
          {types.map((type) => (
            <HoldButton key={type.id} type={type} describedBy="raise-help"
              onConfirm={() => raise({ siteId, alarmTypeId: type.id, location: location.trim() || null, drill: drillAllowed && drill })} />
          ))}
        </div>
      )}
      {types && <LinkReach siteId={siteId} types={types} />}
      {ended.map(({ incident, endReason }) => (
        <div key={incident.id} class="card ok" role="status">
          <p class="big">{incident.state === 'resolved' ? t('allClear') : t('cancelled')}: {incident.drill ? `${t('drillBanner')} ` : ''}{pick(lang, incident.type.label)}</p>
          <p>{incident.state === 'resolved' ? t('allClearText') : t('cancelledText', { reason: endReason ?? '' })}</p>
          <button type="button" class="secondary" onClick={() => realtime.dismiss(incident.id)}>{t('close')}</button>
        </div>
      ))}
      <section aria-labelledby="active-title">
        <h2 id="active-title">{t('activeAlarms')}</h2>
        {active.length === 0 ? <p>{t('noActiveAlarms')}</p> : (
          <ul class="list">
            {active.map(({ incident }) => (
              <li key={incident.id}>
                <a href={`/alarm/${incident.id}`} onClick={link(`/alarm/${incident.id}`)}>
                  <TypeIcon icon={incident.type.icon} size={20} />{' '}
                  {incident.drill ? `${t('drillBanner')}: ` : ''}{pick(lang, incident.type.label)} · {incident.siteName} · {formatTime(lang, incident.raisedAt)}
                </a>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}
