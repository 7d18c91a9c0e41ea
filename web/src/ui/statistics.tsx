import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../lib/api.ts';
import { pick } from '../lib/i18n.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { Bilingual } from '../lib/types.ts';
import { ErrorText, Page, errorMessage, link } from './components.tsx';
import { Chart, secondsText } from './review.tsx';

/** Statistics over the organisation's incidents, with each incident's review one click away. */

type Share = number | null;
interface Statistics {
  truncated: boolean;
  incidents: { id: string; siteName: string; typeLabel: Bilingual; drill: boolean; state: string; raisedAt: string; toReach: number; reached: number; allReachedMs: number | null; firstAcknowledgementMs: number | null }[];
  groups: {
    siteName: string; typeLabel: Bilingual; month: string; drill: boolean; incidents: number;
    allReached: { incidents: number; medianMs: number | null; p90Ms: number | null };
    acknowledgement: { people: number; medianMs: number | null; p90Ms: number | null }; unreachedRate: Share;
  }[];
  drills: {
    incidentId: string; siteName: string; typeLabel: Bilingual; raisedAt: string;
    score: { reachedWithin10s: Share; reachedWithin60s: Share; acknowledgedWithin60s: Share };
    earlier: { drills: number; reachedWithin10s: Share; reachedWithin60s: Share; acknowledgedWithin60s: Share } | null;
  }[];
  readiness: { month: string; incidents: number; readiness: Share }[];
  charts: { drills: string; readiness: string };
}

const pct = (v: Share) => (v === null ? '–' : `${Math.round(v * 100)} %`);

export function StatisticsPage() {
  const t = useT();
  const { me, lang } = useAppState();
  const [stats, setStats] = useState<Statistics | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!me) return;
    void api<Statistics>('GET', `/organisations/${me.organisation.id}/statistics?lang=${lang}`).then(setStats,
      (err: unknown) => setError(err instanceof ApiError && err.code === 'forbidden' ? t('reviewForbidden') : errorMessage(t, err)));
  }, [me?.organisation.id, lang]);
  const s = (ms: number | null) => secondsText(lang, ms);
  const when = (iso: string) => new Date(iso).toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
  return (
    <Page title={t('statisticsTitle')}>
      {error && <ErrorText>{error}</ErrorText>}
      {!stats && !error && <p role="status">{t('loading')}</p>}
      {stats && (
        <>
          {stats.truncated && <p class="card notice">{t('statsTruncated')}</p>}
          <h2>{t('incidentsTitle')}</h2>
          {stats.incidents.length === 0 ? <p>{t('noIncidents')}</p> : (
            <ul class="list">
              {stats.incidents.map((i) => (
                <li key={i.id}>
                  <a href={`/incidents/${i.id}/review`} onClick={link(`/incidents/${i.id}/review`)}>
                    {i.drill ? `${t('drillBanner')} ` : ''}{pick(lang, i.typeLabel)}, {i.siteName}, {when(i.raisedAt)}
                  </a>{' '}
                  <span class="help">{t('statsIncidentLine', { reached: i.reached, total: i.toReach, all: s(i.allReachedMs) })}</span>
                </li>
              ))}
            </ul>
          )}
          <Chart svg={stats.charts.drills} caption={t('drillsCaption')} />
          <h2>{t('drillsTitle')}</h2>
          {stats.drills.length === 0 ? <p>{t('noDrills')}</p> : (
            <table>
              <thead><tr><th scope="col">{t('drillColumn')}</th><th scope="col">{t('within10s')}</th><th scope="col">{t('within60s')}</th><th scope="col">{t('ack60s')}</th><th scope="col">{t('earlierDrills')}</th></tr></thead>
              <tbody>{stats.drills.map((d) => (
                <tr key={d.incidentId}>
                  <th scope="row">{d.siteName}, {pick(lang, d.typeLabel)}, {when(d.raisedAt)}</th>
                  <td>{pct(d.score.reachedWithin10s)}</td><td>{pct(d.score.reachedWithin60s)}</td><td>{pct(d.score.acknowledgedWithin60s)}</td>
                  <td>{d.earlier ? t('earlierLine', { n: d.earlier.drills, a: pct(d.earlier.reachedWithin10s), b: pct(d.earlier.reachedWithin60s), c: pct(d.earlier.acknowledgedWithin60s) }) : t('firstDrill')}</td>
                </tr>
              ))}</tbody>
            </table>
          )}
          <h2>{t('groupsTitle')}</h2>
          <div style={{ overflowX: 'auto' }} tabIndex={0} role="region" aria-label={t('groupsTitle')}>
            <table>
              <thead><tr>
                <th scope="col">{t('groupColumn')}</th><th scope="col">{t('count')}</th><th scope="col">{t('allReachedMedian')}</th>
                <th scope="col">{t('ackMedian')}</th><th scope="col">{t('unreachedRate')}</th>
              </tr></thead>
              <tbody>{stats.groups.map((g) => (
                <tr key={`${g.siteName}-${g.month}-${g.typeLabel.sv}-${String(g.drill)}`}>
                  <th scope="row">{g.month} · {g.siteName} · {pick(lang, g.typeLabel)}{g.drill ? ` · ${t('drillBanner')}` : ''}</th>
                  <td>{g.incidents}</td>
                  <td>{s(g.allReached.medianMs)} / {s(g.allReached.p90Ms)}</td>
                  <td>{s(g.acknowledgement.medianMs)} / {s(g.acknowledgement.p90Ms)}</td>
                  <td>{pct(g.unreachedRate)}</td>
                </tr>
              ))}</tbody>
            </table>
          </div>
          <Chart svg={stats.charts.readiness} caption={t('readinessCaption')} />
          <table>
            <caption>{t('readinessTitle')}</caption>
            <thead><tr><th scope="col">{t('month')}</th><th scope="col">{t('count')}</th><th scope="col">{t('readiness')}</th></tr></thead>
            <tbody>{stats.readiness.map((r) => <tr key={r.month}><th scope="row">{r.month}</th><td>{r.incidents}</td><td>{pct(r.readiness)}</td></tr>)}</tbody>
          </table>
        </>
      )}
    </Page>
  );
}
