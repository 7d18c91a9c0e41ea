import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { chooseSite, isOrgAdmin, reloadSites, useAdminSites, type AdminSite } from '../lib/admin.ts';
import { pick } from '../lib/i18n.ts';
import { navigate } from '../lib/router.ts';
import { isAdminAt, useAppState, useT } from '../lib/store.ts';
import type { AlarmType } from '../lib/types.ts';
import { BackToAdmin, SaveStatus } from './admin.tsx';
import { ErrorText, Page, errorMessage, link } from './components.tsx';

const SITE_KINDS = ['school', 'preschool', 'library', 'sports_hall', 'office', 'other'] as const;
type SiteKind = (typeof SITE_KINDS)[number];

/** The organisation admin's sites: each one's page, and a new one. */
export function SitesPage() {
  const t = useT();
  const { me } = useAppState();
  const { sites } = useAdminSites();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<SiteKind>('school');
  const [address, setAddress] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!me) return null;
  return (
    <Page title={t('sitesTitle')}>
      <BackToAdmin />
      {sites === null ? <p role="status">{t('loading')}</p> : (
        <ul class="list">
          {sites.map((s) => (
            <li key={s.id}>
              <a href={`/admin/sites/${s.id}`} onClick={link(`/admin/sites/${s.id}`)}>{s.name}</a> · {t(`kind_${s.kind as SiteKind}`)}{s.address && <> · {s.address}</>}
              {' '}<button type="button" class="link" onClick={() => {
                chooseSite(s.id);
                navigate('/admin');
              }}>{t('groups')}</button>
            </li>
          ))}
        </ul>
      )}
      <form class="stack card" onSubmit={(e) => {
        e.preventDefault();
        setStatus(null);
        setError(null);
        void api<AdminSite>('POST', `/organisations/${me.organisation.id}/sites`, { name: name.trim(), kind, address: address.trim() || null }).then((s) => {
          setName('');
          setAddress('');
          setStatus(t('personSaved', { name: s.name }));
          reloadSites();
        }, (err: unknown) => setError(errorMessage(t, err)));
      }}>
        <h2>{t('addSite')}</h2>
        <label for="s-name">{t('name')}</label>
        <input id="s-name" type="text" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="s-kind">{t('siteKind')}</label>
        <select id="s-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as SiteKind)}>
          {SITE_KINDS.map((k) => <option key={k} value={k}>{t(`kind_${k}`)}</option>)}
        </select>
        <label for="s-address">{t('address')}</label>
        <input id="s-address" type="text" maxLength={300} value={address} onInput={(e) => setAddress(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={!name.trim()}>{t('create')}</button>
        <SaveStatus status={status} error={error} />
      </form>
    </Page>
  );
}

interface SiteInstruction { alarmTypeId: string; instruction: { sv: string; en: string } }

/** One site: its address, building and floor notes, assembly point, and its own instruction per alarm type. */
export function SitePage({ id }: { id: string }) {
  const t = useT();
  const { me, lang } = useAppState();
  const [site, setSite] = useState<AdminSite | null>(null);
  const [fields, setFields] = useState({ name: '', address: '', buildingNotes: '', floorNotes: '', assemblyPoint: '' });
  const [types, setTypes] = useState<AlarmType[]>([]);
  const [texts, setTexts] = useState<Record<string, { sv: string; en: string }>>({});
  const [outcome, setOutcome] = useState<{ where: string; status: string | null; error: string | null } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const show = (s: AdminSite) => {
    setSite(s);
    setFields({ name: s.name, address: s.address ?? '', buildingNotes: s.buildingNotes ?? '', floorNotes: s.floorNotes ?? '', assemblyPoint: s.assemblyPoint ?? '' });
  };
  useEffect(() => {
    if (!me) return;
    void api<AdminSite>('GET', `/sites/${id}`).then(show, (e: unknown) => setLoadError(errorMessage(t, e)));
    void api<{ alarmTypes: AlarmType[] }>('GET', `/organisations/${me.organisation.id}/alarm-types`).then((r) => setTypes(r.alarmTypes.filter((a) => !a.archived)), () => undefined);
    void api<{ instructions: SiteInstruction[] }>('GET', `/sites/${id}/alarm-instructions`)
      .then((r) => setTexts(Object.fromEntries(r.instructions.map((i) => [i.alarmTypeId, i.instruction]))), () => undefined);
  }, [id, me?.organisation.id]);
  if (!me || !site) return <Page title={t('sitesTitle')}>{loadError ? <ErrorText>{loadError}</ErrorText> : <p role="status">{t('loading')}</p>}</Page>;
  const canEdit = isAdminAt(me, site.id);
  const field = (key: keyof typeof fields, label: string, rows = 0, max = 2000) => (
    <>
      <label for={`site-${key}`}>{label}</label>
      {rows > 0
        ? <textarea id={`site-${key}`} rows={rows} maxLength={max} disabled={!canEdit} value={fields[key]} onInput={(e) => setFields({ ...fields, [key]: e.currentTarget.value })} />
        : <input id={`site-${key}`} type="text" maxLength={max} disabled={!canEdit} value={fields[key]} onInput={(e) => setFields({ ...fields, [key]: e.currentTarget.value })} />}
    </>
  );
  const statusAt = (where: string) => (outcome?.where === where ? <SaveStatus status={outcome.status} error={outcome.error} /> : null);
  const none = (v: string) => v.trim() || null;
  return (
    <Page title={t('siteTitle', { site: site.name })}>
      <BackToAdmin />
      <form class="stack card" onSubmit={(e) => {
        e.preventDefault();
        setOutcome(null);
        void api<AdminSite>('PATCH', `/sites/${id}`, {
          name: fields.name.trim(), address: none(fields.address), buildingNotes: none(fields.buildingNotes),
          floorNotes: none(fields.floorNotes), assemblyPoint: none(fields.assemblyPoint),
        }).then((s) => {
          show(s);
          reloadSites();
          setOutcome({ where: 'details', status: t('savedSection', { section: t('siteDetails') }), error: null });
        }, (err: unknown) => setOutcome({ where: 'details', status: null, error: errorMessage(t, err) }));
      }}>
        <h2>{t('siteDetails')}</h2>
        {field('name', t('name'), 0, 200)}
        {field('address', t('address'), 0, 300)}
        {field('assemblyPoint', t('assemblyPoint'), 0, 500)}
        {field('buildingNotes', t('buildingNotes'), 3)}
        {field('floorNotes', t('floorNotes'), 3)}
        {canEdit && <button type="submit" class="primary">{t('save')}</button>}
        {statusAt('details')}
      </form>
      <section aria-labelledby="site-instructions">
        <h2 id="site-instructions">{t('siteInstructions')}</h2>
        <p class="help">{t('siteInstructionsHelp')}</p>
        {types.map((type) => {
          const text = texts[type.id] ?? { sv: '', en: '' };
          const change = (patch: Partial<{ sv: string; en: string }>) => setTexts({ ...texts, [type.id]: { ...text, ...patch } });
          return (
            <form key={type.id} class="stack card" onSubmit={(e) => {
              e.preventDefault();
              setOutcome(null);
              const request = text.sv.trim() && text.en.trim()
                ? api('PUT', `/sites/${id}/alarm-instructions/${type.id}`, { sv: text.sv.trim(), en: text.en.trim() })
                : api('DELETE', `/sites/${id}/alarm-instructions/${type.id}`);
              void request.then(
                () => setOutcome({ where: type.id, status: t('savedSection', { section: pick(lang, type.label) }), error: null }),
                (err: unknown) => setOutcome({ where: type.id, status: null, error: errorMessage(t, err) }),
              );
            }}>
              <h3>{pick(lang, type.label)}</h3>
              <p class="help">{t('typeInstruction', { text: pick(lang, type.instruction) })}</p>
              <label for={`i-sv-${type.id}`}>{t('instructionSv')}</label>
              <textarea id={`i-sv-${type.id}`} rows={2} maxLength={1000} disabled={!canEdit} value={text.sv} onInput={(e) => change({ sv: e.currentTarget.value })} />
              <label for={`i-en-${type.id}`}>{t('instructionEn')}</label>
              <textarea id={`i-en-${type.id}`} rows={2} maxLength={1000} disabled={!canEdit} value={text.en} onInput={(e) => change({ en: e.currentTarget.value })} />
              {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
              {statusAt(type.id)}
            </form>
          );
        })}
      </section>
    </Page>
  );
}

/**
 * The organisation's alarm types at a glance: built-in and its own, with their instructions and whether an
 * alarm goes by SMS to those without push; its own types' admins turn that on or off (a silent type with a
 * warning first: an SMS makes a sound).
 */
export function AlarmTypesPage() {
  const t = useT();
  const { me, lang } = useAppState();
  const [types, setTypes] = useState<AlarmType[] | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    if (me) void api<{ alarmTypes: AlarmType[] }>('GET', `/organisations/${me.organisation.id}/alarm-types?includeArchived=true`).then((r) => setTypes(r.alarmTypes), () => setTypes([]));
  };
  useEffect(load, [me?.organisation.id]);
  const setSms = (type: AlarmType, on: boolean) => {
    setConfirming(null);
    setStatus(null);
    setError(null);
    void api<AlarmType>('PATCH', `/alarm-types/${type.id}`, { delivery: { smsWhenNoPush: on } }).then((changed) => {
      setStatus(`${pick(lang, changed.label)}: ${t(changed.delivery.smsWhenNoPush ? 'smsWhenNoPushOn' : 'smsWhenNoPushOff')}`);
      load();
    }, (e: unknown) => setError(errorMessage(t, e)));
  };
  return (
    <Page title={t('alarmTypesTitle')}>
      <BackToAdmin />
      <SaveStatus status={status} error={error} />
      {types === null ? <p role="status">{t('loading')}</p> : (
        <ul class="list">
          {types.map((type) => (
            <li key={type.id}>
              <span class="swatch" style={{ background: type.colour }} aria-hidden="true" />{' '}
              <strong>{pick(lang, type.label)}</strong> · {type.builtIn ? t('builtIn') : t('custom')} · {t(type.sound === 'silent' ? 'silent' : 'loud')}
              {' '}· {t(type.delivery.smsWhenNoPush ? 'smsWhenNoPushOn' : 'smsWhenNoPushOff')}
              {!type.builtIn && isOrgAdmin(me) && (
                <> <button type="button" class="link" onClick={() => {
                  if (!type.delivery.smsWhenNoPush && type.sound === 'silent') setConfirming(type.id);
                  else setSms(type, !type.delivery.smsWhenNoPush);
                }}>{t(type.delivery.smsWhenNoPush ? 'smsWhenNoPushTurnOff' : 'smsWhenNoPushTurnOn')}</button></>
              )}
              <br />{pick(lang, type.instruction)}
              {confirming === type.id && (
                <div class="card danger" role="alertdialog" aria-labelledby={`sms-q-${type.id}`}>
                  <p id={`sms-q-${type.id}`}>{t('smsWhenNoPushSilentWarning')}</p>
                  <div class="row">
                    <button type="button" class="primary" onClick={() => setSms(type, true)}>{t('smsWhenNoPushConfirm')}</button>
                    <button type="button" class="secondary" onClick={() => setConfirming(null)}>{t('cancel')}</button>
                  </div>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

interface SignInSettings {
  passwordSignIn: boolean;
  oidc: { enabled: boolean; issuer: string | null; clientId: string | null; clientSecretSet: boolean; createAccounts: boolean };
  redirectUri: string | null;
}

/** How the organisation signs in: passwords, and its own OpenID provider. */
export function SignInSettingsPage() {
  const t = useT();
  const { me } = useAppState();
  const [settings, setSettings] = useState<SignInSettings | null>(null);
  const [secret, setSecret] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (me) void api<SignInSettings>('GET', `/organisations/${me.organisation.id}/sign-in`).then(setSettings, (e: unknown) => setError(errorMessage(t, e)));
  }, [me?.organisation.id]);
  if (!me) return null;
  if (!settings) return <Page title={t('signInSettings')}>{error ? <ErrorText>{error}</ErrorText> : <p role="status">{t('loading')}</p>}</Page>;
  const oidc = settings.oidc;
  const setOidc = (patch: Partial<SignInSettings['oidc']>) => setSettings({ ...settings, oidc: { ...oidc, ...patch } });
  return (
    <Page title={t('signInSettingsTitle', { org: me.organisation.name })}>
      <BackToAdmin />
      <form class="stack card" onSubmit={(e) => {
        e.preventDefault();
        setStatus(null);
        setError(null);
        void api<SignInSettings>('PUT', `/organisations/${me.organisation.id}/sign-in`, {
          passwordSignIn: settings.passwordSignIn,
          oidc: {
            enabled: oidc.enabled, issuer: oidc.issuer?.trim() || null, clientId: oidc.clientId?.trim() || null, createAccounts: oidc.createAccounts,
            ...(secret ? { clientSecret: secret } : {}),
          },
        }).then((s) => {
          setSettings(s);
          setSecret('');
          setStatus(t('savedSection', { section: t('signInSettings') }));
        }, (err: unknown) => setError(errorMessage(t, err)));
      }}>
        <p class="check">
          <input id="si-password" type="checkbox" checked={settings.passwordSignIn} onChange={(e) => setSettings({ ...settings, passwordSignIn: e.currentTarget.checked })} />
          <label for="si-password">{t('passwordSignIn')}</label>
        </p>
        <p class="check">
          <input id="si-oidc" type="checkbox" checked={oidc.enabled} onChange={(e) => setOidc({ enabled: e.currentTarget.checked })} />
          <label for="si-oidc">{t('oidcEnabled')}</label>
        </p>
        <label for="si-issuer">{t('oidcIssuer')}</label>
        <input id="si-issuer" type="url" maxLength={500} value={oidc.issuer ?? ''} onInput={(e) => setOidc({ issuer: e.currentTarget.value })} />
        <label for="si-client">{t('oidcClientId')}</label>
        <input id="si-client" type="text" maxLength={255} autocomplete="off" value={oidc.clientId ?? ''} onInput={(e) => setOidc({ clientId: e.currentTarget.value })} />
        <label for="si-secret">{t('oidcClientSecret')}</label>
        <input id="si-secret" type="password" autocomplete="new-password" maxLength={1000} value={secret} onInput={(e) => setSecret(e.currentTarget.value)}
          aria-describedby={oidc.clientSecretSet ? 'si-secret-set' : undefined} />
        {oidc.clientSecretSet && <p id="si-secret-set" class="help">{t('oidcSecretSet')}</p>}
        <p class="check">
          <input id="si-create" type="checkbox" checked={oidc.createAccounts} onChange={(e) => setOidc({ createAccounts: e.currentTarget.checked })} />
          <label for="si-create">{t('oidcCreateAccounts')}</label>
        </p>
        <p class="help">{settings.redirectUri ? t('oidcRedirect', { uri: settings.redirectUri }) : t('oidcNoPublicUrl')}</p>
        <button type="submit" class="primary">{t('save')}</button>
        <SaveStatus status={status} error={error} />
      </form>
    </Page>
  );
}
