import type { Tx } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../auth/policies.js';
import type { AlarmDeps } from './deps.js';
import type { IncidentEvent, NewEvent } from './events.js';
import { visibleIncident, type Incident } from './incidents.js';
import { lockSites } from './instruction.js';

export interface ChangeContext {
  tx: Tx;
  incident: Incident;
  /** The caller leads this incident (policies.isIncidentLead, or alerted as its lead). */
  lead: boolean;
  /** The moment of the change, by the app's clock. */
  now: Date;
  /** Builds an event of this incident by the caller, at `now`. */
  event: (type: NewEvent['type'], audience: NewEvent['audience'], data?: Record<string, unknown>) => NewEvent;
}

/**
 * The one flow for everything done to an incident after it was raised: lock its site (and the sites
 * of its linked incidents, which its instructions and all clear reach), load it as
 * the caller may see it, refuse if it has ended (unless allowed), apply, then through the pipeline:
 * pushes queued and events appended in the same transaction, commit, publish.
 */
export async function changeIncident<T>(
  deps: AlarmDeps,
  principal: Principal,
  incidentId: string,
  options: { whenEnded: 'refuse' | 'allow' },
  apply: (ctx: ChangeContext) => Promise<{ result: T; events: NewEvent[] }>,
): Promise<{ result: T; events: IncidentEvent[] }> {
  return deps.pipeline.run(async (tx) => {
    const { incident: peek } = await visibleIncident(tx, principal, incidentId);
    await lockSites(tx, [peek.siteId, ...await deps.sources.linkedSites(tx, peek.siteId, peek.id)]);
    const { incident, lead } = await visibleIncident(tx, principal, incidentId);
    if (incident.state !== 'active' && options.whenEnded === 'refuse') throw new AppError('incident_ended');
    const now = deps.clock.now();
    const { result, events } = await apply({
      tx,
      incident,
      lead,
      now,
      event: (type, audience, data = {}) => ({
        incidentId: incident.id, organisationId: incident.organisationId, siteId: incident.siteId, drill: incident.drill,
        type, audience, actorPersonId: principal.personId, data, at: now,
      }),
    });
    return { result, change: { events } };
  }, 'await');
}
