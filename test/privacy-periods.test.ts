import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { before, incidentBound, retentionBounds, runIsDue } from '../src/modules/privacy/periods.js';

/** The retention job's decisions that need no database: what "past its period" means, and when a run is due. */

const at = (iso: string) => new Date(iso);

describe('retention periods', () => {
  it('counts days as 24 hours and months and years in the calendar, a missing day becoming the month\'s last', () => {
    expect(before(at('2025-03-31T10:00:00Z'), { days: 30 })).toEqual(at('2025-03-01T10:00:00Z'));
    expect(before(at('2025-03-31T10:00:00Z'), { months: 1 })).toEqual(at('2025-02-28T10:00:00Z'));
    expect(before(at('2024-03-31T10:00:00Z'), { months: 1 })).toEqual(at('2024-02-29T10:00:00Z'));
    expect(before(at('2025-01-15T00:00:00Z'), { months: 13 })).toEqual(at('2023-12-15T00:00:00Z'));
    expect(before(at('2024-02-29T12:00:00Z'), { years: 1 })).toEqual(at('2023-02-28T12:00:00Z'));
    expect(before(at('2025-06-01T00:00:00Z'), {})).toEqual(at('2025-06-01T00:00:00Z'));
  });

  it('gives every class of data its bound from the configuration, with the documented defaults', () => {
    const bounds = retentionBounds(at('2025-06-15T12:00:00Z'), loadConfig({}));
    expect(bounds).toEqual({
      sessions: at('2025-05-16T12:00:00Z'),
      loginFailures: at('2025-05-16T12:00:00Z'),
      deliveries: at('2025-03-15T12:00:00Z'),
      freeText: at('2024-06-15T12:00:00Z'),
      auditLog: at('2020-06-15T12:00:00Z'),
      pseudonymise: at('2025-03-17T12:00:00Z'),
    });
    const short = retentionBounds(at('2025-06-15T12:00:00Z'), loadConfig({ RETENTION_SESSIONS_DAYS: '1', RETENTION_FREE_TEXT_MONTHS: '2' }));
    expect(short.sessions).toEqual(at('2025-06-14T12:00:00Z'));
    expect(short.freeText).toEqual(at('2025-04-15T12:00:00Z'));
  });

  it('keeps incidents unless the organisation, or for those that have not decided the deployment, says for how many years', () => {
    const now = at('2025-06-15T12:00:00Z');
    const kept = loadConfig({});
    const tenYears = loadConfig({ RETENTION_INCIDENTS_YEARS: '10' });
    expect(incidentBound(now, { keep: 'default' }, kept)).toBeNull();
    expect(incidentBound(now, { keep: 'default' }, tenYears)).toEqual(at('2015-06-15T12:00:00Z'));
    expect(incidentBound(now, { keep: 'forever' }, tenYears)).toBeNull();
    expect(incidentBound(now, { keep: 'years', years: 3 }, kept)).toEqual(at('2022-06-15T12:00:00Z'));
  });

  it('is due when no run has finished, or the last one started at least an interval ago', () => {
    const config = loadConfig({ RETENTION_INTERVAL_HOURS: '24' });
    const now = at('2025-06-15T12:00:00Z');
    expect(runIsDue(null, now, config)).toBe(true);
    expect(runIsDue(at('2025-06-14T12:00:01Z'), now, config)).toBe(false);
    expect(runIsDue(at('2025-06-14T12:00:00Z'), now, config)).toBe(true);
  });

  it('refuses periods out of range, and failed sign-ins kept shorter than the lockout that counts them', () => {
    expect(() => loadConfig({ RETENTION_AUDIT_LOG_YEARS: '0' })).toThrow(/RETENTION_AUDIT_LOG_YEARS/);
    expect(() => loadConfig({ RETENTION_INCIDENTS_YEARS: 'never' })).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_LOGIN_FAILURES_DAYS: '1', LOGIN_LOCKOUT_MINUTES: '2000' })).toThrow(/RETENTION_LOGIN_FAILURES_DAYS: must cover LOGIN_LOCKOUT_MINUTES/);
    expect(loadConfig({ RETENTION_JOB: 'false', RETENTION_INCIDENTS_YEARS: '7' })).toMatchObject({ RETENTION_JOB: false, RETENTION_INCIDENTS_YEARS: 7 });
  });
});
