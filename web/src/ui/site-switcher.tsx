import { chooseSite, useAdminSites } from '../lib/admin.ts';
import { useT } from '../lib/store.ts';

/** In the header, for anyone with rights at several sites: which one the admin pages work on. */
export function SiteSwitcher() {
  const t = useT();
  const { sites, site } = useAdminSites();
  if (!sites || sites.length < 2 || !site) return null;
  return (
    <span class="site-switcher">
      <label for="site-switcher" class="sr-only">{t('siteSwitcher')}</label>
      <select id="site-switcher" value={site.id} onChange={(e) => chooseSite(e.currentTarget.value)}>
        {sites.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
      </select>
    </span>
  );
}
