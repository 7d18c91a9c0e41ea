import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api, isMissing } from '../lib/api.ts';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { navigate } from '../lib/router.ts';
import { isAdminAt, isLeadAt, useAppState, useT } from '../lib/store.ts';
import type { AlarmGroup, AlarmType, AuditEntry, DeviceHealth, Person } from '../lib/types.ts';
import { ErrorText, Page, errorMessage, link, useEscape } from './components.tsx';

/** The first site the person manages (rektor), or leads; the admin pages work on it. */
function useAdminSite() {
  const { me } = useAppState();
  const site = me?.sites.find((s) => isAdminAt(me, s.id)) ?? me?.sites.find((s) => isLeadAt(me, s.id)) ?? null;
  return { me, site, canEdit: site ? isAdminAt(me, site.id) : false };
}

export function AdminPage() {
  const t = useT();
  const { me, site, canEdit } = useAdminSite();
  const [groups, setGroups] = useState<AlarmGroup[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    if (site) void api<{ alarmGroups: AlarmGroup[] }>('GET', `/sites/${site.id}/alarm-groups`).then((r) => setGroups(r.alarmGroups), (e: unknown) => setError(errorMessage(t, e)));
  };
  useEffect(load, [site?.id]);
  if (!me || !site) return <Page title={t('admin')}><p>{t('noAdminRights')}</p></Page>;
  return (
    <Page title={t('adminTitle', { site: site.name })}>
      <nav class="row" aria-label={t('admin')}>
        <a class="button secondary" href="/admin/devices" onClick={link('/admin/devices')}>{t('deviceHealth')}</a>
        <a class="button secondary" href="/admin/audit" onClick={link('/admin/audit')}>{t('auditLog')}</a>
      </nav>
      <h2>{t('groups')}</h2>
      {error && <ErrorText>{error}</ErrorText>}
      {groups === null ? <p role="status">{t('loading')}</p> : (
        <ul class="list">
          {groups.map((g) => (
            <li key={g.id}>
              <a href={`/admin/groups/${g.id}`} onClick={link(`/admin/groups/${g.id}`)}>{g.name}</a>
              {' '}· {t('members')}: {g.members.length} · {t('receives')}: {g.alarmTypes.filter((a) => a.receives).map((a) => a.key).join(', ') || t('none')}
            </li>
          ))}
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
    </Page>
  );
}

interface Contact { personId: string | null; name: string | null; phone: string | null }

export function GroupPage({ id }: { id: string }) {
  const t = useT();
  const { me, site, canEdit } = useAdminSite();
  const { lang } = useAppState();
  const [group, setGroup] = useState<AlarmGroup | null>(null);
  const [people, setPeople] = useState<Person[]>([]);
  const [types, setTypes] = useState<AlarmType[]>([]);
  const [members, setMembers] = useState<Set<string>>(new Set());
  const [typeRights, setTypeRights] = useState<Record<string, { receives: boolean; mayRaise: boolean }>>({});
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const closeDelete = useCallback(() => setConfirmDelete(false), []);
  useEscape(confirmDelete, closeDelete);

  const show = (g: AlarmGroup) => {
    setGroup(g);
    setName(g.name);
    setDescription(g.description ?? '');
    setMembers(new Set(g.members.map((m) => m.id)));
    setTypeRights(Object.fromEntries(g.alarmTypes.map((a) => [a.alarmTypeId, { receives: a.receives, mayRaise: a.mayRaise }])));
    setContacts(g.escalationContacts.map((c) => ({ personId: c.personId, name: c.name, phone: c.phone })));
  };
  useEffect(() => {
    if (!me) return;
    void api<AlarmGroup>('GET', `/alarm-groups/${id}`).then(show, (e: unknown) => setError(errorMessage(t, e)));
    void api<{ alarmTypes: AlarmType[] }>('GET', `/organisations/${me.organisation.id}/alarm-types`).then((r) => setTypes(r.alarmTypes.filter((a) => !a.archived)), () => undefined);
    if (site && canEdit) {
      void api<{ people: Person[] }>('GET', `/organisations/${me.organisation.id}/people?siteId=${site.id}`).then((r) => setPeople(r.people), () => undefined);
    }
  }, [id, me?.organisation.id]);

  if (!group) return <Page title={t('groups')}>{error ? <ErrorText>{error}</ErrorText> : <p role="status">{t('loading')}</p>}</Page>;

  const save = async (work: () => Promise<AlarmGroup>) => {
    setStatus(null);
    setError(null);
    try {
      show(await work());
      setStatus(t('saved'));
    } catch (err) {
      setError(errorMessage(t, err));
    }
  };
  const candidates = people.length ? people.map((p) => ({ id: p.id, name: p.name })) : group.members;
  const disabled = !canEdit;

  return (
    <Page title={group.name}>
      <p><a href="/admin" onClick={link('/admin')}>{t('back')}</a></p>
      {status && <p role="status" class="ok">{status}</p>}
      {error && <ErrorText>{error}</ErrorText>}
      <form class="stack card" onSubmit={(e) => {
        e.preventDefault();
        void save(() => api<AlarmGroup>('PATCH', `/alarm-groups/${id}`, { name: name.trim(), description: description.trim() || null }));
      }}>
        <label for="g-name">{t('groupName')}</label>
        <input id="g-name" type="text" required maxLength={120} disabled={disabled} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="g-desc">{t('description')}</label>
        <textarea id="g-desc" rows={2} maxLength={1000} disabled={disabled} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
      </form>

      <form class="card" onSubmit={(e) => {
        e.preventDefault();
        void save(() => api<AlarmGroup>('PUT', `/alarm-groups/${id}/members`, { personIds: [...members] }));
      }}>
        <fieldset disabled={disabled}>
          <legend>{t('members')}</legend>
          {candidates.map((p) => (
            <p class="check" key={p.id}>
              <input id={`m-${p.id}`} type="checkbox" checked={members.has(p.id)} onChange={(e) => {
                const next = new Set(members);
                if (e.currentTarget.checked) next.add(p.id);
                else next.delete(p.id);
                setMembers(next);
              }} />
              <label for={`m-${p.id}`}>{p.name}</label>
            </p>
          ))}
        </fieldset>
        {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
      </form>

      <form class="card" onSubmit={(e) => {
        e.preventDefault();
        const alarmTypes = Object.entries(typeRights).filter(([, r]) => r.receives || r.mayRaise)
          .map(([alarmTypeId, r]) => ({ alarmTypeId, receives: r.receives, mayRaise: r.mayRaise }));
        void save(() => api<AlarmGroup>('PUT', `/alarm-groups/${id}/alarm-types`, { alarmTypes }));
      }}>
        <table class="types">
          <caption>{t('alarmTypes')}</caption>
          <thead><tr><th scope="col">{t('alarmTypes')}</th><th scope="col">{t('receives')}</th><th scope="col">{t('mayRaise')}</th></tr></thead>
          <tbody>
            {types.map((type) => {
              const r = typeRights[type.id] ?? { receives: false, mayRaise: false };
              const label = pick(lang, type.label);
              const toggle = (field: 'receives' | 'mayRaise', value: boolean) => setTypeRights({ ...typeRights, [type.id]: { ...r, [field]: value } });
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
      </form>

      <form class="card" onSubmit={(e) => {
        e.preventDefault();
        const list = contacts.filter((c) => c.personId || c.name).map((c) => (c.personId ? { personId: c.personId } : { name: c.name, phone: c.phone || null }));
        void save(() => api<AlarmGroup>('PUT', `/alarm-groups/${id}/escalation-contacts`, { contacts: list }));
      }}>
        <fieldset disabled={disabled}>
          <legend>{t('escalationContacts')}</legend>
          <ol class="contacts">
            {contacts.map((c, i) => {
              const change = (patch: Partial<Contact>) => setContacts(contacts.map((x, j) => (j === i ? { ...x, ...patch } : x)));
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
                  <button type="button" class="link" onClick={() => setContacts(contacts.filter((_, j) => j !== i))}>{t('remove')}</button>
                </li>
              );
            })}
          </ol>
          <button type="button" class="secondary" onClick={() => setContacts([...contacts, { personId: null, name: null, phone: null }])}>{t('addContact')}</button>
        </fieldset>
        {canEdit && <button type="submit" class="secondary">{t('save')}</button>}
      </form>

      {canEdit && (confirmDelete ? (
        <div class="card danger" role="alertdialog" aria-labelledby="del-q">
          <p id="del-q">{t('confirmDelete', { name: group.name })}</p>
          <div class="row">
            <button type="button" class="primary" onClick={() => void api('DELETE', `/alarm-groups/${id}`).then(() => navigate('/admin'), (e: unknown) => setError(errorMessage(t, e)))}>{t('delete')}</button>
            <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>{t('cancel')}</button>
          </div>
        </div>
      ) : <button type="button" class="secondary" onClick={() => setConfirmDelete(true)}>{t('delete')}</button>)}
    </Page>
  );
}

export function AuditPage() {
  const t = useT();
  const { me } = useAppState();
  const { lang } = useAppState();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const load = (before: string | null) => {
    if (!me) return;
    void api<{ entries: AuditEntry[]; nextBefore: string | null }>('GET', `/organisations/${me.organisation.id}/audit-log?limit=50${before ? `&before=${before}` : ''}`)
      .then((r) => {
        setEntries((prev) => (before ? [...prev, ...r.entries] : r.entries));
        setNext(r.nextBefore);
      }, (err: unknown) => setMessage(err instanceof ApiError && err.code === 'forbidden' ? t('auditForbidden') : errorMessage(t, err)));
  };
  useEffect(() => load(null), [me?.organisation.id]);
  return (
    <Page title={t('auditLog')}>
      <p><a href="/admin" onClick={link('/admin')}>{t('back')}</a></p>
      {message && <p class="card notice">{message}</p>}
      <ul class="list">
        {entries.map((e) => (
          <li key={e.id}><time>{new Date(e.at).toLocaleDateString(lang === 'sv' ? 'sv-SE' : 'en-GB')} {formatTime(lang, e.at)}</time> · {e.actor?.name ?? '—'} · {e.action} · {e.entityType}</li>
        ))}
      </ul>
      {next && <button type="button" class="secondary" onClick={() => load(next)}>{t('loadMore')}</button>}
    </Page>
  );
}

/** Why someone cannot receive alarms; "allowed but not registered" is its own case (a failed subscription), not "has not turned on". */
function problemText(person: DeviceHealth['people'][number]): TextKey {
  if (person.problem === 'push_not_enabled' && person.devices.some((d) => d.pushPermission === 'granted')) return 'problem_push_failed';
  return `problem_${person.problem ?? 'no_device'}`;
}

export function DeviceHealthPage() {
  const t = useT();
  const { site } = useAdminSite();
  const { lang } = useAppState();
  const [health, setHealth] = useState<DeviceHealth | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    if (site) void api<DeviceHealth>('GET', `/sites/${site.id}/device-health`).then(setHealth, (err: unknown) => setMessage(isMissing(err) ? t('deviceHealthMissing') : errorMessage(t, err)));
  }, [site?.id]);
  const failing = health?.people.filter((p) => !p.canReceiveAlarms) ?? [];
  return (
    <Page title={t('deviceHealth')}>
      <p><a href="/admin" onClick={link('/admin')}>{t('back')}</a></p>
      {message && <p class="card notice">{message}</p>}
      {health && (failing.length === 0
        ? <p class="ok" role="status">{t('allDevicesOk')}</p>
        : <p class="card notice" role="status">{t('cannotReceive', { n: failing.length, total: health.people.length })}</p>)}
      <ul class="list">
        {failing.map((p) => (
          <li key={p.personId}>
            <strong>{p.name}</strong>
            {p.problem && <> · {t(problemText(p))}</>}
            {p.devices.length === 0 ? <> · {t('noDevices')}</> : (
              <ul>
                {p.devices.map((d) => (
                  <li key={d.sessionId}>
                    {d.label ?? d.platform ?? '—'} · {t('deviceNotifications')}: {d.pushPermission ? t(`perm_${d.pushPermission}`) : t('unknown')} · {t('devicePush')}: {d.pushSubscribed ? t('yes') : t('no')}
                    {d.lastSeenAt && <> · {t('lastSeen', { time: formatTime(lang, d.lastSeenAt) })}</>}
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
