import { useEffect, useState } from 'preact/hooks';
import { ApiError, NetworkError, api } from './api.ts';
import { storedToken } from './session.ts';
import { isAdminAt, isLeadAt, useAppState } from './store.ts';
import type { Me } from './types.ts';

/** A site as the admin pages show it. */
export interface AdminSite {
  id: string; organisationId: string; name: string; kind: string; address: string | null;
  buildingNotes: string | null; floorNotes: string | null; assemblyPoint: string | null;
}

export const isOrgAdmin = (me: Me | null): boolean =>
  me?.person.roles.some((r) => r.role === 'org_admin' || r.role === 'system_admin') ?? false;

/** Rektorer (organisation-wide or per site) and organisation admins: those who manage people. */
export const managesPeople = (me: Me | null): boolean =>
  isOrgAdmin(me) || (me?.person.roles.some((r) => r.role === 'site_admin') ?? false);

const SITE_KEY = 'samlarm.adminSite';
const listeners = new Set<() => void>();
let sitesCache: { organisationId: string; sites: AdminSite[] } | null = null;

/** Forgets the organisation's sites (after adding or changing one), so every page loads them again. */
export function reloadSites(): void {
  sitesCache = null;
  listeners.forEach((l) => l());
}

export function chooseSite(id: string): void {
  localStorage.setItem(SITE_KEY, id);
  listeners.forEach((l) => l());
}

/**
 * The sites the person administers or leads (all of the organisation's for organisation admins),
 * and the one the admin pages work on: chosen in the header's site switcher, remembered on the device.
 */
export function useAdminSites(): { sites: AdminSite[] | null; site: AdminSite | null; canEdit: boolean } {
  const { me } = useAppState();
  const [, force] = useState(0);
  useEffect(() => {
    const listener = () => force((n) => n + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  useEffect(() => {
    if (!me || sitesCache?.organisationId === me.organisation.id) return;
    void api<{ sites: AdminSite[] }>('GET', `/organisations/${me.organisation.id}/sites`).then((r) => {
      sitesCache = { organisationId: me.organisation.id, sites: r.sites };
      listeners.forEach((l) => l());
    }, () => undefined);
  }, [me?.organisation.id, sitesCache === null]);
  if (!me || sitesCache?.organisationId !== me.organisation.id) return { sites: null, site: null, canEdit: false };
  const sites = sitesCache.sites.filter((s) => isAdminAt(me, s.id) || isLeadAt(me, s.id));
  const chosen = localStorage.getItem(SITE_KEY);
  const site = sites.find((s) => s.id === chosen) ?? sites.find((s) => isAdminAt(me, s.id)) ?? sites[0] ?? null;
  return { sites, site, canEdit: site ? isAdminAt(me, site.id) : false };
}

/** Sends a CSV file to the import (the one request that is not JSON); errors as api() gives them. */
export async function postCsv<T>(path: string, file: Blob): Promise<T> {
  const token = storedToken();
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: 'POST', body: file, cache: 'no-store',
      headers: { 'content-type': 'text/csv', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  } catch (err) {
    throw new NetworkError(err instanceof Error ? err.message : 'network error');
  }
  const body = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string };
  if (!res.ok) throw new ApiError(res.status, body.code ?? `http_${res.status}`, body.message ?? res.statusText);
  return body;
}

/** A link the server gave as a path (no PUBLIC_URL) made absolute for this browser. */
export const absolute = (url: string): string => (url.startsWith('/') ? `${location.origin}${url}` : url);
