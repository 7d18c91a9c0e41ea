import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';

import { formatDateTime } from '../lib/i18n.ts';
import { useAppState, useT } from '../lib/store.ts';
import { SaveStatus } from './admin.tsx';
import { Page, errorMessage } from './components.tsx';

interface Session {
  id: string; kind: string; label: string | null; userAgent: string | null; lastSeenAt: string; current: boolean;
  platform: string | null; pushSubscribed: boolean;
}
interface Failure { clientAddress: string | null; count: number; lastAt: string }

/** My own account: a new password, my devices and sign-ins (sign out a lost phone), failed sign-ins with my address. */
export function AccountPage() {
  const t = useT();
  const { me, lang } = useAppState();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [passwordStatus, setPasswordStatus] = useState<{ status: string | null; error: string | null }>({ status: null, error: null });
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [failures, setFailures] = useState<Failure[]>([]);
  const [ending, setEnding] = useState<Session | null>(null);
  const [deviceStatus, setDeviceStatus] = useState<{ status: string | null; error: string | null }>({ status: null, error: null });
  const load = () => {
    void api<{ sessions: Session[] }>('GET', '/auth/sessions').then((r) => setSessions(r.sessions), () => setSessions([]));
    void api<{ failures: Failure[] }>('GET', '/auth/sign-in-failures').then((r) => setFailures(r.failures), () => undefined);
  };
  useEffect(load, []);
  if (!me) return null;
  const deviceName = (s: Session) => s.label ?? s.platform ?? s.userAgent?.slice(0, 60) ?? t('unnamedDevice');
  return (
    <Page title={t('accountTitle')}>
      <p>{me.person.name} · {me.person.email}</p>
      <form class="stack card" onSubmit={(e) => {
        e.preventDefault();
        setPasswordStatus({ status: null, error: null });
        void api('POST', '/auth/password', { currentPassword: current, newPassword: next }).then(() => {
          setCurrent('');
          setNext('');
          setPasswordStatus({ status: t('passwordChanged'), error: null });
          load();
        }, (err: unknown) => setPasswordStatus({ status: null, error: errorMessage(t, err) }));
      }}>
        <h2>{t('changePassword')}</h2>
        <input type="text" autocomplete="username" value={me.person.email} readOnly hidden />
        <label for="pw-current">{t('currentPassword')}</label>
        <input id="pw-current" type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
        <label for="pw-new">{t('newPassword')}</label>
        <input id="pw-new" type="password" autocomplete="new-password" required minLength={10} maxLength={1024} value={next} onInput={(e) => setNext(e.currentTarget.value)} />
        <button type="submit" class="primary">{t('changePassword')}</button>
        <SaveStatus {...passwordStatus} />
      </form>

      <section class="card" aria-labelledby="devices-title">
        <h2 id="devices-title">{t('myDevices')}</h2>
        <SaveStatus {...deviceStatus} />
        {ending && (
          <div class="card danger" role="alertdialog" aria-labelledby="end-q">
            <p id="end-q">{t('confirmSignOutDevice', { device: deviceName(ending) })}</p>
            <div class="row">
              <button type="button" class="primary" onClick={() => {
                const target = ending;
                setEnding(null);
                void api('DELETE', `/auth/sessions/${target.id}`).then(() => {
                  setDeviceStatus({ status: t('deviceSignedOut'), error: null });
                  load();
                }, (err: unknown) => setDeviceStatus({ status: null, error: errorMessage(t, err) }));
              }}>{t('signOutDevice')}</button>
              <button type="button" class="secondary" onClick={() => setEnding(null)}>{t('cancel')}</button>
            </div>
          </div>
        )}
        {sessions === null ? <p role="status">{t('loading')}</p> : (
          <ul class="list">
            {sessions.map((s) => (
              <li key={s.id}>
                <strong>{deviceName(s)}</strong>{s.current && <> ({t('thisDevice')})</>}
                <br />{t('lastSeenAt', { time: formatDateTime(lang, s.lastSeenAt) })} · {s.pushSubscribed ? t('pushOn') : t('pushOff')}
                {!s.current && <> <button type="button" class="link" onClick={() => setEnding(s)}>{t('signOutDevice')}</button></>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card" aria-labelledby="failures-title">
        <h2 id="failures-title">{t('failedSignIns')}</h2>
        {failures.length === 0 ? <p>{t('failedSignInsNone')}</p> : (
          <ul class="list">
            {failures.map((f) => (
              <li key={f.clientAddress ?? '-'}>{t('failedSignInsRow', { count: f.count, address: f.clientAddress ?? '—', time: formatDateTime(lang, f.lastAt) })}</li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}
