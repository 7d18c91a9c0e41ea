import { useEffect, useState } from 'preact/hooks';
import { api, isMissing } from '../lib/api.ts';
import { markSetupDone, signIn } from '../lib/auth.ts';
import { enablePush, isIos, isStandalone, permission, pushSupported, subscribe, type PushOutcome } from '../lib/push.ts';
import { navigate } from '../lib/router.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { MyDevice } from '../lib/types.ts';
import { ErrorText, Page, errorMessage } from './components.tsx';
import { OidcButtons } from './welcome.tsx';
import type { TextKey } from '../lib/i18n.ts';

export function LoginPage() {
  const t = useT();
  const { notice } = useAppState();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
    } catch (err) {
      setError(errorMessage(t, err));
      setBusy(false);
    }
  };
  return (
    <Page title={t('signInTitle')}>
      {notice && <p class="card notice" role="alert">{t(notice)}</p>}
      <p>{t('signInIntro')}</p>
      <OidcButtons />
      <form class="stack" onSubmit={(e) => void submit(e)}>
        <label for="email">{t('email')}</label>
        <input id="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="password">{t('password')}</label>
        <input id="password" type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} />
        {error && <ErrorText>{error}</ErrorText>}
        <button type="submit" class="primary" disabled={busy}>{busy ? t('signingIn') : t('signIn')}</button>
      </form>
    </Page>
  );
}

const PUSH_TEXT: Record<PushOutcome, TextKey> = {
  enabled: 'notificationsEnabled',
  denied: 'notificationsDenied',
  unsupported: 'notificationsUnsupported',
  server_missing: 'pushNotAvailable',
  failed: 'notificationsSubscribeFailed',
};

export function SetupPage() {
  const t = useT();
  const [outcome, setOutcome] = useState<PushOutcome | null>(permission() === 'denied' ? 'denied' : null);
  const iosTab = isIos() && !isStandalone();
  const done = () => {
    markSetupDone();
    navigate('/');
  };
  return (
    <Page title={t('setupTitle')}>
      <p>{t('setupWhy')}</p>
      {iosTab && (
        <section class="card notice" aria-labelledby="ios-title">
          <h2 id="ios-title">{t('setupIosTitle')}</h2>
          <p>{t('setupIos')}</p>
        </section>
      )}
      <p>{t('setupLimits')}</p>
      {!pushSupported() && !iosTab && <p class="card notice">{t('notificationsUnsupported')}</p>}
      {pushSupported() && outcome !== 'enabled' && outcome !== 'denied' && (
        <button type="button" class="primary" onClick={() => void enablePush().then(setOutcome)}>
          {outcome === 'failed' ? t('tryAgain') : t('enableNotifications')}
        </button>
      )}
      {outcome && <p role="status" class={outcome === 'enabled' ? 'ok' : 'card notice'}>{t(PUSH_TEXT[outcome])}</p>}
      <p>
        <button type="button" class={outcome === 'enabled' ? 'primary' : 'secondary'} onClick={done}>
          {outcome === 'enabled' ? t('continue') : t('skipForNow')}
        </button>
      </p>
    </Page>
  );
}

export function DevicePage() {
  const t = useT();
  const { connection } = useAppState();
  const [device, setDevice] = useState<MyDevice | null | 'missing'>(null);
  const [pushState, setPushState] = useState<PushOutcome | null>(null);
  const [testSent, setTestSent] = useState<string | null>(null);
  const load = () => api<MyDevice>('GET', '/me/device').then(setDevice, (err: unknown) => setDevice(isMissing(err) ? 'missing' : null));
  useEffect(() => {
    void load();
  }, [pushState]);
  const yesNo = (v: boolean | null) => (v === null ? t('unknown') : v ? `✔ ${t('yes')}` : `✘ ${t('no')}`);
  const server = device && device !== 'missing' ? device : null;
  return (
    <Page title={t('deviceTitle')}>
      <dl class="checks">
        <dt>{t('deviceSocket')}</dt><dd>{yesNo(connection === 'connected')}</dd>
        <dt>{t('deviceNotifications')}</dt><dd>{yesNo(permission() === 'unsupported' ? false : permission() === 'granted')}</dd>
        <dt>{t('devicePush')}</dt><dd>{yesNo(server ? server.pushSubscribed : null)}</dd>
        <dt>{t('deviceServerSays')}</dt><dd>{yesNo(server ? server.canReceiveAlarms : null)}</dd>
      </dl>
      {device === 'missing' && <p class="card notice">{t('pushNotAvailable')}</p>}
      {pushSupported() && permission() !== 'granted' && permission() !== 'denied' && (
        <button type="button" class="primary" onClick={() => void enablePush().then(setPushState)}>{t('enableNotifications')}</button>
      )}
      {server?.testPushFailed && <p class="card notice">{t('deviceTestPushFailed')}</p>}
      {/* Allowed, but this device is not registered for pushes (a failed subscription) or its test push failed: a way out. */}
      {pushSupported() && permission() === 'granted' && server && (!server.pushSubscribed || server.testPushFailed) && (
        <button type="button" class="primary" onClick={() => void subscribe({ renew: server.testPushFailed }).then(setPushState)}>{t('tryAgain')}</button>
      )}
      {permission() === 'denied' && <p class="card notice">{t('notificationsDenied')}</p>}
      {pushState && <p role="status">{t(PUSH_TEXT[pushState])}</p>}
      <p>
        <button type="button" class="secondary" onClick={() => void api('POST', '/me/device/test-push').then(
          () => setTestSent(t('testPushSent')),
          (err: unknown) => setTestSent(isMissing(err) ? t('pushNotAvailable') : errorMessage(t, err)),
        )}>{t('sendTestPush')}</button>
      </p>
      {testSent && <p role="status">{testSent}</p>}
    </Page>
  );
}
