import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../lib/api.ts';
import { formatTime, pick, type TextKey } from '../lib/i18n.ts';
import { navigate } from '../lib/router.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { AlarmGroup, AlarmType, Bilingual, Me, RollCallSummary } from '../lib/types.ts';
import { ErrorText, Page, link } from './components.tsx';

/**
 * The organisation admins' pages for links between organisations (docs/linking.md): every link of
 * the organisation with its status, review date and warnings; accept (choosing one's own receiving
 * groups), decline, suspend, resume, revoke, test; and proposing a link or a change to one.
 */

type Side = 'proposer' | 'partner';
type Direction = 'to_partner' | 'to_proposer';
type Status = 'proposed' | 'active' | 'suspended' | 'revoked' | 'declined' | 'replaced';
type LinkedState = 'active' | 'ended' | 'ended_early' | 'held' | 'dismissed' | 'lapsed' | 'not_crossed';

interface SiteRef { id: string; name: string }
interface LinkView {
  id: string; status: Status; side: Side;
  proposer: { organisationId: string; name: string }; partner: { organisationId: string; name: string };
  sharePresserName: boolean; reviewAt: string; reviewDue: boolean; note: string | null; replacesLinkId: string | null;
  statusReason: string | null; suspendedBy: Side | null;
  pairs: { proposerSite: SiteRef; partnerSite: SiteRef }[];
  directions: {
    direction: Direction; alarmTypes: { id: string; key: string; label: Bilingual }[];
    receiving: { site: SiteRef; groupCount: number; groups: SiteRef[] | null; ableToReceive: number }[];
  }[];
  warnings: { code: 'review_due' | 'no_receiving_group' | 'nobody_can_receive'; direction: Direction | null; siteName: string | null }[];
  recent: { crossingId: string; at: string; direction: Direction; test: boolean; drill: boolean; alarmTypeId: string; fromSiteName: string; toSiteName: string; state: LinkedState; counts: RollCallSummary | null }[];
}
interface Partner { id: string; name: string; sites: { id: string; name: string; address: string | null }[] }

const errorText = (err: unknown): string => (err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
const roleOf = (me: Me | null, role: string, orgWide = false) => me?.person.roles.some((r) => r.role === role && (!orgWide || r.siteId === null)) ?? false;
/** policies.ts: who proposes and tests (admins), who decides (admins, organisation-wide crisis leads). */
const mayPropose = (me: Me | null) => roleOf(me, 'org_admin');
const mayDecide = (me: Me | null) => roleOf(me, 'org_admin') || roleOf(me, 'crisis_lead', true);
/** policies.ts canViewLinks: admins, crisis leads and rektorer. */
export const mayViewLinks = (me: Me | null) => roleOf(me, 'org_admin') || roleOf(me, 'crisis_lead') || roleOf(me, 'site_admin');

const ours = (link: LinkView) => (link.side === 'proposer' ? link.proposer : link.partner);
const theirs = (link: LinkView) => (link.side === 'proposer' ? link.partner : link.proposer);
const fromSide = (direction: Direction): Side => (direction === 'to_partner' ? 'proposer' : 'partner');

export function LinksPage() {
  const t = useT();
  const { me } = useAppState();
  const [links, setLinks] = useState<LinkView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const organisationId = me?.organisation.id ?? '';
  const load = () => {
    if (organisationId) void api<{ links: LinkView[] }>('GET', `/organisations/${organisationId}/links`).then((r) => setLinks(r.links), (e: unknown) => setError(errorText(e)));
  };
  useEffect(load, [organisationId]);
  if (!me || !mayViewLinks(me)) return <Page title={t('linksTitle')}><p>{t('noAdminRights')}</p></Page>;
  return (
    <Page title={t('linksTitle')}>
      <p class="help">{t('linksIntro')}</p>
      {mayPropose(me) && <p><a class="button primary" href="/admin/links/new" onClick={link('/admin/links/new')}>{t('linkPropose')}</a></p>}
      {error && <ErrorText>{error}</ErrorText>}
      {links === null ? <p role="status">{t('loading')}</p> : links.length === 0 ? <p>{t('noLinks')}</p> : (
        links.map((l) => <LinkCard key={l.id} link={l} me={me} onChange={load} />)
      )}
    </Page>
  );
}

function LinkCard({ link: l, me, onChange }: { link: LinkView; me: Me; onChange: () => void }) {
  const t = useT();
  const { lang } = useAppState();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [accepting, setAccepting] = useState(false);
  const [revoking, setRevoking] = useState(false);
  const act = async (path: string, body?: unknown, after?: (result: unknown) => void) => {
    setBusy(true);
    try {
      const result = await api<unknown>('POST', `/links/${l.id}/${path}`, body);
      setError(null);
      after?.(result);
      onChange();
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  };
  const decide = mayDecide(me);
  const live = l.status === 'active' || l.status === 'suspended';
  const typeLabel = (id: string) => {
    const found = l.directions.flatMap((d) => d.alarmTypes).find((a) => a.id === id);
    return found ? pick(lang, found.label) : '';
  };
  return (
    <article class="card link" data-link={l.id} aria-labelledby={`link-${l.id}`}>
      <h2 id={`link-${l.id}`}>{t('linkWith', { name: theirs(l).name })}</h2>
      <p>
        <strong class={`status status-${l.status}`}>{t(`linkStatus_${l.status}`)}</strong>
        {l.status === 'proposed' && <> · {l.side === 'proposer' ? t('linkProposedByUs') : t('linkProposedToUs')}</>}
        {l.suspendedBy && <> · {t('linkSuspendedBy', { name: l.suspendedBy === l.side ? ours(l).name : theirs(l).name })}</>}
        {live && <> · {t('linkReviewAt', { date: l.reviewAt })}</>}
      </p>
      {l.statusReason && <p>{l.statusReason}</p>}
      {l.note && <p>{t('linkNote', { note: l.note })}</p>}
      <ul class="list">
        {l.pairs.map((p) => {
          const [mine, other] = l.side === 'proposer' ? [p.proposerSite, p.partnerSite] : [p.partnerSite, p.proposerSite];
          return <li key={`${mine.id}-${other.id}`}>{t('linkSites', { ours: mine.name, theirs: other.name })}</li>;
        })}
      </ul>
      {l.directions.map((d) => {
        const sender = fromSide(d.direction) === 'proposer' ? l.proposer : l.partner;
        const receiver = fromSide(d.direction) === 'proposer' ? l.partner : l.proposer;
        return (
          <section key={d.direction} class="direction">
            <h3>{t('linkDirection', { from: sender.name, to: receiver.name })}</h3>
            <p>{d.alarmTypes.length ? d.alarmTypes.map((a) => pick(lang, a.label)).join(', ') : t('linkNoAlarms')}</p>
            {d.alarmTypes.length > 0 && d.receiving.map((r) => (
              <p key={r.site.id}>
                {t('linkReceivers', { site: r.site.name, groups: r.groups ? r.groups.map((g) => g.name).join(', ') || t('none') : t('linkGroupCount', { n: r.groupCount, name: receiver.name }) })}
                {live && <> · {t('linkAbleToReceive', { n: r.ableToReceive })}</>}
              </p>
            ))}
          </section>
        );
      })}
      <p>{l.sharePresserName ? t('linkSharesPresser') : t('linkKeepsPresser')}</p>
      {l.warnings.length > 0 && (
        <div role="status">
          <ul class="warnings">
            {l.warnings.map((w) => (
              <li key={`${w.code}-${w.direction ?? ''}-${w.siteName ?? ''}`} class="error">
                {w.code === 'review_due' ? t('linkReviewDue', { date: l.reviewAt }) : t(`linkWarn_${w.code}`, { site: w.siteName ?? '' })}
              </li>
            ))}
          </ul>
        </div>
      )}
      {l.recent.length > 0 && (
        <details>
          <summary>{t('linkRecent')}</summary>
          <ul class="list">
            {l.recent.map((c) => (
              <li key={c.crossingId}>
                <time>{formatTime(lang, c.at)}</time> {c.drill && <strong class="drill-tag">{t('drillBanner')}</strong>} {c.test ? `${t('linkRecentTest')}: ` : ''}
                {typeLabel(c.alarmTypeId)} · {c.fromSiteName} → {c.toSiteName}: {t(`linkedState_${c.state}`)}
                {c.counts && <><br /><span class="counts-line">{t('linkedCounts', { ...c.counts })}</span></>}
              </li>
            ))}
          </ul>
        </details>
      )}
      {error && <ErrorText>{error}</ErrorText>}
      {notice && <p role="status">{notice}</p>}
      {accepting && <AcceptForm link={l} busy={busy} onAccept={(receivingGroups) => void act('accept', { receivingGroups }, () => setAccepting(false))} onCancel={() => setAccepting(false)} />}
      {revoking && (
        <div class="card danger" role="alertdialog" aria-labelledby={`revoke-${l.id}`}>
          <p id={`revoke-${l.id}`}>{t('linkConfirmRevoke')}</p>
          <div class="row">
            <button type="button" class="primary" disabled={busy} onClick={() => void act('revoke', { reason: reason.trim() || null }, () => setRevoking(false))}>{t('linkRevoke')}</button>
            <button type="button" class="secondary" onClick={() => setRevoking(false)}>{t('cancel')}</button>
          </div>
        </div>
      )}
      {decide && (l.status === 'proposed' || live) && (
        <p class="stack">
          <label for={`reason-${l.id}`}>{t('linkReason')}</label>
          <input id={`reason-${l.id}`} type="text" maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </p>
      )}
      <div class="row">
        {decide && l.status === 'proposed' && l.side === 'partner' && !accepting && (
          <>
            <button type="button" class="primary" disabled={busy} onClick={() => setAccepting(true)}>{t('linkAccept')}</button>
            <button type="button" class="secondary" disabled={busy} onClick={() => void act('decline', { reason: reason.trim() || null })}>{t('linkDecline')}</button>
          </>
        )}
        {decide && l.status === 'active' && <button type="button" class="secondary" disabled={busy} onClick={() => void act('suspend', { reason: reason.trim() || null })}>{t('linkSuspend')}</button>}
        {decide && l.status === 'suspended' && l.suspendedBy === l.side && <button type="button" class="secondary" disabled={busy} onClick={() => void act('resume', {})}>{t('linkResume')}</button>}
        {mayPropose(me) && l.status === 'active' && (
          <button type="button" class="secondary" disabled={busy} onClick={() => void act('test', {}, (result) => {
            const sites = (result as { sites: { siteName: string; state: 'alerted' | 'not_crossed' }[] }).sites;
            setNotice(t('linkTestSent', { result: sites.map((s) => t(s.state === 'alerted' ? 'linkTestAlerted' : 'linkTestNotCrossed', { site: s.siteName })).join(', ') }));
          })}>{t('linkTest')}</button>
        )}
        {mayPropose(me) && live && (
          <a class="button secondary" href={`/admin/links/new?replaces=${l.id}`} onClick={link(`/admin/links/new?replaces=${l.id}`)}>{t('linkProposeChange')}</a>
        )}
        {decide && (l.status === 'proposed' ? l.side === 'proposer' : live) && (
          <button type="button" class="secondary" disabled={busy} onClick={() => setRevoking(true)}>{t('linkRevoke')}</button>
        )}
      </div>
    </article>
  );
}

/** The partner accepts by choosing its own groups at each of its sites that receive alarms. */
function AcceptForm({ link: l, busy, onAccept, onCancel }: {
  link: LinkView; busy: boolean; onAccept: (groups: { siteId: string; groupIds: string[] }[]) => void; onCancel: () => void;
}) {
  const t = useT();
  const incoming = l.directions.find((d) => d.direction === 'to_partner');
  const sites = incoming && incoming.alarmTypes.length ? incoming.receiving.map((r) => r.site) : [];
  const [groups, setGroups] = useState<Record<string, AlarmGroup[]>>({});
  const [chosen, setChosen] = useState<Record<string, Set<string>>>({});
  useEffect(() => {
    for (const site of sites) {
      void api<{ alarmGroups: AlarmGroup[] }>('GET', `/sites/${site.id}/alarm-groups`).then((r) => setGroups((g) => ({ ...g, [site.id]: r.alarmGroups })), () => undefined);
    }
  }, [l.id]);
  const toggle = (siteId: string, groupId: string, on: boolean) => setChosen((c) => {
    const next = new Set(c[siteId] ?? []);
    if (on) next.add(groupId);
    else next.delete(groupId);
    return { ...c, [siteId]: next };
  });
  return (
    <form class="stack card" onSubmit={(e) => {
      e.preventDefault();
      onAccept(sites.map((s) => ({ siteId: s.id, groupIds: [...(chosen[s.id] ?? [])] })).filter((g) => g.groupIds.length));
    }}>
      {sites.map((site) => (
        <fieldset key={site.id}>
          <legend>{t('linkChooseGroups', { site: site.name, name: theirs(l).name })}</legend>
          {(groups[site.id] ?? []).map((g) => (
            <p class="check" key={g.id}>
              <input id={`accept-${g.id}`} type="checkbox" checked={chosen[site.id]?.has(g.id) ?? false} onChange={(e) => toggle(site.id, g.id, e.currentTarget.checked)} />
              <label for={`accept-${g.id}`}>{g.name}</label>
            </p>
          ))}
        </fieldset>
      ))}
      <div class="row">
        <button type="submit" class="primary" disabled={busy || sites.some((s) => !(chosen[s.id]?.size))}>{t('linkAccept')}</button>
        <button type="button" class="secondary" onClick={onCancel}>{t('cancel')}</button>
      </div>
    </form>
  );
}

interface Pair { siteId: string; partnerSiteId: string }

/** Proposing a link, or a change to one (?replaces=id): it takes effect when the other side accepts. */
export function ProposeLinkPage() {
  const t = useT();
  const { me, lang } = useAppState();
  const replaces = new URLSearchParams(location.search).get('replaces');
  const organisationId = me?.organisation.id ?? '';
  const [partners, setPartners] = useState<Partner[]>([]);
  const [sites, setSites] = useState<SiteRef[]>([]);
  const [types, setTypes] = useState<AlarmType[]>([]);
  const [groups, setGroups] = useState<Record<string, AlarmGroup[]>>({});
  const [partnerId, setPartnerId] = useState('');
  const [pairs, setPairs] = useState<Pair[]>([{ siteId: '', partnerSiteId: '' }]);
  const [outgoing, setOutgoing] = useState<Set<string>>(new Set());
  const [incoming, setIncoming] = useState<Set<string>>(new Set());
  const [receiving, setReceiving] = useState<Set<string>>(new Set());
  const [sharePresser, setSharePresser] = useState(false);
  const [reviewAt, setReviewAt] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!organisationId) return;
    void api<{ organisations: Partner[] }>('GET', '/link-partners').then((r) => setPartners(r.organisations), (e: unknown) => setError(errorText(e)));
    void api<{ sites: SiteRef[] }>('GET', `/organisations/${organisationId}/sites`).then((r) => setSites(r.sites), () => undefined);
    void api<{ alarmTypes: AlarmType[] }>('GET', `/organisations/${organisationId}/alarm-types`).then((r) => setTypes(r.alarmTypes), () => undefined);
    if (!replaces) return;
    void api<LinkView>('GET', `/links/${replaces}`).then((l) => {
      setPartnerId(theirs(l).organisationId);
      setPairs(l.pairs.map((p) => (l.side === 'proposer'
        ? { siteId: p.proposerSite.id, partnerSiteId: p.partnerSite.id } : { siteId: p.partnerSite.id, partnerSiteId: p.proposerSite.id })));
      const out = l.directions.find((d) => fromSide(d.direction) === l.side);
      const inc = l.directions.find((d) => fromSide(d.direction) !== l.side);
      setOutgoing(new Set(out?.alarmTypes.map((a) => a.id)));
      setIncoming(new Set(inc?.alarmTypes.map((a) => a.id)));
      setReceiving(new Set(inc?.receiving.flatMap((r) => r.groups?.map((g) => g.id) ?? [])));
      setSharePresser(l.sharePresserName);
    }, (e: unknown) => setError(errorText(e)));
  }, [organisationId, replaces]);

  const ownSites = [...new Set(pairs.map((p) => p.siteId).filter(Boolean))];
  useEffect(() => {
    for (const siteId of ownSites) {
      if (groups[siteId]) continue;
      void api<{ alarmGroups: AlarmGroup[] }>('GET', `/sites/${siteId}/alarm-groups`).then((r) => setGroups((g) => ({ ...g, [siteId]: r.alarmGroups })), () => undefined);
    }
  }, [ownSites.join(',')]);

  if (!me || !mayPropose(me)) return <Page title={t('linkPropose')}><p>{t('noAdminRights')}</p></Page>;
  const partner = partners.find((p) => p.id === partnerId);
  const toggle = (set: Set<string>, update: (s: Set<string>) => void, id: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(id);
    else next.delete(id);
    update(next);
  };
  const setPair = (i: number, patch: Partial<Pair>) => setPairs((list) => list.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  const typeBoxes = (list: AlarmType[], set: Set<string>, update: (s: Set<string>) => void, prefix: string) => list.map((a) => (
    <p class="check" key={a.id}>
      <input id={`${prefix}-${a.id}`} type="checkbox" checked={set.has(a.id)} onChange={(e) => toggle(set, update, a.id, e.currentTarget.checked)} />
      <label for={`${prefix}-${a.id}`}>{pick(lang, a.label)}</label>
    </p>
  ));

  const submit = async () => {
    const body = {
      partnerOrganisationId: partnerId,
      pairs: pairs.filter((p) => p.siteId && p.partnerSiteId),
      outgoingAlarmTypeIds: [...outgoing],
      incomingAlarmTypeIds: [...incoming],
      incomingReceivingGroups: incoming.size
        ? ownSites.map((siteId) => ({ siteId, groupIds: (groups[siteId] ?? []).filter((g) => receiving.has(g.id)).map((g) => g.id) })).filter((g) => g.groupIds.length)
        : [],
      sharePresserName: sharePresser,
      ...(reviewAt ? { reviewAt } : {}),
      ...(replaces ? { replacesLinkId: replaces } : {}),
      note: note.trim() || null,
    };
    try {
      await api('POST', `/organisations/${organisationId}/links`, body);
      navigate('/admin/links');
    } catch (err) {
      setError(errorText(err));
    }
  };

  const fieldKey: TextKey = replaces ? 'linkProposeChange' : 'linkPropose';
  return (
    <Page title={t(fieldKey)}>
      {replaces && <p class="help">{t('linkReplaces')}</p>}
      <form class="stack" onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}>
        <label for="partner">{t('linkPartner')}</label>
        <select id="partner" required value={partnerId} disabled={Boolean(replaces)} onChange={(e) => setPartnerId(e.currentTarget.value)}>
          <option value="" />
          {partners.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
        {pairs.map((p, i) => (
          <div class="row pair" key={i}>
            <p class="stack">
              <label for={`own-${i}`}>{t('linkOurSite')}</label>
              <select id={`own-${i}`} required value={p.siteId} onChange={(e) => setPair(i, { siteId: e.currentTarget.value })}>
                <option value="" />
                {sites.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
              </select>
            </p>
            <p class="stack">
              <label for={`their-${i}`}>{t('linkTheirSite')}</label>
              <select id={`their-${i}`} required value={p.partnerSiteId} onChange={(e) => setPair(i, { partnerSiteId: e.currentTarget.value })}>
                <option value="" />
                {partner?.sites.map((s) => <option key={s.id} value={s.id}>{s.name}{s.address ? ` (${s.address})` : ''}</option>)}
              </select>
            </p>
          </div>
        ))}
        <button type="button" class="secondary" onClick={() => setPairs((list) => [...list, { siteId: '', partnerSiteId: '' }])}>{t('linkAddPair')}</button>
        <fieldset>
          <legend>{t('linkOutgoing')}</legend>
          {typeBoxes(types.filter((a) => !a.archived), outgoing, setOutgoing, 'out')}
        </fieldset>
        <fieldset>
          <legend>{t('linkIncoming')}</legend>
          {typeBoxes(types.filter((a) => a.builtIn), incoming, setIncoming, 'in')}
        </fieldset>
        {incoming.size > 0 && ownSites.map((siteId) => (
          <fieldset key={siteId}>
            <legend>{t('linkOurGroups', { site: sites.find((s) => s.id === siteId)?.name ?? '' })}</legend>
            {(groups[siteId] ?? []).map((g) => (
              <p class="check" key={g.id}>
                <input id={`recv-${g.id}`} type="checkbox" checked={receiving.has(g.id)} onChange={(e) => toggle(receiving, setReceiving, g.id, e.currentTarget.checked)} />
                <label for={`recv-${g.id}`}>{g.name}</label>
              </p>
            ))}
          </fieldset>
        ))}
        <p class="check">
          <input id="share-presser" type="checkbox" checked={sharePresser} onChange={(e) => setSharePresser(e.currentTarget.checked)} />
          <label for="share-presser">{t('linkSharePresser')}</label>
        </p>
        <label for="review-at">{t('linkReviewDate')}</label>
        <input id="review-at" type="date" value={reviewAt} onInput={(e) => setReviewAt(e.currentTarget.value)} />
        <label for="note">{t('linkNoteLabel')}</label>
        <textarea id="note" rows={2} maxLength={1000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        {error && <ErrorText>{error}</ErrorText>}
        <button type="submit" class="primary" disabled={!partnerId || (outgoing.size + incoming.size === 0)}>{t('linkSendProposal')}</button>
      </form>
      <p><a href="/admin/links" onClick={link('/admin/links')}>{t('back')}</a></p>
    </Page>
  );
}
