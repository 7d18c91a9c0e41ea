import type { IncidentView } from '../../contract/alarms.js';
import type { CatchUpPayload, SiteInstructionPayload } from '../../contract/realtime.js';
import type { CatchUp } from './catch-up.js';
import { envelope } from './events.js';
import type { Incident } from './incidents.js';
import type { SiteNotice } from './site-notices.js';

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

/** A site's instruction for those who work there (ADR 027): silent unless what is in force is loud by type. */
export const presentSiteNotice = (n: SiteNotice, at: Date): SiteInstructionPayload => ({
  siteId: n.siteId,
  siteName: n.siteName,
  instruction: n.instruction,
  message: n.message && { ...n.message, at: iso(n.message.at) },
  silent: n.instruction?.sound !== 'loud',
  drill: n.instruction?.drill ?? false,
  at: iso(at),
});
