import type { Config } from '../../config/config.js';
import type { IncidentRetention } from '../organisations/retention.js';

/** The retention periods of the deployment (README, docs/PRIVACY.md). */
export type RetentionConfig = Pick<Config,
  'RETENTION_SESSIONS_DAYS' | 'RETENTION_LOGIN_FAILURES_DAYS' | 'RETENTION_DELIVERIES_MONTHS' | 'RETENTION_FREE_TEXT_MONTHS'
  | 'RETENTION_INCIDENTS_YEARS' | 'RETENTION_AUDIT_LOG_YEARS' | 'RETENTION_PSEUDONYMISE_AFTER_DAYS' | 'RETENTION_INTERVAL_HOURS'>;

/** For each class of data, the moment before which it is past its period. */
export interface Bounds {
  /** Sessions that ended before it are deleted. */
  sessions: Date;
  loginFailures: Date;
  /** Outbox rows, finished escalation steps and delivery attempts from before it are deleted. */
  deliveries: Date;
  /** Incidents that ended before it have their location texts and free-text answers blanked. */
  freeText: Date;
  auditLog: Date;
  /** People deactivated before it are pseudonymised. */
  pseudonymise: Date;
}

const DAY_MS = 86_400_000;

/**
 * `now` minus whole days (24 hours) or calendar months and years, in UTC. A day the target month
 * does not have becomes its last day (31 March minus one month is the last day of February).
 */
export function before(now: Date, amount: { days?: number; months?: number; years?: number }): Date {
  const shifted = new Date(now.getTime() - (amount.days ?? 0) * DAY_MS);
  const months = (amount.months ?? 0) + 12 * (amount.years ?? 0);
  if (months === 0) return shifted;
  const year = shifted.getUTCFullYear();
  const month = shifted.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  shifted.setUTCFullYear(year, month, Math.min(shifted.getUTCDate(), lastDay));
  return shifted;
}

export function retentionBounds(now: Date, config: RetentionConfig): Bounds {
  return {
    sessions: before(now, { days: config.RETENTION_SESSIONS_DAYS }),
    loginFailures: before(now, { days: config.RETENTION_LOGIN_FAILURES_DAYS }),
    deliveries: before(now, { months: config.RETENTION_DELIVERIES_MONTHS }),
    freeText: before(now, { months: config.RETENTION_FREE_TEXT_MONTHS }),
    auditLog: before(now, { years: config.RETENTION_AUDIT_LOG_YEARS }),
    pseudonymise: before(now, { days: config.RETENTION_PSEUDONYMISE_AFTER_DAYS }),
  };
}

/** How many years an organisation keeps its incidents after they ended; null: kept. */
export function incidentYears(retention: IncidentRetention, config: RetentionConfig): number | null {
  if (retention.keep === 'years') return retention.years;
  if (retention.keep === 'forever') return null;
  return config.RETENTION_INCIDENTS_YEARS ?? null;
}

/** Incidents of the organisation that ended before this are deleted; null: none are. */
export function incidentBound(now: Date, retention: IncidentRetention, config: RetentionConfig): Date | null {
  const years = incidentYears(retention, config);
  return years === null ? null : before(now, { years });
}

/** A run is due when none has finished yet, or the last one started an interval ago. */
export function runIsDue(lastStartedAt: Date | null, now: Date, config: Pick<RetentionConfig, 'RETENTION_INTERVAL_HOURS'>): boolean {
  return lastStartedAt === null || now.getTime() - lastStartedAt.getTime() >= config.RETENTION_INTERVAL_HOURS * 3_600_000;
}
