import type { Config } from '../../config/config.js';
import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { recordAudit } from '../audit/audit.js';
import { canManageRetention, type Principal } from '../auth/policies.js';
import { visibleOrganisation } from '../organisations/organisations.js';
import { incidentRetentionOf, setIncidentRetention, type IncidentRetention } from '../organisations/retention.js';
import { incidentYears } from './periods.js';

const SETTINGS_SQL = {
  lastRun: `
    SELECT started_at AS "startedAt", finished_at AS "finishedAt" FROM retention_runs
     WHERE finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1`,
} as const;

/** What an organisation's data is kept for: the deployment's periods and its own decision on incidents. */
export interface RetentionView {
  organisationId: string;
  incidents: IncidentRetention & { effectiveYears: number | null };
  sessionsDays: number;
  loginFailuresDays: number;
  deliveriesMonths: number;
  freeTextMonths: number;
  auditLogYears: number;
  pseudonymiseAfterDays: number;
  lastRun: { startedAt: Date; finishedAt: Date } | null;
}

async function view(db: Queryable, config: Config, organisationId: string): Promise<RetentionView> {
  const retention = await incidentRetentionOf(db, organisationId);
  if (!retention) throw new AppError('not_found');
  return {
    organisationId,
    incidents: { ...retention, effectiveYears: incidentYears(retention, config) },
    sessionsDays: config.RETENTION_SESSIONS_DAYS,
    loginFailuresDays: config.RETENTION_LOGIN_FAILURES_DAYS,
    deliveriesMonths: config.RETENTION_DELIVERIES_MONTHS,
    freeTextMonths: config.RETENTION_FREE_TEXT_MONTHS,
    auditLogYears: config.RETENTION_AUDIT_LOG_YEARS,
    pseudonymiseAfterDays: config.RETENTION_PSEUDONYMISE_AFTER_DAYS,
    lastRun: (await db.query<{ startedAt: Date; finishedAt: Date }>(SETTINGS_SQL.lastRun)).rows[0] ?? null,
  };
}

export async function retentionOf(db: Db, config: Config, principal: Principal, organisationId: string): Promise<RetentionView> {
  await visibleOrganisation(db, principal, organisationId);
  if (!canManageRetention(principal, organisationId)) throw new AppError('forbidden');
  return view(db, config, organisationId);
}

/** The organisation decides whether its incidents are kept (e.g. as public records) or for how many years. */
export async function changeIncidentRetention(
  db: Db, config: Config, principal: Principal, organisationId: string, retention: IncidentRetention, requestId: string,
): Promise<RetentionView> {
  return inTransaction(db, async (tx) => {
    await visibleOrganisation(tx, principal, organisationId, true);
    if (!canManageRetention(principal, organisationId)) throw new AppError('forbidden');
    const before = await incidentRetentionOf(tx, organisationId);
    await setIncidentRetention(tx, organisationId, retention);
    await recordAudit(tx, {
      organisationId, actorPersonId: principal.personId, action: 'organisation.incident_retention_changed',
      entityType: 'organisation', entityId: organisationId, before, after: retention, requestId,
    });
    return view(tx, config, organisationId);
  });
}
