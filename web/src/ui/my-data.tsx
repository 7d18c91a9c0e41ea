import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { pick } from '../lib/i18n.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { Bilingual, Lang } from '../lib/types.ts';
import { ErrorText, Page, errorMessage } from './components.tsx';

/** GET /me/export, as much of it as this page shows (the download is the whole document). */
interface PersonalData {
  exportedAt: string;
  person: { id: string; name: string; email: string; phone: string | null; language: Lang; createdAt: string };
  organisation: { name: string };
  roles: { role: string; siteId: string | null }[];
  sites: { id: string; name: string }[];
  alarmGroups: { id: string; name: string; siteName: string }[];
  escalationContactFor: { groupId: string; groupName: string; siteName: string }[];
  sessions: { id: string; kind: string; label: string | null; platform: string | null; userAgent: string | null; lastSeenAt: string; revokedAt: string | null; expiresAt: string }[];
  pushSubscriptions: unknown[];
  loginFailures: unknown[];
  incidents: { id: string; siteName: string; typeLabel: Bilingual; drill: boolean; raisedAt: string; raisedByThem: boolean }[];
  responses: { incidentId: string; status: string; text: string | null; location: string | null; at: string }[];
  messages: { id: string; body: string; at: string }[];
  receipts: unknown[];
  deliveries: unknown[];
  timeline: unknown[];
  audit: { aboutThem: { id: string; action: string; at: string; actor: 'self' | 'other' | 'system' }[]; byThem: unknown[] };
}

const STATUS: Record<string, 'safe' | 'needHelp' | 'notOnSite'> = { safe: 'safe', need_help: 'needHelp', not_on_site: 'notOnSite' };

/**
 * "My data": a readable summary of everything Samlarm holds about the signed-in person, and the
 * whole export as a file. Reading it is an export, and is audited as one.
 */
export function MyDataPage() {
  const t = useT();
  const { lang } = useAppState();
  const [data, setData] = useState<PersonalData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [file, setFile] = useState<string | null>(null);
  useEffect(() => {
    void api<PersonalData>('GET', '/me/export').then(setData, (err: unknown) => setError(errorMessage(t, err)));
  }, []);
  useEffect(() => {
    if (!data) return undefined;
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    setFile(url);
    return () => URL.revokeObjectURL(url);
  }, [data]);
  const when = (iso: string) => new Date(iso).toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
  const siteName = (id: string | null) => (id ? data?.sites.find((s) => s.id === id)?.name ?? id : null);

  return (
    <Page title={t('myDataTitle')}>
      <p>{t('myDataIntro')}</p>
      {error && <ErrorText>{error}</ErrorText>}
      {!data && !error && <p role="status">{t('loading')}</p>}
      {data && (
        <>
          {file && (
            <p><a class="button secondary" href={file} download={`samlarm-${data.person.id}.json`}>{t('myDataDownload')}</a></p>
          )}
          <h2>{t('myDataProfile')}</h2>
          <dl class="checks">
            <dt>{t('myDataName')}</dt><dd>{data.person.name}</dd>
            <dt>{t('email')}</dt><dd>{data.person.email}</dd>
            <dt>{t('myDataPhone')}</dt><dd>{data.person.phone ?? '–'}</dd>
            <dt>{t('language')}</dt><dd>{data.person.language === 'sv' ? 'svenska' : 'English'}</dd>
            <dt>{t('myDataCreated')}</dt><dd>{when(data.person.createdAt)} · {data.organisation.name}</dd>
          </dl>

          <h2>{t('myDataRoles')}</h2>
          <ul class="list">
            {data.roles.map((r) => <li key={`${r.role}-${r.siteId ?? ''}`}>{r.role}{r.siteId ? ` (${siteName(r.siteId)})` : ''}</li>)}
          </ul>
          <p>{t('myDataSites')}: {data.sites.map((s) => s.name).join(', ') || t('myDataNothing')}</p>
          <p>{t('myDataGroups')}: {data.alarmGroups.map((g) => `${g.name} (${g.siteName})`).join(', ') || t('myDataNothing')}</p>
          {data.escalationContactFor.length > 0 && (
            <p>{t('myDataContactFor')}: {data.escalationContactFor.map((c) => `${c.groupName} (${c.siteName})`).join(', ')}</p>
          )}

          <h2>{t('myDataSessions', { n: data.sessions.length })}</h2>
          <ul class="list">
            {data.sessions.map((s) => (
              <li key={s.id}>
                {s.label ?? s.platform ?? s.kind} · {t('myDataLastSeen', { time: when(s.lastSeenAt) })}
                {(s.revokedAt !== null || new Date(s.expiresAt) < new Date()) && ` · ${t('myDataSessionEnded')}`}
              </li>
            ))}
          </ul>
          <p>{t('myDataPush', { n: data.pushSubscriptions.length })} · {t('myDataFailures', { n: data.loginFailures.length })}</p>

          <h2>{t('myDataIncidents', { n: data.incidents.length })}</h2>
          {data.incidents.length === 0 ? <p>{t('myDataNothing')}</p> : (
            <ul class="list">
              {data.incidents.map((i) => (
                <li key={i.id}>
                  {when(i.raisedAt)} · {pick(lang, i.typeLabel)}{i.drill ? ` (${t('myDataDrill')})` : ''} · {i.siteName}
                  {i.raisedByThem && ` · ${t('myDataRaisedByYou')}`}
                </li>
              ))}
            </ul>
          )}
          <h3>{t('myDataAnswers', { n: data.responses.length })}</h3>
          <ul class="list">
            {data.responses.map((r, n) => (
              <li key={n}>{when(r.at)} · {t(STATUS[r.status] ?? 'safe')}{r.text !== null && ` · ${r.text}`}{r.location !== null && ` · ${r.location}`}</li>
            ))}
          </ul>
          <h3>{t('myDataMessages', { n: data.messages.length })}</h3>
          <ul class="list">
            {data.messages.map((m) => <li key={m.id}>{when(m.at)} · {m.body}</li>)}
          </ul>
          <p>{t('myDataCounts', { receipts: data.receipts.length, deliveries: data.deliveries.length, timeline: data.timeline.length })}</p>

          <h2>{t('myDataAudit', { n: data.audit.aboutThem.length })}</h2>
          <ul class="list">
            {data.audit.aboutThem.map((a) => <li key={a.id}>{when(a.at)} · {a.action} · {t(`myDataActor_${a.actor}`)}</li>)}
          </ul>
          <p>{t('myDataAuditBy', { n: data.audit.byThem.length })}</p>
          <p class="card notice">{t('myDataRights')}</p>
        </>
      )}
    </Page>
  );
}
