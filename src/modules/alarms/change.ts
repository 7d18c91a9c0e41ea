import type { Tx } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../auth/policies.js';
import { appendEvents, type IncidentEvent, type NewEvent } from './events.js';
import { visibleIncident, type Incident } from './incidents.js';
import { siteInstruction, type SiteInstruction } from './instruction.js';
import { ALARM_SQL } from './queries.js';
import type { AlarmDeps } from './raise.js';

export interface ChangeContext {
  tx: Tx;
  incident: Incident;
  /** The caller leads this incident (crisis lead, rektor, organisation admin, or targeted as lead). */
  lead: boolean;
  /** Builds an event of this incident by the caller. */
  event: (type: NewEvent['type'], audience: NewEvent['audience'], data?: Record<string, unknown>) => NewEvent;
  instruction: () => Promise<SiteInstruction | null>;
}

/**
 * The one flow for everything done to an incident after it was raised: lock its site, load it as
 * the caller may see it, refuse if it has ended (unless allowed), apply, append the events last,
 * commit, then publish.
 */
export async function changeIncident<T>(
  deps: AlarmDeps,
  principal: Principal,
  incidentId: string,
  options: { whenEnded: 'refuse' | 'allow' },
  apply: (ctx: ChangeContext) => Promise<{ result: T; events: NewEvent[] }>,
): Promise<{ result: T; events: IncidentEvent[] }> {
  const done = await inTransaction(deps.db, async (tx) => {
    const { incident: peek } = await visibleIncident(tx, principal, incidentId);
    await tx.query(ALARM_SQL.lockSite, [peek.siteId]);
    const { incident, lead } = await visibleIncident(tx, principal, incidentId);
    if (incident.state !== 'active' && options.whenEnded === 'refuse') throw new AppError('incident_ended');
    const ctx: ChangeContext = {
      tx,
      incident,
      lead,
      event: (type, audience, data = {}) => ({
        incidentId: incident.id, organisationId: incident.organisationId, siteId: incident.siteId,
        type, audience, actorPersonId: principal.personId, data,
      }),
      instruction: () => siteInstruction(tx, incident.siteId),
    };
    const { result, events } = await apply(ctx);
    await deps.queueDeliveries(tx, events);
    return { result, events: await appendEvents(tx, events) };
  });
  await deps.publish(done.events);
  return done;
}
