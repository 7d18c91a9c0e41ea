import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useT } from '../lib/store.ts';
import type { Me } from '../lib/types.ts';
import { ErrorText } from './components.tsx';

/**
 * The review pages are loaded only when opened: a phone starting the app in an emergency does not
 * download the review and statistics pages first.
 */

const REVIEW_ROLES = new Set(['org_admin', 'system_admin', 'site_admin', 'crisis_lead', 'reviewer']);

/** Reads reviews somewhere (policies.ts reviewSiteIds): leads, rektorer, organisation admins and reviewers. */
export const readsReviews = (me: Me | null): boolean => me?.person.roles.some((r) => REVIEW_ROLES.has(r.role)) ?? false;

function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>) {
  return function LazyPage(props: P) {
    const t = useT();
    const [Page, setPage] = useState<ComponentType<P> | null>(null);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      load().then((page) => setPage(() => page), () => setFailed(true));
    }, []);
    if (Page) return <Page {...props} />;
    return <main id="main">{failed ? <ErrorText>{t('errNetwork')}</ErrorText> : <p role="status">{t('loading')}</p>}</main>;
  };
}

export const ReviewPage = lazyPage(() => import('./review.tsx').then((m) => m.ReviewPage));
export const StatisticsPage = lazyPage(() => import('./statistics.tsx').then((m) => m.StatisticsPage));
