import type { Log } from '../lib/log.js';
import type { Queryable } from './pool.js';

const SETTINGS_SQL = {
  // No row before PostgreSQL 12, which always zero-fills: nothing to advise there but an upgrade.
  walInitZero: "SELECT setting FROM pg_settings WHERE name = 'wal_init_zero'",
} as const;

/**
 * Says once, at start, which settings of the node's PostgreSQL hold up alarms, with the remedy: a warning, not a
 * refusal, since the node works as it is, only slower at the moments that matter. Never fails the start.
 */
export async function adviseOnSettings(db: Queryable, log: Log): Promise<void> {
  try {
    const walInitZero = (await db.query<{ setting: string }>(SETTINGS_SQL.walInitZero)).rows[0]?.setting;
    if (walInitZero === 'on') {
      log.warn(
        { setting: 'wal_init_zero', value: 'on' },
        'PostgreSQL fills each new WAL file with 16 MB of zeros while the commit that needs it waits (15-60 ms measured): set wal_init_zero = off (README, ADR 040)',
      );
    }
  } catch (err) {
    log.debug({ err }, 'could not read the PostgreSQL settings to advise on');
  }
}
