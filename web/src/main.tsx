import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { isTransient } from './lib/errors.ts';
import { prepareAudio, unlockAudio } from './lib/alert.ts';
import { signOut, startSession } from './lib/auth.ts';
import { registerServiceWorker } from './lib/push.ts';
import { match, navigate, usePath } from './lib/router.ts';
import { resumePresses } from './lib/raise.ts';
import { storedToken } from './lib/session.ts';
import { pick } from './lib/i18n.ts';
import { realtime } from './lib/realtime/client.ts';
import { isAdminAt, setState, useAppState, useT } from './lib/store.ts';
import { AdminPage, AuditPage, DeviceHealthPage, GroupPage } from './ui/admin.tsx';
import { ImportPage, PeoplePage, PersonPage } from './ui/admin-people.tsx';
import { AlarmTypesPage, SignInSettingsPage, SitePage, SitesPage } from './ui/admin-sites.tsx';
import { AccountPage } from './ui/account.tsx';
import { SiteSwitcher } from './ui/site-switcher.tsx';
import { OidcFinishPage, WelcomePage } from './ui/welcome.tsx';
import { isOrgAdmin } from './lib/admin.ts';
import { AlarmPage } from './ui/alarm.tsx';
import { InstructionBanner, SiteInstructionCard, endedLine, link, liveSites, shownSiteInstructions } from './ui/components.tsx';
import { PressDock } from './ui/press.tsx';
import { HomePage } from './ui/home.tsx';
import { MyDataPage } from './ui/my-data.tsx';
import { LinksPage, ProposeLinkPage, mayViewLinks } from './ui/links.tsx';
import { DevicePage, LoginPage, SetupPage } from './ui/onboarding.tsx';
import { RollCallPage } from './ui/rollcall.tsx';
import { ReviewPage, StatisticsPage, readsReviews } from './ui/review-link.tsx';
import './styles.css';

function Header() {
  const t = useT();
  const { me, connection, lang } = useAppState();
  const path = usePath();
  const menu = useRef<HTMLDetailsElement>(null);
  // Organisation admins work at no site of their own, but administer them all.
  const admin = (me?.sites.some((s) => isAdminAt(me, s.id)) ?? false) || isOrgAdmin(me);
  // The menu closes once a page is chosen.
  useEffect(() => {
    if (menu.current) menu.current.open = false;
  }, [path]);
  return (
    <header class="top">
      <a class="brand" href="/" onClick={link('/')}>Samlarm</a>
      {me && (
        <span class={`conn ${connection}`} role="status">
          <span aria-hidden="true">{connection === 'connected' ? '●' : '○'} </span>
          {connection === 'connected' ? t('connected') : connection === 'connecting' ? t('connecting') : t('offline')}
        </span>
      )}
      {/* Everything but the alarm in a menu: on a small phone, at large text, the alarm buttons come first. */}
      <details class="menu" ref={menu}>
        <summary>{t('menu')}</summary>
        <nav aria-label={t('menu')}>
          {me && <a href="/device" onClick={link('/device')}>{t('deviceCheck')}</a>}
          {me && <a href="/me/data" onClick={link('/me/data')}>{t('myData')}</a>}
          {me && <a href="/account" onClick={link('/account')}>{t('account')}</a>}
          {admin && <a href="/admin" onClick={link('/admin')}>{t('admin')}</a>}
          {admin && <SiteSwitcher />}
          {mayViewLinks(me) && <a href="/admin/links" onClick={link('/admin/links')}>{t('links')}</a>}
          {readsReviews(me) && <a href="/statistics" onClick={link('/statistics')}>{t('statisticsTitle')}</a>}
          <button type="button" class="link" lang={lang === 'sv' ? 'en' : 'sv'} onClick={() => setState({ lang: lang === 'sv' ? 'en' : 'sv' })}>
            {t('switchTo')}
          </button>
          {me && <button type="button" class="link" onClick={() => void signOut()}>{t('signOut')}</button>}
        </nav>
      </details>
    </header>
  );
}

/** After a reload the browser plays no sound until the screen is touched: the app asks for that one touch. */
function SoundBar() {
  const t = useT();
  const { me, soundReady } = useAppState();
  const path = usePath();
  // The alarm screen asks in its own words, where the alarm is.
  if (!me || soundReady || path.startsWith('/alarm/')) return null;
  return (
    <button type="button" class="sound-bar" onClick={unlockAudio}>
      <span aria-hidden="true">🔇 </span>{t('soundLocked')} <strong>{t('soundUnlock')}</strong>
    </button>
  );
}

/** A lead's new instruction, wherever the person is: on top, until they open it. */
function FreshInstructions() {
  const t = useT();
  const { incidents, lang } = useAppState();
  const path = usePath();
  const fresh = Object.values(incidents).filter((v) => v.freshMessage !== null && v.incident.state === 'active' && path !== `/alarm/${v.incident.id}`);
  if (fresh.length === 0) return null;
  return (
    <div class="fresh-bar">
      {fresh.map((v) => {
        const message = v.messages.find((m) => m.key === v.freshMessage);
        return (
          <section key={v.incident.id} class="fresh" aria-label={t('newInstruction')} data-incident={v.incident.id}>
            <p>
              <span class="new-tag">{t('newInstruction')}</span>{' '}
              <strong>{pick(lang, v.incident.type.label)}:</strong> {message?.body}
            </p>
            <a href={`/alarm/${v.incident.id}`} onClick={link(`/alarm/${v.incident.id}`)}>{t('show')}</a>
          </section>
        );
      })}
    </div>
  );
}

function Banners() {
  const t = useT();
  const { instructions, incidents, me, lang, siteInstructions } = useAppState();
  const path = usePath();
  if (path.startsWith('/alarm/')) return null;
  const atWork = shownSiteInstructions(siteInstructions, incidents, instructions);
  const active = Object.values(instructions).filter((i) => i !== null);
  const many = (me?.sites.length ?? 0) > 1;
  // All clear reaches every page: the home page lists ended alarms itself, every other page says it here.
  // The two newest, on one line each: older ones are on the home page until closed. Never for a site
  // where an alarm is still active: that is not "all clear".
  const live = liveSites(instructions);
  const ended = path === '/' ? [] : Object.values(incidents).filter((v) => v.incident.state !== 'active' && !live.has(v.incident.siteId))
    .sort((a, b) => b.incident.raisedAt.localeCompare(a.incident.raisedAt)).slice(0, 2);
  return (
    <>
      {atWork.map((n) => <SiteInstructionCard key={n.siteId} notice={n} />)}
      {active.map((i) => (
        <InstructionBanner key={i.siteId} instruction={i} siteName={many ? me?.sites.find((s) => s.id === i.siteId)?.name : undefined} />
      ))}
      {ended.map(({ incident }) => (
        <section key={incident.id} class="banner ended" role="status">
          <p>
            <strong>
              <span aria-hidden="true">{incident.state === 'resolved' ? '✔' : '✕'} </span>
              {t('allClearFor', {
                state: incident.state === 'resolved' ? t('allClear') : t('cancelled'),
                label: `${incident.drill ? `${t('drillBanner')} ` : ''}${pick(lang, incident.type.label)}`,
              })}
            </strong>{' '}{endedLine(t, lang, incident)}
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
  // One-time links and the end of the organisation's sign-in work signed out (and sign in someone new).
  if (path === '/welcome') return <WelcomePage />;
  if (path === '/login/oidc') return <OidcFinishPage />;
  if (!me) return <LoginPage />;
  let m: Record<string, string> | null;
  if (path === '/' || path === '/login') return <HomePage />;
  if (path === '/setup') return <SetupPage />;
  if (path === '/device') return <DevicePage />;
  if (path === '/me/data') return <MyDataPage />;
  if ((m = match('/alarm/:id', path))) return <AlarmPage id={m.id ?? ''} />;
  if ((m = match('/incidents/:id/rollcall', path))) return <RollCallPage id={m.id ?? ''} />;
  if ((m = match('/incidents/:id/review', path))) return <ReviewPage id={m.id ?? ''} />;
  if (path === '/statistics') return <StatisticsPage />;
  if (path === '/admin') return <AdminPage />;
  if (path === '/admin/audit') return <AuditPage />;
  if (path === '/admin/devices') return <DeviceHealthPage />;
  if (path === '/admin/links') return <LinksPage />;
  if (path === '/admin/links/new') return <ProposeLinkPage />;
  if ((m = match('/admin/groups/:id', path))) return <GroupPage id={m.id ?? ''} />;
  if (path === '/admin/people') return <PeoplePage />;
  if ((m = match('/admin/people/:id', path))) return <PersonPage key={m.id} id={m.id ?? ''} />;
  if (path === '/admin/import') return <ImportPage />;
  if (path === '/admin/sites') return <SitesPage />;
  if ((m = match('/admin/sites/:id', path))) return <SitePage key={m.id} id={m.id ?? ''} />;
  if (path === '/admin/alarm-types') return <AlarmTypesPage />;
  if (path === '/admin/sign-in') return <SignInSettingsPage />;
  if (path === '/account') return <AccountPage />;
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
          if (!storedToken() || !isTransient(err)) {
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
    if (ready && !storedToken() && !['/login', '/welcome', '/login/oidc'].includes(location.pathname)) navigate('/login', { replace: true });
  }, [ready]);
  return (
    <>
      <a class="skip" href="#main">{t('skipToContent')}</a>
      <Header />
      <FreshInstructions />
      <SoundBar />
      <Banners />
      {ready ? <Routes /> : (
        <main id="main">
          {unreachable > 0 ? (
            <div class="card danger" role="alert">
              <p><strong>{t('unreachable')}</strong></p>
              <p class="big"><a href="tel:112">{t('emergency112')}</a></p>
              {/* A server that keeps failing for this one person must not lock the device: it can sign in again. */}
              {unreachable >= 3 && <button type="button" class="secondary" onClick={() => void signOut().then(() => setReady(true))}>{t('signOut')}</button>}
            </div>
          ) : <p role="status">{t('loading')}</p>}
        </main>
      )}
      <PressDock />
    </>
  );
}

document.documentElement.lang = localStorage.getItem('samlarm.lang') === 'en' ? 'en' : 'sv';
prepareAudio();
window.addEventListener('pointerdown', unlockAudio, { capture: true });
window.addEventListener('keydown', unlockAudio, { capture: true });
void registerServiceWorker();
// Presses a reload or a closed app left unsent go now, or are put to the person: even before the server
// answers who is signed in (it may be the very outage that kept them from being sent).
if (storedToken()) void resumePresses();
const root = document.getElementById('app');
if (root) render(<App />, root);
