import type pg from 'pg';
import { startNewEpoch } from '../../src/modules/alarms/events.js';

/**
 * A database restored from a backup taken when the timeline's last event was `backup`, simulated: the events
 * after it are gone, the sequence is back where it was (their ids will be handed out again), and the restore
 * procedure (the README's restore steps end with npm run db:new-epoch) starts a new epoch. Returns the new epoch.
 */
export async function simulateRestore(db: pg.Pool, backup: bigint): Promise<string> {
  const admin = await db.connect();
  try {
    await admin.query('BEGIN');
    await admin.query('SET LOCAL session_replication_role = replica');
    // Nothing writes during a restore: writers in flight finish first (their events are among those gone), later
    // ones wait and take their ids from the restored sequence.
    await admin.query('LOCK TABLE incident_events IN ACCESS EXCLUSIVE MODE');
    await admin.query('DELETE FROM incident_events WHERE id > $1', [backup.toString()]);
    await admin.query("SELECT setval('incident_events_id_seq', $1)", [backup.toString()]);
    await admin.query('COMMIT');
  } finally {
    admin.release();
  }
  return startNewEpoch(db);
}
