import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { absolute, isOrgAdmin, postCsv, useAdminSites, type AdminSite } from '../lib/admin.ts';
import { formatDateTime, type TextKey } from '../lib/i18n.ts';
import { navigate } from '../lib/router.ts';
import { isAdminAt, useAppState, useT } from '../lib/store.ts';
import type { Lang, Person, RoleGrant } from '../lib/types.ts';
import { BackToAdmin, SaveStatus } from './admin.tsx';
import { ErrorText, Page, errorMessage, link } from './components.tsx';

type T = ReturnType<typeof useT>;

function roleText(t: T, grant: RoleGrant, sites: AdminSite[]): string {
  const role = t(`role_${grant.role}` as TextKey);
  if (grant.role !== 'site_admin' && grant.role !== 'crisis_lead') return role;
  const site = grant.siteId ? sites.find((s) => s.id === grant.siteId)?.name ?? '' : null;
  return site === null ? t('roleEverywhere', { role }) : t('roleAt', { role, site });
}

/** The staff of the caller's sites (rektor) or organisation (organisation admin), searched on the server. */
export function PeoplePage() {
  const t = useT();
  const { me } = useAppState();
  const { sites } = useAdminSites();
  const [siteId, setSiteId] = useState('');
  const [q, setQ] = useState('');
  const [people, setPeople] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!me) return;
    const params = new URLSearchParams();
    if (siteId) params.set('siteId', siteId);
    if (q.trim()) params.set('q', q.trim());
    // A short pause while typing: one search per word, not per key.
    const timer = window.setTimeout(() => {
      void api<{ people: Person[] }>('GET', `/organisations/${me.organisation.id}/people?${params.toString()}`)
        .then((r) => setPeople(r.people), (e: unknown) => setError(errorMessage(t, e)));
    }, q ? 250 : 0);
    return () => window.clearTimeout(timer);
  }, [me?.organisation.id, siteId, q]);
  if (!me) return null;
  const managed = (sites ?? []).filter((s) => isAdminAt(me, s.id));
  const siteNames = (ids: string[]) => ids.map((id) => sites?.find((s) => s.id === id)?.name).filter(Boolean).join(', ');
  return (
    <Page title={t('peopleTitle', { scope: isOrgAdmin(me) ? me.organisation.name : managed.map((s) => s.name).join(', ') })}>
      <BackToAdmin />
      <div class="row">
        <a class="button primary" href="/admin/people/new" onClick={link('/admin/people/new')}>{t('addPerson')}</a>
        <a class="button secondary" href="/admin/import" onClick={link('/admin/import')}>{t('importPeople')}</a>
      </div>
      <div class="stack card" role="search">
        <label for="p-search">{t('searchPeople')}</label>
        <input id="p-search" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <label for="p-site">{t('chooseSite')}</label>
        <select id="p-site" value={siteId} onChange={(e) => setSiteId(e.currentTarget.value)}>
          <option value="">{t('allSites')}</option>
          {managed.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
      </div>
      {error && <ErrorText>{error}</ErrorText>}
      {people === null ? <p role="status">{t('loading')}</p> : people.length === 0 ? <p role="status">{t('noPeopleFound')}</p> : (
        <table class="staff">
          <caption class="sr-only">{t('people')}</caption>
          <thead><tr><th scope="col">{t('name')}</th><th scope="col">{t('phone')}</th></tr></thead>
          <tbody>
            {people.map((p) => (
              <tr key={p.id} data-person={p.email} class={p.active ? '' : 'inactive'}>
                <th scope="row">
                  <a href={`/admin/people/${p.id}`} onClick={link(`/admin/people/${p.id}`)}>{p.name}</a>
                  {!p.active && <> · <strong>{t('inactive')}</strong></>}
                  <br /><span class="help">{p.email}</span>
                  <br /><span class="help">{[siteNames(p.siteIds), p.roles.map((r) => roleText(t, r, sites ?? [])).join(', ')].filter(Boolean).join(' · ')}</span>
                </th>
                <td>{p.phone ? <a href={`tel:${p.phone.replace(/[^+0-9]/g, '')}`}>{p.phone}</a> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

const sameGrant = (a: RoleGrant, b: RoleGrant) => a.role === b.role && a.siteId === b.siteId;

/** Add or edit a person: details, sites and roles within what the caller may grant, deactivation, links. */
export function PersonPage({ id }: { id: string }) {
  const t = useT();
  const { me, lang } = useAppState();
  const { sites } = useAdminSites();
  const isNew = id === 'new';
  const [person, setPerson] = useState<Person | null>(null);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [phone, setPhone] = useState('');
  const [language, setLanguage] = useState<Lang>('sv');
  const [siteIds, setSiteIds] = useState<Set<string>>(new Set());
  const [roles, setRoles] = useState<RoleGrant[]>([{ role: 'staff', siteId: null }]);
  const [status, setStatus] = useState<string | null>(location.search.includes('created=1') ? 'created' : null);
  const [error, setError] = useState<string | null>(null);
  const [confirmOff, setConfirmOff] = useState(false);
  const [link_, setLink] = useState<{ url: string; expiresAt: string; emailed: boolean } | null>(null);
  const [linkError, setLinkError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const linkInput = useRef<HTMLInputElement>(null);

  const show = (p: Person) => {
    setPerson(p);
    setName(p.name);
    setEmail(p.email);
    setPhone(p.phone ?? '');
    setLanguage(p.language);
    setSiteIds(new Set(p.siteIds));
    setRoles(p.roles);
  };
  useEffect(() => {
    if (!isNew) void api<Person>('GET', `/people/${id}`).then(show, (e: unknown) => setError(errorMessage(t, e)));
  }, [id]);
  useEffect(() => {
    if (link_) linkInput.current?.focus();
  }, [link_]);
  if (!me || sites === null) return <Page title={t('people')}><p role="status">{t('loading')}</p></Page>;
  if (!isNew && !person) return <Page title={t('people')}>{error ? <ErrorText>{error}</ErrorText> : <p role="status">{t('loading')}</p>}</Page>;

  const org = isOrgAdmin(me);
  const managed = sites.filter((s) => isAdminAt(me, s.id));
  const hasRole = (g: RoleGrant) => roles.some((r) => sameGrant(r, g));
  const toggleRole = (g: RoleGrant, on: boolean) => setRoles(on ? [...roles.filter((r) => !sameGrant(r, g)), g] : roles.filter((r) => !sameGrant(r, g)));
  const grantable: { grant: RoleGrant; label: string }[] = [
    { grant: { role: 'staff', siteId: null }, label: t('role_staff') },
    ...managed.map((s) => ({ grant: { role: 'crisis_lead', siteId: s.id }, label: t('crisisLeadAt', { site: s.name }) })),
    ...(org ? [
      ...managed.map((s) => ({ grant: { role: 'site_admin', siteId: s.id }, label: t('siteAdminAt', { site: s.name }) })),
      { grant: { role: 'crisis_lead', siteId: null }, label: t('roleEverywhere', { role: t('role_crisis_lead') }) },
      { grant: { role: 'org_admin', siteId: null }, label: t('orgAdminRole') },
    ] : []),
  ];
  const title = isNew ? t('newPersonTitle') : t('editPersonTitle', { name: person?.name ?? '' });

  const submit = async (e: Event) => {
    e.preventDefault();
    setStatus(null);
    setError(null);
    // Sites the caller does not manage stay as they are; only the managed ones are chosen here.
    const keptSites = (person?.siteIds ?? []).filter((s) => !managed.some((m) => m.id === s));
    const body = {
      name: name.trim(), email: email.trim(), phone: phone.trim() || null, language,
      siteIds: [...new Set([...keptSites, ...siteIds].filter((s) => keptSites.includes(s) || managed.some((m) => m.id === s)))], roles,
    };
    if (!org && body.siteIds.length === 0) {
      setError(t('noSitesChosen'));
      return;
    }
    try {
      if (isNew) {
        const created = await api<Person>('POST', `/organisations/${me.organisation.id}/people`, body);
        navigate(`/admin/people/${created.id}?created=1`);
        return;
      }
      show(await api<Person>('PATCH', `/people/${id}`, body));
      setStatus(t('personSaved', { name: body.name }));
    } catch (err) {
      setError(errorMessage(t, err));
    }
  };
  const setActive = (active: boolean) => {
    setConfirmOff(false);
    void api<Person>('PATCH', `/people/${id}`, { active }).then((p) => {
      show(p);
      setStatus(t(active ? 'reactivated' : 'deactivated', { name: p.name }));
    }, (err: unknown) => setError(errorMessage(t, err)));
  };
  const makeLink = (purpose: 'invite' | 'reset') => {
    setLinkError(null);
    setCopied(false);
    void api<{ url: string; expiresAt: string; emailed: boolean }>('POST', `/people/${id}/access-link`, { purpose })
      .then(setLink, (err: unknown) => setLinkError(errorMessage(t, err)));
  };

  return (
    <Page title={title}>
      <p><a href="/admin/people" onClick={link('/admin/people')}>{t('back')}</a></p>
      {status === 'created' && person && <p class="ok" role="status">{t('personCreated', { name: person.name })}</p>}
      {person && !person.active && <p class="card notice">{t('inactive')}</p>}
      <form class="stack card" onSubmit={(e) => void submit(e)}>
        <label for="p-name">{t('name')}</label>
        <input id="p-name" type="text" required maxLength={200} autocomplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="p-email">{t('email')}</label>
        <input id="p-email" type="email" required maxLength={254} autocomplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="p-phone">{t('phone')}</label>
        <input id="p-phone" type="tel" maxLength={30} autocomplete="off" value={phone} onInput={(e) => setPhone(e.currentTarget.value)} />
        <label for="p-lang">{t('language')}</label>
        <select id="p-lang" value={language} onChange={(e) => setLanguage(e.currentTarget.value === 'en' ? 'en' : 'sv')}>
          <option value="sv">{t('languageSv')}</option>
          <option value="en">{t('languageEn')}</option>
        </select>
        <fieldset>
          <legend>{t('sites')}</legend>
          {managed.map((s) => (
            <p class="check" key={s.id}>
              <input id={`ps-${s.id}`} type="checkbox" checked={siteIds.has(s.id)} onChange={(e) => {
                const next = new Set(siteIds);
                if (e.currentTarget.checked) next.add(s.id);
                else next.delete(s.id);
                setSiteIds(next);
              }} />
              <label for={`ps-${s.id}`}>{s.name}</label>
            </p>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t('roles')}</legend>
          {grantable.map(({ grant, label }) => {
            const key = `pr-${grant.role}-${grant.siteId ?? 'all'}`;
            return (
              <p class="check" key={key}>
                <input id={key} type="checkbox" checked={hasRole(grant)} onChange={(e) => toggleRole(grant, e.currentTarget.checked)} />
                <label for={key}>{label}</label>
              </p>
            );
          })}
          {roles.filter((r) => !grantable.some((g) => sameGrant(g.grant, r))).map((r) => (
            <p key={`${r.role}-${r.siteId ?? ''}`}>{roleText(t, r, sites)}</p>
          ))}
        </fieldset>
        <button type="submit" class="primary">{isNew ? t('create') : t('save')}</button>
        <SaveStatus status={status && status !== 'created' ? status : null} error={error} />
      </form>

      {person && (
        <>
          <section class="card stack" aria-labelledby="links-title">
            <h2 id="links-title">{t('linkLabel')}</h2>
            <div class="row">
              <button type="button" class="secondary" disabled={!person.active} onClick={() => makeLink('invite')}>{t('inviteLink')}</button>
              <button type="button" class="secondary" disabled={!person.active} onClick={() => makeLink('reset')}>{t('resetLink')}</button>
            </div>
            {link_ && (
              <>
                <label for="p-link">{t('linkLabel')}</label>
                <input id="p-link" ref={linkInput} type="text" readOnly value={absolute(link_.url)} onFocus={(e) => e.currentTarget.select()} />
                <button type="button" class="secondary" onClick={() => void navigator.clipboard?.writeText(absolute(link_.url)).then(() => setCopied(true), () => undefined)}>
                  {t('copyLink')}
                </button>
                <p role="status">
                  {copied && <>{t('copied')} </>}
                  {t('linkCreated', { time: formatDateTime(lang, link_.expiresAt), name: person.name })}{' '}
                  {link_.emailed ? t('linkEmailed', { email: person.email }) : t('linkNotEmailed')}
                </p>
              </>
            )}
            {linkError && <ErrorText>{linkError}</ErrorText>}
          </section>
          {person.id !== me.person.id && (person.active ? (confirmOff ? (
            <div class="card danger" role="alertdialog" aria-labelledby="off-q">
              <p id="off-q">{t('confirmDeactivate', { name: person.name })}</p>
              <div class="row">
                <button type="button" class="primary" onClick={() => setActive(false)}>{t('deactivate')}</button>
                <button type="button" class="secondary" onClick={() => setConfirmOff(false)}>{t('cancel')}</button>
              </div>
            </div>
          ) : <button type="button" class="secondary" onClick={() => setConfirmOff(true)}>{t('deactivate')}</button>)
            : <button type="button" class="secondary" onClick={() => setActive(true)}>{t('reactivate')}</button>)}
        </>
      )}
    </Page>
  );
}

type Outcome = 'created' | 'updated' | 'unchanged' | 'refused';
interface ImportRow { line: number; email: string | null; name: string | null; outcome: Outcome; problems: string[]; changes: string[] }
interface ImportResult { dryRun: boolean; ignoredColumns: string[]; summary: Record<Outcome, number>; rows: ImportRow[] }

/** CSV import: a preview of what each row would do (nothing saved), then the import itself. */
export function ImportPage() {
  const t = useT();
  const { me } = useAppState();
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [result]);
  if (!me) return null;
  const run = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await postCsv<ImportResult>(`/organisations/${me.organisation.id}/people/import?dryRun=${dryRun}`, file));
    } catch (err) {
      setResult(null);
      setError(errorMessage(t, err));
    }
    setBusy(false);
  };
  const reasons = (r: ImportRow) => r.outcome === 'refused'
    ? r.problems.map((p) => t(`problem_${p}` as TextKey)).join(', ')
    : r.changes.map((c) => t(`change_${c}` as TextKey)).join(', ');
  const table = (rows: ImportRow[], caption: string) => (
    <table class="import">
      <caption>{caption}</caption>
      <thead><tr><th scope="col">{t('line')}</th><th scope="col">{t('email')}</th><th scope="col">{t('outcome')}</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.line} class={`outcome-${r.outcome}`}>
            <td>{r.line}</td>
            <td>{r.email ?? '—'}{r.name && <><br /><span class="help">{r.name}</span></>}</td>
            <td><strong>{t(`outcome_${r.outcome}`)}</strong>{reasons(r) && <>: {reasons(r)}</>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  const refused = result?.rows.filter((r) => r.outcome === 'refused') ?? [];
  return (
    <Page title={t('importTitle')}>
      <BackToAdmin />
      <p>{t('importIntro')}</p>
      <div class="stack card">
        <label for="csv-file">{t('csvFile')}</label>
        <input id="csv-file" type="file" accept=".csv,text/csv,text/plain" onChange={(e) => {
          setFile(e.currentTarget.files?.[0] ?? null);
          setResult(null);
        }} />
        <div class="row">
          <button type="button" class="secondary" disabled={!file || busy} onClick={() => void run(true)}>{t('dryRun')}</button>
          <button type="button" class="primary" disabled={!file || busy || !result?.dryRun} onClick={() => void run(false)}>{t('applyImport')}</button>
        </div>
      </div>
      {error && <ErrorText>{error}</ErrorText>}
      {result && (
        <section aria-labelledby="import-result">
          <h2 id="import-result" ref={heading} tabIndex={-1}>{result.dryRun ? t('importPreview') : t('importDone')}</h2>
          <p role="status" class="big">{t('importSummary', result.summary)}</p>
          {result.ignoredColumns.length > 0 && <p class="card notice">{t('ignoredColumns', { columns: result.ignoredColumns.join(', ') })}</p>}
          {refused.length > 0 && table(refused, t('importRefusedTitle'))}
          <details>
            <summary>{t('importAllRows')} ({result.rows.length})</summary>
            {table(result.rows, t('importAllRows'))}
          </details>
        </section>
      )}
    </Page>
  );
}
