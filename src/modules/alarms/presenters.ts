import type { IncidentView } from '../../contract/alarms.js';
import type { CatchUpPayload } from '../../contract/realtime.js';
import type { CatchUp } from './catch-up.js';
import { envelope } from './events.js';
import type { Incident } from './incidents.js';

/**
 * How the alarm module's results leave the server, over HTTP and over the socket alike: one
 * presenter per shape, so both channels send the same thing.
 */
const iso = (d: Date | string) => new Date(d).toISOString();

export const presentIncident = (i: Incident): IncidentView => ({
  ...i,
  raisedAt: iso(i.raisedAt),
  lastPressedAt: iso(i.lastPressedAt),
  endedAt: i.endedAt ? iso(i.endedAt) : null,
  pressers: i.pressers.map((p) => ({ ...p, pressedAt: iso(p.pressedAt) })),
});

export function presentCatchUp(c: CatchUp): CatchUpPayload {
  if (c.kind === 'events') return { kind: 'events', epoch: c.epoch, cursor: c.cursor, events: c.events.map(envelope) };
  return {
    kind: 'resync', epoch: c.epoch, cursor: c.cursor, reason: c.reason,
    incidents: c.incidents.map((s) => ({
      incident: presentIncident(s.incident), instruction: s.instruction, myStatus: s.myStatus,
      messages: s.messages.map((m) => ({ ...m, at: iso(m.at) })),
    })),
  };
}
