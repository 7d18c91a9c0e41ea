import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';

import { finishSignIn } from '../lib/sign-in-links.ts';
import type { TextKey } from '../lib/i18n.ts';
import { setState, useAppState, useT } from '../lib/store.ts';
import type { Lang } from '../lib/types.ts';
import { ErrorText, Page, errorMessage } from './components.tsx';

interface LinkInfo { purpose: 'invite' | 'reset'; name: string; email: string; language: Lang; organisationName: string; passwordSignIn: boolean }

/** The token of a one-time link or a sign-in handoff: in the fragment, which never reaches a server or a log. */
const fromFragment = (name: string): string => new URLSearchParams(location.hash.slice(1)).get(name) ?? '';

/** A one-time invitation or reset link: who it is for, then a password, then this device is signed in. */
export function WelcomePage() {
  const t = useT();
  const [token] = useState(() => fromFragment('token'));
  const [info, setInfo] = useState<LinkInfo | null>(null);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    // The token leaves the address bar at once: nothing later (a screenshot, the history) shows it.
    history.replaceState(null, '', '/welcome');
    void api<LinkInfo>('POST', '/access-links/inspect', { token }, { auth: false }).then((i) => {
      setInfo(i);
      setState({ lang: i.language });
    }, (err: unknown) => setError(errorMessage(t, err)));
  }, []);
  const title = info?.purpose === 'reset' ? t('resetTitle') : t('welcomeTitle');
  return (
    <Page title={title}>
      {error && <ErrorText>{error}</ErrorText>}
      {info && (
        <>
          <p>{t('welcomeFor', { name: info.name, email: info.email, org: info.organisationName })}</p>
          {!info.passwordSignIn ? <p class="card notice">{t('welcomeUseOrgSignIn')}</p> : (
            <form class="stack" onSubmit={(e) => {
              e.preventDefault();
              if (password !== repeat) {
                setError(t('passwordsDiffer'));
                return;
              }
              setBusy(true);
              setError(null);
              void api<{ token: string }>('POST', '/access-links/redeem', {
                token, password, kind: 'device', label: `Samlarm web app (${navigator.platform || 'browser'})`,
              }, { auth: false }).then((r) => finishSignIn(r.token), (err: unknown) => {
                setError(errorMessage(t, err));
                setBusy(false);
              });
            }}>
              <input type="text" autocomplete="username" value={info.email} readOnly hidden />
              <label for="w-password">{t('choosePassword')}</label>
              <input id="w-password" type="password" autocomplete="new-password" required minLength={10} maxLength={1024} value={password}
                onInput={(e) => setPassword(e.currentTarget.value)} />
              <label for="w-repeat">{t('repeatPassword')}</label>
              <input id="w-repeat" type="password" autocomplete="new-password" required minLength={10} maxLength={1024} value={repeat}
                onInput={(e) => setRepeat(e.currentTarget.value)} />
              <button type="submit" class="primary" disabled={busy}>{busy ? t('signingIn') : t('setPasswordAndSignIn')}</button>
            </form>
          )}
        </>
      )}
    </Page>
  );
}

/** After the organisation's provider: the handoff in the fragment becomes this device's session. */
export function OidcFinishPage() {
  const t = useT();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const handoff = fromFragment('handoff');
    history.replaceState(null, '', '/login/oidc');
    void api<{ token: string }>('POST', '/auth/oidc/complete', { handoff, label: `Samlarm web app (${navigator.platform || 'browser'})` }, { auth: false })
      .then((r) => finishSignIn(r.token), (err: unknown) => setError(oidcErrorText(t, err)));
  }, []);
  return (
    <Page title={t('signInTitle')}>
      {error ? <ErrorText>{error}</ErrorText> : <p role="status">{t('finishingSignIn')}</p>}
    </Page>
  );
}

const OIDC_CODES = new Set(['oidc_not_configured', 'oidc_state_invalid', 'oidc_nonce_mismatch', 'oidc_failed', 'oidc_provider_unavailable',
  'oidc_no_account', 'oidc_other_organisation', 'oidc_subject_mismatch', 'account_deactivated']);

/** A refused sign-in with the organisation's account, in the UI's language. */
export function oidcErrorText(t: ReturnType<typeof useT>, err: unknown): string {
  const code = typeof err === 'string' ? err : (err as { code?: string } | null)?.code ?? '';
  if (OIDC_CODES.has(code)) return t('errOidc', { reason: t(code as TextKey) });
  return typeof err === 'string' ? t('errOidc', { reason: code }) : errorMessage(t, err);
}

/** The sign-in page's buttons for organisations with their own sign-in, and why the last one failed. */
export function OidcButtons() {
  const t = useT();
  useAppState();
  const [providers, setProviders] = useState<{ organisationId: string; name: string }[]>([]);
  const [error] = useState(() => new URLSearchParams(location.search).get('oidcError'));
  useEffect(() => {
    void api<{ providers: { organisationId: string; name: string }[] }>('GET', '/auth/oidc/providers', undefined, { auth: false })
      .then((r) => setProviders(r.providers), () => undefined);
  }, []);
  return (
    <>
      {error && <p class="error" role="alert" data-code={error}>{oidcErrorText(t, error)}</p>}
      {providers.length > 0 && (
        <div class="stack oidc">
          {providers.map((p) => (
            <a key={p.organisationId} class="button primary" href={`/api/v1/auth/oidc/${p.organisationId}/start?kind=device`}>
              {t('signInWith', { org: p.name })}
            </a>
          ))}
          <p class="help">{t('orSignInWithPassword')}</p>
        </div>
      )}
    </>
  );
}
