import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { isOrgAdmin, managesPeople, useAdminSites } from '../lib/admin.ts';
import { formatDateTime, pick, type TextKey } from '../lib/i18n.ts';
import { navigate } from '../lib/router.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { AlarmGroup, AlarmType, Person } from '../lib/types.ts';
import { ErrorText, Page, errorMessage, link, useEscape } from './components.tsx';

/** The organisation's alarm types (labels for keys), loaded once per page. */
function useAlarmTypes(): AlarmType[] {
  const { me } = useAppState();
  const [types, setTypes] = useState<AlarmType[]>([]);
  useEffect(() => {
    if (me) void api<{ alarmTypes: AlarmType[] }>('GET', `/organisations/${me.organisation.id}/alarm-types`).then((r) => setTypes(r.alarmTypes), () => undefined);
  }, [me?.organisation.id]);
  return types;
}

/** A save's outcome shown where the person is looking: next to the button they pressed. */
export function SaveStatus({ status, error }: { status: string | null; error: string | null }) {
  return (
    <>
      {status && <p role="status" class="ok">{status}</p>}
      {error && <ErrorText>{error}</ErrorText>}
    </>
  );
}

export function AdminNav() {
  const t = useT();
  const { me } = useAppState();
  const { site, canEdit } = useAdminSites();
  const org = isOrgAdmin(me);
  const items: [string, TextKey, boolean][] = [
    ['/admin/people', 'people', managesPeople(me)],
    ['/admin/import', 'importPeople', managesPeople(me)],
    [site ? `/admin/sites/${site.id}` : '/admin', 'siteDetails', canEdit && site !== null],
    ['/admin/devices', 'deviceHealth', site !== null],
    ['/admin/audit', 'auditTitle', managesPeople(me)],
    ['/admin/sites', 'sitesTitle', org],
    ['/admin/alarm-types', 'alarmTypesTitle', org],
    ['/admin/sign-in', 'signInSettings', org],
  ];
  return (
    <nav class="row" aria-label={t('admin')}>
      {items.filter(([, , shown]) => shown).map(([path, key]) => (
        <a key={path} class="button secondary" href={path} onClick={link(path)}>{t(key)}</a>
      ))}
    </nav>
  );
}

export function BackToAdmin() {
  const t = useT();
  return <p><a href="/admin" onClick={link('/admin')}>{t('back')}</a></p>;
}

export function AdminPage() {
  const t = useT();
  const { me, lang } = useAppState();
  const { sites, site, canEdit } = useAdminSites();
  const types = useAlarmTypes();
  const [groups, setGroups] = useState<AlarmGroup[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setGroups(null);
    if (site) void api<{ alarmGroups: AlarmGroup[] }>('GET', `/sites/${site.id}/alarm-groups`).then((r) => setGroups(r.alarmGroups), (e: unknown) => setError(errorMessage(t, e)));
  }, [site?.id]);
  if (!me) return null;
  if (sites === null) return <Page title={t('admin')}><p role="status">{t('loading')}</p></Page>;
  const org = isOrgAdmin(me);
  if (!site && !org) return <Page title={t('admin')}><p>{t('noAdminRights')}</p></Page>;
  const label = (id: string, key: string) => {
    const type = types.find((x) => x.id === id);
    return type ? pick(lang, type.label) : key;
  };
  return (
    <Page title={org ? t('adminOrgTitle', { org: me.organisation.name }) : t('adminTitle', { site: site?.name ?? '' })}>
      <AdminNav />
      {site && (
        <>
          <h2>{t('groups')}: {site.name}</h2>
          {error && <ErrorText>{error}</ErrorText>}
          {groups === null ? <p role="status">{t('loading')}</p> : (
            <ul class="list">
              {groups.map((g) => {
                const receives = g.alarmTypes.filter((a) => a.receives);
                return (
                  <li key={g.id}>
                    <a href={`/admin/groups/${g.id}`} onClick={link(`/admin/groups/${g.id}`)}>{g.name}</a>
                    {' '}· {t('membersCount', { n: g.members.length })} · {t('receives')}: {receives.map((a) => label(a.alarmTypeId, a.key)).join(', ') || t('none')}
                    {receives.length === 0 && <p class="card notice">{t('receivesNothing')}</p>}
                  </li>
                );
              })}
            </ul>
          )}
          {canEdit && (
            <form class="stack card" onSubmit={(e) => {
              e.preventDefault();
              void api<AlarmGroup>('POST', `/sites/${site.id}/alarm-groups`, { name: name.trim() }).then((g) => {
                setName('');
                navigate(`/admin/groups/${g.id}`);
              }, (err: unknown) => setError(errorMessage(t, err)));
            }}>
              <h2>{t('newGroup')}</h2>
              <label for="group-name">{t('groupName')}</label>
              <input id="group-name" type="text" required maxLength={120} value={name} onInput={(e) => setName(e.currentTarget.value)} />
              <button type="submit" class="primary" disabled={!name.trim()}>{t('create')}</button>
            </form>
          )}
        </>
      )}
    </Page>
  );
}

interface Contact { personId: string | null; name: string | null; phone: string | null }
type Section = 'details' | 'members' | 'types' | 'contacts';
const SECTION_TEXT: Record<Section, TextKey> = { details: 'groupDetails', members: 'members', types: 'alarmTypes', contacts: 'escalationContacts' };

function SectionCard({ children, dirty, onSubmit }: { children: ComponentChildren; dirty: boolean; onSubmit: () => void }) {
  const t = useT();
  return (
    <form class={`card stack${dirty ? ' dirty' : ''}`} onSubmit={(e) => {
      e.preventDefault();
      onSubmit();
    }}>
      {children}
      {dirty && <p class="help"><strong>{t('unsavedChanges')}</strong></p>}
    </form>
  );
}

/**
 * One alarm group. Each section (details, members, alarm types, contacts) keeps its own edits:
 * saving one never throws away unsaved edits in another, and says so next to its own button.
 */
export function GroupPage({ id }: { id: string }) {
  const t = useT();
  const { me, lang } = useAppState();
  const { canEdit: canEditSite } = useAdminSites();
  const types = useAlarmTypes().filter((a) => !a.archived);
  const [group, setGroup] = useState<AlarmGroup | null>(null);
  const [people, setPeople] = useState<Person[]>([]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [members, setMembers] = useState<Set<string>>(new Set());
  const [typeRights, setTypeRights] = useState<Record<string, { receives: boolean; mayRaise: boolean }>>({});
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [dirty, setDirty] = useState<Set<Section>>(new Set());
  const [outcome, setOutcome] = useState<{ section: Section; status: string | null; error: string | null } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const closeDelete = useCallback(() => setConfirmDelete(false), []);
  useEscape(confirmDelete, closeDelete);

  const fill: Record<Section, (g: AlarmGroup) => void> = {
    details: (g) => {
      setName(g.name);
      setDescription(g.description ?? '');
    },
    members: (g) => setMembers(new Set(g.members.map((m) => m.id))),
    types: (g) => setTypeRights(Object.fromEntries(g.alarmTypes.map((a) => [a.alarmTypeId, { receives: a.receives, mayRaise: a.mayRaise }]))),
    contacts: (g) => setContacts(g.escalationContacts.map((c) => ({ personId: c.personId, name: c.name, phone: c.phone }))),
  };
  const touch = (section: Section) => setDirty((d) => new Set(d).add(section));

  useEffect(() => {
    if (!me) return;
    void api<AlarmGroup>('GET', `/alarm-groups/${id}`).then((g) => {
      setGroup(g);
      for (const f of Object.values(fill)) f(g);
      if (managesPeople(me)) {
        void api<{ people: Person[] }>('GET', `/organisations/${me.organisation.id}/people?siteId=${g.siteId}`)
          .then((r) => setPeople(r.people.filter((p) => p.active)), () => undefined);
      }
    }, (e: unknown) => setLoadError(errorMessage(t, e)));
  }, [id, me?.organisation.id]);

  if (!group) return <Page title={t('groups')}>{loadError ? <ErrorText>{loadError}</ErrorText> : <p role="status">{t('loading')}</p>}</Page>;
  const canEdit = canEditSite && me !== null && managesPeople(me);

  const save = async (section: Section, work: () => Promise<AlarmGroup>) => {
    setOutcome(null);
    try {
      const saved = await work();
      setGroup(saved);
      // Only the saved section takes the server's answer: the others keep what is being typed.
      fill[section](saved);
      setDirty((d) => {
        const next = new Set(d);
        next.delete(section);
        return next;
      });
      setOutcome({ section, status: t('savedSection', { section: t(SECTION_TEXT[section]) }), error: null });
    } catch (err) {
      setOutcome({ section, status: null, error: errorMessage(t, err) });
    }
  };
  const statusOf = (section: Section) => (outcome?.section === section ? <SaveStatus status={outcome.status} error={outcome.error} /> : null);
  const candidates = people.length ? people.map((p) => ({ id: p.id, name: p.name, email: p.email })) : group.members.map((m) => ({ ...m, email: '' }));
  const needle = search.trim().toLowerCase();
  const shown = candidates.filter((p) => !needle || p.name.toLowerCase().includes(needle) || p.email.toLowerCase().includes(needle));
  const receivesNothing = !types.some((type) => typeRights[type.id]?.receives);
  const disabled = !canEdit;

  return (
    <Page title={group.name}>
      <BackToAdmin />
      {receivesNothing && <p class="card notice" role="status">{t('receivesNothing')}</p>}

      <SectionCard dirty={dirty.has('details')} onSubmit={() => void save('details', () =>
        api<AlarmGroup>('PATCH', `/alarm-groups/${id}`, { name: name.trim(), description: description.trim() || null }))}>
        <h2>{t('groupDetails')}</h2>
        <label for="g-name">{t('groupName')}</label>
        <input id="g-name" type="text" required maxLength={120} disabled={disabled} value={name} onInput={(e) => {
          setName(e.currentTarget.value);
          touch('details');
        }} />
        <label for="g-desc">{t('description')}</label>
        <textarea id="g-desc" rows={2} maxLength={1000} disabled={disabled} value={description} onInput={(e) => {
          setDescription(e.currentTarget.value);
          touch('details');
        }} />
        {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
        {statusOf('details')}
      </SectionCard>

      <SectionCard dirty={dirty.has('members')} onSubmit={() => void save('members', () =>
        api<AlarmGroup>('PUT', `/alarm-groups/${id}/members`, { personIds: [...members] }))}>
        <fieldset disabled={disabled}>
          <legend>{t('members')} ({members.size})</legend>
          <label for="m-search">{t('searchMembers')}</label>
          <input id="m-search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
          <div class="row">
            <button type="button" class="secondary" onClick={() => {
              setMembers(new Set([...members, ...shown.map((p) => p.id)]));
              touch('members');
            }}>{t('selectAllShown')}</button>
            <button type="button" class="secondary" onClick={() => {
              setMembers(new Set([...members].filter((m) => !shown.some((p) => p.id === m))));
              touch('members');
            }}>{t('deselectAllShown')}</button>
          </div>
          {shown.map((p) => (
            <p class="check" key={p.id}>
              <input id={`m-${p.id}`} type="checkbox" checked={members.has(p.id)} onChange={(e) => {
                const next = new Set(members);
                if (e.currentTarget.checked) next.add(p.id);
                else next.delete(p.id);
                setMembers(next);
                touch('members');
              }} />
              <label for={`m-${p.id}`}>{p.name}</label>
            </p>
          ))}
          {shown.length === 0 && <p>{t('noPeopleFound')}</p>}
        </fieldset>
        {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
        {statusOf('members')}
      </SectionCard>

      <SectionCard dirty={dirty.has('types')} onSubmit={() => {
        const alarmTypes = Object.entries(typeRights).filter(([, r]) => r.receives || r.mayRaise)
          .map(([alarmTypeId, r]) => ({ alarmTypeId, receives: r.receives, mayRaise: r.mayRaise }));
        void save('types', () => api<AlarmGroup>('PUT', `/alarm-groups/${id}/alarm-types`, { alarmTypes }));
      }}>
        <table class="types">
          <caption>{t('alarmTypes')}</caption>
          <thead><tr><th scope="col">{t('alarmTypes')}</th><th scope="col">{t('receives')}</th><th scope="col">{t('mayRaise')}</th></tr></thead>
          <tbody>
            {types.map((type) => {
              const r = typeRights[type.id] ?? { receives: false, mayRaise: false };
              const label = pick(lang, type.label);
              const toggle = (field: 'receives' | 'mayRaise', value: boolean) => {
                setTypeRights({ ...typeRights, [type.id]: { ...r, [field]: value } });
                touch('types');
              };
              return (
                <tr key={type.id}>
                  <th scope="row">{label}</th>
                  <td><input type="checkbox" aria-label={`${t('receives')}: ${label}`} disabled={disabled} checked={r.receives}
                    onChange={(e) => toggle('receives', e.currentTarget.checked)} /></td>
                  <td><input type="checkbox" aria-label={`${t('mayRaise')}: ${label}`} disabled={disabled} checked={r.mayRaise}
                    onChange={(e) => toggle('mayRaise', e.currentTarget.checked)} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
        {statusOf('types')}
      </SectionCard>

      <SectionCard dirty={dirty.has('contacts')} onSubmit={() => {
        const list = contacts.filter((c) => c.personId || c.name).map((c) => (c.personId ? { personId: c.personId } : { name: c.name, phone: c.phone || null }));
        void save('contacts', () => api<AlarmGroup>('PUT', `/alarm-groups/${id}/escalation-contacts`, { contacts: list }));
      }}>
        <fieldset disabled={disabled}>
          <legend>{t('escalationContacts')}</legend>
          <ol class="contacts">
            {contacts.map((c, i) => {
              const change = (patch: Partial<Contact>) => {
                setContacts(contacts.map((x, j) => (j === i ? { ...x, ...patch } : x)));
                touch('contacts');
              };
              return (
                <li key={i} class="stack">
                  <label for={`c-person-${i}`}>{t('contactPerson')}</label>
                  <select id={`c-person-${i}`} value={c.personId ?? ''} onChange={(e) => change({ personId: e.currentTarget.value || null })}>
                    <option value="">{t('none')}</option>
                    {candidates.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
                  </select>
                  {!c.personId && (
                    <>
                      <label for={`c-name-${i}`}>{t('contactName')}</label>
                      <input id={`c-name-${i}`} type="text" value={c.name ?? ''} onInput={(e) => change({ name: e.currentTarget.value || null })} />
                      <label for={`c-phone-${i}`}>{t('contactPhone')}</label>
                      <input id={`c-phone-${i}`} type="tel" value={c.phone ?? ''} onInput={(e) => change({ phone: e.currentTarget.value || null })} />
                    </>
                  )}
                  <button type="button" class="link" onClick={() => {
                    setContacts(contacts.filter((_, j) => j !== i));
                    touch('contacts');
                  }}>{t('remove')}</button>
                </li>
              );
            })}
          </ol>
          <button type="button" class="secondary" onClick={() => {
            setContacts([...contacts, { personId: null, name: null, phone: null }]);
            touch('contacts');
          }}>{t('addContact')}</button>
        </fieldset>
        {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
        {statusOf('contacts')}
      </SectionCard>

      {canEdit && (confirmDelete ? (
        <div class="card danger" role="alertdialog" aria-labelledby="del-q">
          <p id="del-q">{t('confirmDelete', { name: group.name })}</p>
          <div class="row">
            <button type="button" class="primary" onClick={() => void api('DELETE', `/alarm-groups/${id}`).then(() => navigate('/admin'),
              (e: unknown) => setLoadError(errorMessage(t, e)))}>{t('delete')}</button>
            <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>{t('cancel')}</button>
          </div>
          {loadError && <ErrorText>{loadError}</ErrorText>}
        </div>
      ) : <button type="button" class="secondary" onClick={() => setConfirmDelete(true)}>{t('delete')}</button>)}
    </Page>
  );
}

interface AuditEntry { id: string; at: string; text: { sv: string; en: string }[] }
const ENTITY_TYPES = ['person', 'site', 'alarm_group', 'alarm_type', 'organisation'] as const;

/** The audit log in words: organisation admins see everything, rektorer what concerns their sites. */
export function AuditPage() {
  const t = useT();
  const { me, lang } = useAppState();
  const { sites } = useAdminSites();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [siteId, setSiteId] = useState('');
  const [kind, setKind] = useState('');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const query = (before: string | null) => {
    const q = new URLSearchParams({ limit: '50' });
    if (before) q.set('before', before);
    if (siteId) q.set('siteId', siteId);
    if (kind) q.set('entityType', kind);
    if (from) q.set('from', new Date(`${from}T00:00:00`).toISOString());
    // "Up to and including" the day chosen: until the start of the next.
    if (until) q.set('until', new Date(new Date(`${until}T00:00:00`).getTime() + 86_400_000).toISOString());
    return q.toString();
  };
  const load = (before: string | null) => {
    if (!me) return;
    void api<{ entries: AuditEntry[]; nextBefore: string | null }>('GET', `/organisations/${me.organisation.id}/audit-log?${query(before)}`)
      .then((r) => {
        setEntries((prev) => (before ? [...(prev ?? []), ...r.entries] : r.entries));
        setNext(r.nextBefore);
        setMessage(null);
      }, (err: unknown) => setMessage(errorMessage(t, err)));
  };
  useEffect(() => load(null), [me?.organisation.id, siteId, kind, from, until]);
  return (
    <Page title={t('auditTitle')}>
      <BackToAdmin />
      <fieldset class="card filters">
        <legend>{t('auditFilter')}</legend>
        <label for="a-site">{t('chooseSite')}</label>
        <select id="a-site" value={siteId} onChange={(e) => setSiteId(e.currentTarget.value)}>
          <option value="">{t('allSites')}</option>
          {(sites ?? []).map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
        <label for="a-kind">{t('auditKind')}</label>
        <select id="a-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          <option value="">{t('everyone')}</option>
          {ENTITY_TYPES.map((k) => <option key={k} value={k}>{t(`entity_${k}`)}</option>)}
        </select>
        <label for="a-from">{t('fromDate')}</label>
        <input id="a-from" type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        <label for="a-until">{t('untilDate')}</label>
        <input id="a-until" type="date" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
      </fieldset>
      {message && <p class="card notice">{message}</p>}
      {entries === null ? <p role="status">{t('loading')}</p> : entries.length === 0 ? <p>{t('noEntries')}</p> : (
        <ol class="list audit">
          {entries.map((e) => (
            <li key={e.id}><time dateTime={e.at}>{formatDateTime(lang, e.at)}</time>{' '}{e.text.map((w) => w[lang]).join('. ')}.</li>
          ))}
        </ol>
      )}
      {next && <button type="button" class="secondary" onClick={() => load(next)}>{t('loadMore')}</button>}
    </Page>
  );
}

interface HealthDevice {
  sessionId: string; label: string | null; platform: string | null; pushPermission: string | null; pushSubscribed: boolean; testPushFailed: boolean; lastSeenAt: string;
}
interface HealthPerson {
  personId: string; name: string; canReceiveAlarms: boolean; smsAlarms: boolean; problem: 'no_device' | 'push_denied' | 'push_failing' | 'push_not_enabled' | null;
  lastReminder: { at: string; channel: 'push' | 'email' | 'sms' | 'none'; by: string | null } | null;
  devices: HealthDevice[];
}

/** Device health that acts: who cannot receive alarms, their devices with when each was last seen, remove and remind. */
export function DeviceHealthPage() {
  const t = useT();
  const { me, lang } = useAppState();
  const { site, canEdit } = useAdminSites();
  const [people, setPeople] = useState<HealthPerson[] | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [removing, setRemoving] = useState<{ person: HealthPerson; device: HealthDevice } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const statusRef = useRef<HTMLDivElement>(null);
  const load = () => {
    if (site) void api<{ people: HealthPerson[] }>('GET', `/sites/${site.id}/device-health`).then((r) => setPeople(r.people), (e: unknown) => setError(errorMessage(t, e)));
  };
  useEffect(load, [site?.id]);
  useEffect(() => statusRef.current?.scrollIntoView?.({ block: 'nearest' }), [status, error]);
  if (!me || !site) return <Page title={t('deviceHealth')}><p role="status">{t('loading')}</p></Page>;
  const failing = people?.filter((p) => !p.canReceiveAlarms) ?? [];
  const deviceName = (d: HealthDevice) => d.label ?? d.platform ?? t('unnamedDevice');
  const remind = (ids: string[]) => {
    setStatus(null);
    setError(null);
    void api<{ reminded: { personId: string; channel: 'push' | 'email' | 'sms' | 'none' }[] }>('POST', `/sites/${site.id}/device-reminders`, { personIds: ids }).then((r) => {
      setStatus(t('reminded', {
        list: r.reminded.map((x) => `${people?.find((p) => p.personId === x.personId)?.name ?? ''} (${t(`channel_${x.channel}`)})`).join(', '),
      }));
      setChosen(new Set());
      load();
    }, (e: unknown) => setError(errorMessage(t, e)));
  };
  return (
    <Page title={t('deviceHealthTitle', { site: site.name })}>
      <BackToAdmin />
      {people && (failing.length === 0
        ? <p class="ok" role="status">{t('allDevicesOk')}</p>
        : <p class="card notice" role="status">{t('cannotReceive', { n: failing.length, total: people.length })}</p>)}
      <div ref={statusRef}><SaveStatus status={status} error={error} /></div>
      {canEdit && failing.length > 0 && (
        <div class="row">
          <button type="button" class="secondary" onClick={() => setChosen(new Set(failing.map((p) => p.personId)))}>{t('selectAll')}</button>
          <button type="button" class="primary" disabled={chosen.size === 0} onClick={() => remind([...chosen])}>{t('remindSelected', { n: chosen.size })}</button>
        </div>
      )}
      {removing && (
        <div class="card danger" role="alertdialog" aria-labelledby="rm-q">
          <p id="rm-q">{t('confirmRemoveDevice', { device: deviceName(removing.device), name: removing.person.name })}</p>
          <div class="row">
            <button type="button" class="primary" onClick={() => {
              const target = removing;
              setRemoving(null);
              void api('DELETE', `/sites/${site.id}/devices/${target.device.sessionId}`).then(() => {
                setStatus(t('deviceRemoved'));
                load();
              }, (e: unknown) => setError(errorMessage(t, e)));
            }}>{t('removeDevice')}</button>
            <button type="button" class="secondary" onClick={() => setRemoving(null)}>{t('cancel')}</button>
          </div>
        </div>
      )}
      <ul class="list health">
        {(people ?? []).map((p) => (
          <li key={p.personId} class={p.canReceiveAlarms ? '' : 'failing'}>
            {canEdit && !p.canReceiveAlarms && (
              <input type="checkbox" id={`r-${p.personId}`} aria-label={`${t('remind')}: ${p.name}`} checked={chosen.has(p.personId)} onChange={(e) => {
                const next = new Set(chosen);
                if (e.currentTarget.checked) next.add(p.personId);
                else next.delete(p.personId);
                setChosen(next);
              }} />
            )}{' '}
            <strong>{p.name}</strong>
            {p.problem && <> · {t(`problem_${p.problem}`)}</>}
            {p.smsAlarms && <> · {t('smsAlarms')}</>}
            {p.lastReminder && <> · {t('lastReminder', {
              time: formatDateTime(lang, p.lastReminder.at), by: p.lastReminder.by ?? '—', channel: t(`channel_${p.lastReminder.channel}`),
            })}</>}
            {canEdit && !p.canReceiveAlarms && <> <button type="button" class="link" onClick={() => remind([p.personId])}>{t('remind')}</button></>}
            {p.devices.length > 0 && (
              <ul>
                {p.devices.map((d) => (
                  <li key={d.sessionId}>
                    {deviceName(d)} · {t('deviceNotifications')}: {d.pushPermission ? t(`perm_${d.pushPermission as 'granted'}`) : t('unknown')}
                    {' '}· {t('devicePush')}: {d.pushSubscribed ? t('yes') : t('no')}{d.testPushFailed && <> · {t('deviceTestFailed')}</>}
                    {' '}· {t('lastSeenDate', { date: formatDateTime(lang, d.lastSeenAt) })}
                    {canEdit && <> <button type="button" class="link" onClick={() => setRemoving({ person: p, device: d })}>{t('removeDevice')}</button></>}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}
