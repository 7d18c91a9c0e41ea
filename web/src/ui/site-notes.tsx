import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { pick } from '../lib/i18n.ts';
import { useAppState, useT } from '../lib/store.ts';

interface SiteInfo { assemblyPoint: string | null; buildingNotes: string | null; floorNotes: string | null }
interface SiteInstruction { alarmTypeId: string; instruction: { sv: string; en: string } }

/** With an alarm: the site's own instruction for the alarm type and its assembly point, where the site has them. */
export function SiteAlarmNotes({ siteId, alarmTypeId }: { siteId: string; alarmTypeId: string }) {
  const t = useT();
  const { lang } = useAppState();
  const [site, setSite] = useState<SiteInfo | null>(null);
  const [instruction, setInstruction] = useState<{ sv: string; en: string } | null>(null);
  useEffect(() => {
    void api<SiteInfo>('GET', `/sites/${siteId}`).then(setSite, () => undefined);
    void api<{ instructions: SiteInstruction[] }>('GET', `/sites/${siteId}/alarm-instructions`)
      .then((r) => setInstruction(r.instructions.find((i) => i.alarmTypeId === alarmTypeId)?.instruction ?? null), () => undefined);
  }, [siteId, alarmTypeId]);
  if (!instruction && !site?.assemblyPoint) return null;
  return (
    <div class="site-notes">
      {instruction && <p class="instruction site-instruction">{pick(lang, instruction)}</p>}
      {site?.assemblyPoint && <p><strong>{t('assemblyPoint')}:</strong> {site.assemblyPoint}</p>}
    </div>
  );
}
