import { useEffect, useState } from 'preact/hooks';
import { translate, type TextKey } from './i18n.ts';
import type { IncidentView } from './realtime/reducer.ts';
import type { Incident, Instruction, Lang, Me, RollCallSummary, SiteInstructionNotice } from './types.ts';

export type { IncidentView } from './realtime/reducer.ts';

export type Connection = 'offline' | 'connecting' | 'connected';

export interface AppState {
  lang: Lang;
  me: Me | null;
  connection: Connection;
  incidents: Record<string, IncidentView>;
  /** The one current instruction per site (DESIGN invariant 5), null when nothing is active. */
  instructions: Record<string, Instruction | null>;
  rollcalls: Record<string, RollCallSummary>;
  /** The instruction at each site the person works at, as `site_instruction` last said (ADR 027). */
  siteInstructions: Record<string, SiteInstructionNotice>;
  /** An organisation admin's live list: their organisation's active incidents (`org_incident`). */
  orgIncidents: Record<string, Incident>;
  /** Bumped when something a lead's roll call shows has changed, so open roll calls reload. */
  rollcallVersion: Record<string, number>;
  /** Why the sign-in page is shown, when it was not the person's own choice. */
  notice: 'signedOutElsewhere' | null;
  /** The browser lets the app make sound (only after a first touch or key press since the page loaded). */
  soundReady: boolean;
}

const LANG_KEY = 'samlarm.lang';
const savedLang = localStorage.getItem(LANG_KEY);

let state: AppState = {
  lang: savedLang === 'en' ? 'en' : 'sv',
  me: null,
  connection: 'offline',
  incidents: {},
  instructions: {},
  rollcalls: {},
  siteInstructions: {},
  orgIncidents: {},
  rollcallVersion: {},
  notice: null,
  soundReady: false,
};
const listeners = new Set<() => void>();

export const getState = (): AppState => state;

export function setState(update: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
  const patch = typeof update === 'function' ? update(state) : update;
  state = { ...state, ...patch };
  if (patch.lang) {
    localStorage.setItem(LANG_KEY, patch.lang);
    document.documentElement.lang = patch.lang;
  }
  for (const l of listeners) l();
}

export function useAppState(): AppState {
  const [, force] = useState(0);
  const rendered = state;
  useEffect(() => {
    const listener = () => force((n) => n + 1);
    listeners.add(listener);
    // Effects run after the next paint: a change between the render and here would otherwise not be
    // shown until the next one.
    if (state !== rendered) listener();
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return state;
}

/** The translation function for the current language. */
export function useT(): (key: TextKey, vars?: Record<string, string | number>) => string {
  const { lang } = useAppState();
  return (key, vars) => translate(lang, key, vars);
}

const LEAD_ROLES = new Set(['site_admin', 'crisis_lead']);

/** Leads a site's incidents (policies.ts isIncidentLead): its rektor or crisis lead, or an organisation admin. */
export function isLeadAt(me: Me | null, siteId: string): boolean {
  if (!me) return false;
  return me.person.roles.some((r) => r.role === 'org_admin' || (LEAD_ROLES.has(r.role) && (r.siteId === null || r.siteId === siteId)));
}

/** Manages a site's alarm groups (policies.ts): its rektor or an organisation admin. */
export function isAdminAt(me: Me | null, siteId: string): boolean {
  if (!me) return false;
  return me.person.roles.some((r) => r.role === 'org_admin' || r.role === 'system_admin' || (r.role === 'site_admin' && (r.siteId === null || r.siteId === siteId)));
}
