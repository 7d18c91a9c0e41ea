import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { pick } from '../lib/i18n.ts';
import { useAppState, useT } from '../lib/store.ts';
import type { AlarmType, Bilingual, Incident, RollCallSummary } from '../lib/types.ts';
import { ErrorText, errorMessage } from './components.tsx';

/**
 * Links between organisations where alarms are shown (docs/linking.md): where a linked alarm came
 * from, what the raise screen will also reach, the leads' decision on a held linked alarm, and the
 * source's roll call of linked organisations (counts only).
 */

/** "Larm från Vasaskolan, Utbildningsförvaltningen": on top of a linked alarm, so it cannot be taken for the site's own. */
export function LinkedFromBanner({ incident }: { incident: Incident }) {
  const t = useT();
  const from = incident.linkedFrom;
  if (!from) return null;
  const vars = { site: from.siteName, organisation: from.organisationName };
  return (
    <p class="linked-from" data-linked-from={from.organisationName}>
      <strong>{from.test ? t('linkedTestFrom', vars) : t('linkedFrom', vars)}</strong>
      {from.pressedBy && <> · {t('linkedPressedBy', { name: from.pressedBy })}</>}
    </p>
  );
}

interface HeldAlarm {
  id: string; at: string; drill: boolean; alarmType: { key: string; label: Bilingual };
  from: { organisationName: string; siteName: string }; location: string | null;
}

/** How often a lead's open alarm screen looks for linked alarms held for their decision. */
const HELD_POLL_MS = 5000;

/**
 * For a site's leads: linked alarms held because they contradict what is in force here (a fire during
 * a lockdown). They did not ring; the lead raises one here or declines it.
 */
export function HeldLinkAlarms({ siteId }: { siteId: string }) {
  const t = useT();
  const { lang } = useAppState();
  const [held, setHeld] = useState<HeldAlarm[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = () => void api<{ held: HeldAlarm[] }>('GET', `/sites/${siteId}/held-link-alarms`).then((r) => setHeld(r.held), () => undefined);
  useEffect(() => {
    load();
    const timer = window.setInterval(load, HELD_POLL_MS);
    return () => window.clearInterval(timer);
  }, [siteId]);
  const decide = async (id: string, decision: 'confirm' | 'dismiss') => {
    setBusy(true);
    try {
      await api('POST', `/link-crossings/${id}/${decision}`, decision === 'dismiss' ? {} : undefined);
      setError(null);
    } catch (err) {
      setError(errorMessage(t, err));
    }
    setBusy(false);
    load();
  };
  if (held.length === 0 && !error) return null;
  return (
    <section class="card held-link" aria-live="polite">
      {error && <ErrorText>{error}</ErrorText>}
      {held.map((h) => (
        <div key={h.id} role="alertdialog" aria-labelledby={`held-${h.id}`}>
          <p id={`held-${h.id}`} class="big">
            {h.drill && <strong class="drill-tag">{t('drillBanner')}</strong>} {t('heldTitle', { organisation: h.from.organisationName })}
          </p>
          <p>{t('heldText', { label: pick(lang, h.alarmType.label), site: h.location ?? h.from.siteName })}</p>
          <div class="row">
            <button type="button" class="primary" disabled={busy} onClick={() => void decide(h.id, 'confirm')}>{t('heldConfirm')}</button>
            <button type="button" class="secondary" disabled={busy} onClick={() => void decide(h.id, 'dismiss')}>{t('heldDismiss')}</button>
          </div>
        </div>
      ))}
    </section>
  );
}

interface Reach { alarmTypeId: string; organisations: { organisationId: string; name: string; siteNames: string[] }[] }

/** On the raise screen: which other organisations each alarm will also reach, before anyone presses. */
export function LinkReach({ siteId, types }: { siteId: string; types: AlarmType[] }) {
  const t = useT();
  const { lang } = useAppState();
  const [reach, setReach] = useState<Reach[]>([]);
  useEffect(() => {
    setReach([]);
    if (siteId) void api<{ reach: Reach[] }>('GET', `/sites/${siteId}/link-reach`).then((r) => setReach(r.reach), () => undefined);
  }, [siteId]);
  // One line per set of organisations: "Brand, Utrymning när också Kulturförvaltningen (Vasastadens bibliotek)".
  const lines = new Map<string, string[]>();
  for (const type of types) {
    const entry = reach.find((r) => r.alarmTypeId === type.id);
    if (!entry) continue;
    const organisations = entry.organisations.map((o) => `${o.name} (${o.siteNames.join(', ')})`).join(', ');
    lines.set(organisations, [...(lines.get(organisations) ?? []), pick(lang, type.label)]);
  }
  if (lines.size === 0) return null;
  return (
    <ul class="link-reach" aria-label={t('links')}>
      {[...lines].map(([organisations, labels]) => <li key={organisations}>{t('alsoReaches', { types: labels.join(', '), organisations })}</li>)}
    </ul>
  );
}

interface Linked {
  crossingId: string; organisationName: string; siteName: string;
  state: 'active' | 'ended' | 'ended_early' | 'held' | 'dismissed' | 'lapsed' | 'not_crossed';
  counts: RollCallSummary | null;
}

/**
 * On the lead's roll call: for a source, the linked organisations' counts (never names), kept live by
 * the roll-call summaries; for a linked incident, where it came from and ending it early with a reason.
 */
export function LinkedRollCall({ incidentId }: { incidentId: string }) {
  const t = useT();
  const { rollcalls } = useAppState();
  const [linked, setLinked] = useState<Linked[]>([]);
  const [incident, setIncident] = useState<Incident | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const summary = rollcalls[incidentId];
  useEffect(() => {
    const timer = window.setTimeout(() => {
      void Promise.all([
        api<{ incident: Incident }>('GET', `/incidents/${incidentId}`),
        api<{ linked: Linked[] }>('GET', `/incidents/${incidentId}/rollcall`),
      ]).then(([i, r]) => {
        setIncident(i.incident);
        setLinked(r.linked);
      }, () => undefined);
    }, summary ? 1000 : 0);
    return () => window.clearTimeout(timer);
  }, [incidentId, summary]);

  const from = incident?.linkedFrom;
  return (
    <>
      {incident && from && <LinkedFromBanner incident={incident} />}
      {incident && from && !from.test && incident.state === 'active' && (
        <form class="stack card" onSubmit={(e) => {
          e.preventDefault();
          void api<unknown>('POST', `/incidents/${incidentId}/resolve`, { note: reason.trim() }).then(
            () => setError(null), (err: unknown) => setError(errorMessage(t, err)),
          );
        }}>
          <h2>{t('linkedEndEarly')}</h2>
          <p>{t('linkedEndEarlyHelp', { site: from.siteName })}</p>
          <label for="linked-reason">{t('linkedEndReason')}</label>
          <input id="linked-reason" type="text" required maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <button type="submit" class="secondary" disabled={!reason.trim()}>{t('linkedEndConfirm')}</button>
          {error && <ErrorText>{error}</ErrorText>}
        </form>
      )}
      {linked.length > 0 && (
        <section class="linked-counts" aria-labelledby="linked-title">
          <h2 id="linked-title">{t('linkedCountsTitle')}</h2>
          <ul class="list">
            {linked.map((l) => (
              <li key={l.crossingId} data-linked-organisation={l.organisationName}>
                <strong>{l.organisationName}</strong> ({l.siteName}): {t(`linkedState_${l.state}`)}
                {l.counts && <><br /><span class="counts-line">{t('linkedCounts', { ...l.counts })}</span></>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
