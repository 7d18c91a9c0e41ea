import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { isTransient } from '../lib/errors.ts';
import { formatTime, pick } from '../lib/i18n.ts';
import { raise } from '../lib/raise.ts';
import { realtime } from '../lib/realtime/client.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { AlarmType } from '../lib/types.ts';
import { EndedNote, HoldButton, Page, link, liveSites } from './components.tsx';
import { TypeIcon } from './icons.tsx';
import { LinkReach } from './links-alarm.tsx';

/**
 * Drill mode was on when the person last left the raise page. It never outlives the page: a drill
 * setting left on would turn the next real emergency into an exercise. Coming back, the page says it is off.
 */
let drillWasOn = false;

/** The raise page: the alarm buttons first (at any screen size and text size), then what goes with a press. */
export function HomePage() {
  const t = useT();
  const { me, incidents, instructions, lang, orgIncidents } = useAppState();
  const [siteId, setSiteId] = useState(me?.sites[0]?.id ?? '');
  const [types, setTypes] = useState<AlarmType[] | null>(null);
  const [typesFailed, setTypesFailed] = useState(false);
  const [drillAllowed, setDrillAllowed] = useState(false);
  const [location, setLocation] = useState('');
  const [drill, setDrill] = useState(false);
  const [drillEnded] = useState(() => drillWasOn);

  useEffect(() => {
    drillWasOn = false;
  }, []);
  useEffect(() => {
    drillWasOn = drill;
  }, [drill]);

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
          if (!isTransient(err)) {
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
  // An organisation admin's live list adds the incidents that did not alarm them: they open on the roll call.
  const active = [
    ...Object.values(incidents).filter((v) => v.incident.state === 'active').map((v) => ({ incident: v.incident, path: `/alarm/${v.incident.id}` })),
    ...Object.values(orgIncidents).filter((i) => !incidents[i.id]).map((incident) => ({ incident, path: `/incidents/${incident.id}/rollcall` })),
  ].sort((a, b) => b.incident.raisedAt.localeCompare(a.incident.raisedAt));
  // No all clear beside a live alarm: an ended alarm of a site where another is still active is not "over".
  const live = liveSites(instructions);
  const ended = Object.values(incidents).filter((v) => v.incident.state !== 'active' && !live.has(v.incident.siteId));
  const drilling = drillAllowed && drill;

  return (
    <Page title={t('raiseTitle')} headingClass="compact">
      {me.sites.length > 1 && (
        <p class="stack">
          <label for="site">{t('site')}</label>
          <select id="site" value={siteId} onChange={(e) => setSiteId(e.currentTarget.value)}>
            {me.sites.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </p>
      )}
      {drillAllowed && (
        <fieldset class={`mode${drilling ? ' drill' : ''}`}>
          <legend>{t('drillModeLegend')}</legend>
          <div class="mode-options">
            <label><input type="radio" name="mode" checked={!drill} onChange={() => setDrill(false)} /> {t('drillModeReal')}</label>
            <label><input type="radio" name="mode" checked={drill} onChange={() => setDrill(true)} /> {t('drillModeDrill')}</label>
          </div>
        </fieldset>
      )}
      {drilling && <p class="drill-mode" role="status"><span class="drill-tag">{t('drillBanner')}</span> {t('drillModeOn')}</p>}
      {!drilling && drillEnded && drillAllowed && <p class="card notice" role="status">{t('drillModeOff')}</p>}
      {types === null && typesFailed ? (
        <div class="card danger" role="alert"><p><strong>{t('typesUnavailable')}</strong></p><p class="big"><a href="tel:112">{t('emergency112')}</a></p></div>
      ) : types === null ? <p role="status">{t('loading')}</p> : types.length === 0 ? <p>{t('noTypes')}</p> : (
        <div class={`holds${drilling ? ' drill' : ''}`}>
          {types.map((type) => (
            <HoldButton key={type.id} type={type} describedBy="raise-help" drill={drilling}
              onConfirm={() => raise({ siteId, alarmTypeId: type.id, label: type.label, location: location.trim() || null, drill: drilling })} />
          ))}
        </div>
      )}
      <p id="raise-help" class="help">{t('raiseHelp')}</p>
      <p class="stack">
        <label for="location">{t('locationLabel')}</label>
        <input id="location" type="text" maxLength={200} placeholder={t('locationPlaceholder')} value={location}
          onInput={(e) => setLocation(e.currentTarget.value)} />
      </p>
      {types && <LinkReach siteId={siteId} types={types} />}
      {ended.map((view) => (
        <div key={view.incident.id} class="card ended-card" role="status">
          <EndedNote view={view} />
          <button type="button" class="secondary" onClick={() => realtime.dismiss(view.incident.id)}>{t('close')}</button>
        </div>
      ))}
      <section aria-labelledby="active-title">
        <h2 id="active-title">{t('activeAlarms')}</h2>
        {Object.keys(orgIncidents).length > 0 && <p class="help">{t('orgIncidentsNote')}</p>}
        {active.length === 0 ? <p>{t('noActiveAlarms')}</p> : (
          <ul class="list">
            {active.map(({ incident, path }) => (
              <li key={incident.id}>
                <a href={path} onClick={link(path)}>
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
