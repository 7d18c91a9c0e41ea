import type { Queryable } from '../../db/pool.js';
import type { ResponseStatus } from '../../contract/alarms.js';
import type { ResyncReason } from '../../contract/realtime.js';
import { eventsSince, timelinePosition, type IncidentEvent, type TimelinePosition } from './events.js';
import { loadIncident, type Incident } from './incidents.js';
import { siteInstruction, type SiteInstruction } from './instruction.js';

/** More missed events than this and a device gets the current state instead of the history. */
export const CATCH_UP_LIMIT = 500;

export interface ActiveIncidentState {
  incident: Incident;
  instruction: SiteInstruction | null;
  messages: { id: string; authorId: string; authorName: string; body: string; at: Date }[];
  myStatus: ResponseStatus | null;
}

/** Every answer names the epoch its cursor belongs to (ADR 029): the device keeps both. */
export type CatchUp =
  | { kind: 'events'; epoch: string; cursor: string; events: IncidentEvent[] }
  | { kind: 'resync'; epoch: string; cursor: string; reason: ResyncReason; incidents: ActiveIncidentState[] };

/** Where a device is: its cursor and the epoch that cursor came from (null for a device without either). */
export interface DevicePosition { cursor: string | null; epoch: string | null }

const CATCH_UP_SQL = {
  activeFor: `
    SELECT i.id FROM incident_recipients r JOIN incidents i ON i.id = r.incident_id
     WHERE r.person_id = $1 AND i.state = 'active' ORDER BY i.raised_at`,
  instructions: `
    SELECT m.id, m.author_id AS "authorId", p.name AS "authorName", m.body, m.at
      FROM incident_messages m JOIN people p ON p.id = m.author_id
     WHERE m.incident_id = $1 AND m.kind = 'instruction' ORDER BY m.at`,
  myStatus: `SELECT status FROM incident_responses WHERE incident_id = $1 AND person_id = $2 ORDER BY id DESC LIMIT 1`,
} as const;

async function activeState(db: Queryable, personId: string): Promise<ActiveIncidentState[]> {
  const ids = (await db.query<{ id: string }>(CATCH_UP_SQL.activeFor, [personId])).rows.map((r) => r.id);
  return Promise.all(ids.map(async (id) => {
    const incident = await loadIncident(db, id);
    const [instruction, messages, status] = await Promise.all([
      siteInstruction(db, incident.siteId),
      db.query<ActiveIncidentState['messages'][number]>(CATCH_UP_SQL.instructions, [id]),
      db.query<{ status: ResponseStatus }>(CATCH_UP_SQL.myStatus, [id, personId]),
    ]);
    return { incident, instruction, messages: messages.rows, myStatus: status.rows[0]?.status ?? null };
  }));
}

/**
 * What a device missed since its cursor (invariant 3). A device without a cursor, with one from
 * another epoch (a database restored from a backup reuses event ids: ADR 029), with one this server
 * never issued, or too far behind gets an explicit resync of the active incidents, never a silent
 * gap. The resync's cursor is read before the state, so nothing falls between them.
 */
export async function catchUp(db: Queryable, personId: string, device: DevicePosition): Promise<CatchUp> {
  const { cursor } = device;
  if (cursor === null) return resync(db, personId, 'no_cursor');
  // One round trip for the usual case, a device a few events behind (a storm of reconnections is thousands of these).
  const { position: latest, events } = await eventsSince(db, personId, { cursor, epoch: device.epoch }, CATCH_UP_LIMIT + 1);
  if (device.epoch !== latest.epoch) return resync(db, personId, 'other_epoch', latest);
  if (BigInt(cursor) > BigInt(latest.id)) return resync(db, personId, 'unknown_cursor', latest);
  if (events.length > CATCH_UP_LIMIT) return resync(db, personId, 'too_far_behind', latest);
  return { kind: 'events', epoch: latest.epoch, cursor: events.at(-1)?.id ?? cursor, events };
}

/**
 * The current state of every active incident the person is part of. The cursor is read before the
 * state (pass it in, or it is read here), so nothing falls between them.
 */
export async function resync(db: Queryable, personId: string, reason: ResyncReason, position?: TimelinePosition): Promise<CatchUp> {
  const latest = position ?? (await timelinePosition(db));
  return { kind: 'resync', epoch: latest.epoch, cursor: latest.id, reason, incidents: await activeState(db, personId) };
}
