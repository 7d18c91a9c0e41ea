import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { canManageSite, type Principal } from '../auth/policies.js';
import { visibleSite } from '../sites/sites.js';
import { allAlarmTypesUsable } from './alarm-types.js';

/** A site's own words for an alarm type, shown with the alarm next to the type's instruction. */
export interface SiteAlarmInstruction {
  alarmTypeId: string;
  instruction: { sv: string; en: string };
  updatedAt: Date;
}

export const SITE_INSTRUCTION_SQL = {
  bySite: `
    SELECT i.alarm_type_id AS "alarmTypeId", json_build_object('sv', i.instruction_sv, 'en', i.instruction_en) AS instruction,
           i.updated_at AS "updatedAt"
      FROM site_alarm_instructions i JOIN alarm_types t ON t.id = i.alarm_type_id
     WHERE i.site_id = $1
     ORDER BY t.precedence DESC, t.key`,
  one: `
    SELECT alarm_type_id AS "alarmTypeId", json_build_object('sv', instruction_sv, 'en', instruction_en) AS instruction,
           updated_at AS "updatedAt"
      FROM site_alarm_instructions WHERE site_id = $1 AND alarm_type_id = $2`,
  upsert: `
    INSERT INTO site_alarm_instructions (site_id, alarm_type_id, organisation_id, instruction_sv, instruction_en)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (site_id, alarm_type_id) DO UPDATE SET instruction_sv = $4, instruction_en = $5, updated_at = now()`,
  delete: 'DELETE FROM site_alarm_instructions WHERE site_id = $1 AND alarm_type_id = $2',
} as const;

/** Everyone who can see the site reads them: they are what staff must do there. */
export async function siteInstructions(db: Queryable, principal: Principal, siteId: string): Promise<SiteAlarmInstruction[]> {
  const site = await visibleSite(db, principal, siteId);
  return (await db.query<SiteAlarmInstruction>(SITE_INSTRUCTION_SQL.bySite, [site.id])).rows;
}

/** Sets (or with null, removes) a site's instruction for an alarm type: its rektor or an organisation admin. */
export async function setSiteInstruction(
  db: Db, principal: Principal, siteId: string, alarmTypeId: string, instruction: { sv: string; en: string } | null, requestId: string,
): Promise<SiteAlarmInstruction | null> {
  return inTransaction(db, async (tx) => {
    const site = await visibleSite(tx, principal, siteId, true);
    if (!canManageSite(principal, site)) throw new AppError('forbidden');
    const typeId = alarmTypeId.toLowerCase();
    if (!(await allAlarmTypesUsable(tx, site.organisationId, [typeId]))) {
      throw new AppError('invalid_reference', { sv: 'Larmtypen finns inte, är arkiverad eller hör till en annan organisation.', en: 'The alarm type does not exist, is archived or belongs to another organisation.' });
    }
    const before = (await tx.query<SiteAlarmInstruction>(SITE_INSTRUCTION_SQL.one, [site.id, typeId])).rows[0] ?? null;
    if (instruction) {
      await tx.query(SITE_INSTRUCTION_SQL.upsert, [site.id, typeId, site.organisationId, instruction.sv, instruction.en]);
    } else {
      await tx.query(SITE_INSTRUCTION_SQL.delete, [site.id, typeId]);
    }
    const after = (await tx.query<SiteAlarmInstruction>(SITE_INSTRUCTION_SQL.one, [site.id, typeId])).rows[0] ?? null;
    await recordAudit(tx, {
      organisationId: site.organisationId, actorPersonId: principal.personId, action: 'site.alarm_instruction_changed',
      entityType: 'site', entityId: site.id,
      before: before && { siteId: site.id, siteName: site.name, ...before },
      after: after && { siteId: site.id, siteName: site.name, ...after },
      requestId,
    });
    return after;
  });
}
