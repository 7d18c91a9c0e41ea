import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './lib/api.ts';
import { unlockAudio } from './lib/alert.ts';
import { signOut, startSession } from './lib/auth.ts';
import { registerServiceWorker } from './lib/push.ts';
import { match, navigate, usePath } from './lib/router.ts';
import { storedToken } from './lib/session.ts';
import { pick } from './lib/i18n.ts';
import { realtime } from './lib/realtime.ts';
import { isAdminAt, setState, useAppState, useT } from './lib/store.ts';
import { AdminPage, AuditPage, DeviceHealthPage, GroupPage } from './ui/admin.tsx';
import { AlarmPage } from './ui/alarm.tsx';
import { InstructionBanner, link } from './ui/components.tsx';
import { HomePage } from './ui/home.tsx';
import { LinksPage, ProposeLinkPage, mayViewLinks } from './ui/links.tsx';
import { DevicePage, LoginPage, SetupPage } from './ui/onboarding.tsx';
import { RollCallPage } from './ui/rollcall.tsx';
import './styles.css';

function Header() {
  const t = useT();
  const { me, connection, lang } = useAppState();
  const admin = me?.sites.some((s) => isAdminAt(me, s.id)) ?? false;
  return (
    <header class="top">
      <a class="brand" href="/" onClick={link('/')}>Samlarm</a>
      {me && (
        <span class={`conn ${connection}`} role="status">
          <span aria-hidden="true">{connection === 'connected' ? '●' : '○'} </span>
          {connection === 'connected' ? t('connected') : connection === 'connecting' ? t('connecting') : t('offline')}
        </span>
      )}
      <nav aria-label="Samlarm">
        {me && <a href="/device" onClick={link('/device')}>{t('deviceCheck')}</a>}
        {admin && <a href="/admin" onClick={link('/admin')}>{t('admin')}</a>}
        {mayViewLinks(me) && <a href="/admin/links" onClick={link('/admin/links')}>{t('links')}</a>}
        <button type="button" class="link" lang={lang === 'sv' ? 'en' : 'sv'} onClick={() => setState({ lang: lang === 'sv' ? 'en' : 'sv' })}>
          {t('switchTo')}
        </button>
        {me && <button type="button" class="link" onClick={() => void signOut()}>{t('signOut')}</button>}
      </nav>
    </header>
  );
}

function Banners() {
  const t = useT();
  const { instructions, incidents, me, lang } = useAppState();
  const path = usePath();
  if (path.startsWith('/alarm/')) return null;
  const active = Object.values(instructions).filter((i) => i !== null);
  const many = (me?.sites.length ?? 0) > 1;
  // All clear reaches every page: the home page lists ended alarms itself, every other page says it here.
  // The two newest, on one line each: older ones are on the home page until closed.
  const ended = path === '/' ? [] : Object.values(incidents).filter((v) => v.incident.state !== 'active')
    .sort((a, b) => b.incident.raisedAt.localeCompare(a.incident.raisedAt)).slice(0, 2);
  return (
    <>
      {active.map((i) => (
        <InstructionBanner key={i.siteId} instruction={i} siteName={many ? me?.sites.find((s) => s.id === i.siteId)?.name : undefined} />
      ))}
      {ended.map(({ incident }) => (
        <section key={incident.id} class="banner ended" role="status">
          <p>
            <strong>
              <span aria-hidden="true">✔ </span>
              {t('allClearFor', {
                state: incident.state === 'resolved' ? t('allClear') : t('cancelled'),
                label: `${incident.drill ? `${t('drillBanner')} ` : ''}${pick(lang, incident.type.label)}`,
              })}
            </strong>
          </p>
          <a href={`/alarm/${incident.id}`} onClick={link(`/alarm/${incident.id}`)} style={{ color: 'inherit' }}>{t('open')}</a>
          <button type="button" class="link" onClick={() => realtime.dismiss(incident.id)}>{t('close')}</button>
        </section>
      ))}
    </>
  );
}

function Routes() {
  const path = usePath();
  const t = useT();
  const { me } = useAppState();
  if (!me) return <LoginPage />;
  let m: Record<string, string> | null;
  if (path === '/' || path === '/login') return <HomePage />;
  if (path === '/setup') return <SetupPage />;
  if (path === '/device') return <DevicePage />;
  if ((m = match('/alarm/:id', path))) return <AlarmPage id={m.id ?? ''} />;
  if ((m = match('/incidents/:id/rollcall', path))) return <RollCallPage id={m.id ?? ''} />;
  if (path === '/admin') return <AdminPage />;
  if (path === '/admin/audit') return <AuditPage />;
  if (path === '/admin/devices') return <DeviceHealthPage />;
  if (path === '/admin/links') return <LinksPage />;
  if (path === '/admin/links/new') return <ProposeLinkPage />;
  if ((m = match('/admin/groups/:id', path))) return <GroupPage id={m.id ?? ''} />;
  return <main id="main"><h1>{t('notFound')}</h1></main>;
}

function App() {
  const t = useT();
  const [ready, setReady] = useState(storedToken() === null);
  /** Failed starts in a row (0: none yet). */
  const [unreachable, setUnreachable] = useState(0);
  useEffect(() => {
    if (ready) return;
    // Signed in but the server cannot answer yet (offline, a restart, the database down): keep the
    // token and keep trying. Showing the sign-in page would leave a signed-in device deaf.
    let timer: number | undefined;
    let attempt = 0;
    const start = (): void => {
      if (!storedToken()) {
        setReady(true);
        return;
      }
      startSession().then(
        () => setReady(true),
        (err: unknown) => {
          // Signed out meanwhile (from this screen), or a refusal: nothing to wait for.
          if (!storedToken() || (err instanceof ApiError && err.status < 500 && err.status !== 429)) {
            setReady(true);
            return;
          }
          attempt += 1;
          setUnreachable(attempt);
          timer = window.setTimeout(start, Math.min(1000 * 2 ** attempt, 15_000));
        },
      );
    };
    start();
    return () => window.clearTimeout(timer);
  }, []);
  useEffect(() => {
    if (ready && !storedToken() && location.pathname !== '/login') navigate('/login', { replace: true });
  }, [ready]);
  return (
    <>
      <a class="skip" href="#main">{t('skipToContent')}</a>
      <Header />
      <Banners />
      {ready ? <Routes /> : (
        <main id="main">
          {unreachable > 0 ? (
            <div class="card danger" role="alert">
              <p><strong>{t('unreachable')}</strong></p>
              <p class="big"><a href="tel:112">{t('call112')}</a></p>
              {/* A server that keeps failing for this one person must not lock the device: it can sign in again. */}
              {unreachable >= 3 && <button type="button" class="secondary" onClick={() => void signOut().then(() => setReady(true))}>{t('signOut')}</button>}
            </div>
          ) : <p role="status">{t('loading')}</p>}
        </main>
      )}
    </>
  );
}

document.documentElement.lang = localStorage.getItem('samlarm.lang') === 'en' ? 'en' : 'sv';
window.addEventListener('pointerdown', unlockAudio, { capture: true });
window.addEventListener('keydown', unlockAudio, { capture: true });
void registerServiceWorker();
const root = document.getElementById('app');
if (root) render(<App />, root);
