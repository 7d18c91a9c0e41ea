import type { Db, Queryable } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { groupsOf } from '../alarm-groups/personal-data.js';
import { incidentsOfPerson } from '../alarms/retention.js';
import { recordAudit } from '../audit/audit.js';
import { auditOfPerson } from '../audit/retention.js';
import { canExportPersonalData, type Principal } from '../auth/policies.js';
import { loginFailuresFor, sessionsOf } from '../auth/retention.js';
import { deliveryDataOf } from '../delivery/retention.js';
import { visibleOrganisation } from '../organisations/organisations.js';
import { profileOf } from '../people/personal-data.js';
import { sitesOf, visiblePerson } from '../people/people.js';

export const EXPORT_FORMAT = 'samlarm.personal-data.v1' as const;

/** Everything Samlarm holds about one person, gathered from the module that owns each part. */
export type PersonalData = Awaited<ReturnType<typeof gather>>;

async function gather(db: Queryable, personId: string, exportedAt: Date) {
  const profile = await profileOf(db, personId);
  if (!profile) throw new AppError('not_found');
  const { roles, ...person } = profile;
  const sites = await sitesOf(db, personId);
  const groups = await groupsOf(db, personId);
  const delivery = await deliveryDataOf(db, personId);
  const incidents = await incidentsOfPerson(db, personId);
  return {
    format: EXPORT_FORMAT,
    exportedAt,
    person,
    roles,
    sites: sites.map((s) => ({ id: s.id, name: s.name, kind: s.kind })),
    alarmGroups: groups.memberships,
    escalationContactFor: groups.escalationContactFor,
    sessions: await sessionsOf(db, personId),
    pushSubscriptions: delivery.pushSubscriptions,
    loginFailures: await loginFailuresFor(db, profile.email),
    incidents: incidents.incidents,
    presses: incidents.presses,
    responses: incidents.responses,
    receipts: incidents.receipts,
    messages: incidents.messages,
    timeline: incidents.timeline,
    deliveries: delivery.deliveries,
    audit: await auditOfPerson(db, profile.organisationId, personId),
  };
}

/**
 * A person's own data (GDPR article 15 and 20), for themselves or for whoever manages them, read in
 * one snapshot. Every export is itself written to the audit log.
 */
export async function exportPersonalData(
  db: Db, clock: Clock, principal: Principal, personId: string, requestId: string,
): Promise<PersonalData & { organisation: { id: string; name: string } }> {
  return inTransaction(db, async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const person = await visiblePerson(tx, principal, personId);
    if (!canExportPersonalData(principal, person.id, person)) throw new AppError('forbidden');
    const organisation = await visibleOrganisation(tx, principal, person.organisationId);
    const data = await gather(tx, person.id, clock.now());
    await recordAudit(tx, {
      organisationId: person.organisationId, actorPersonId: principal.personId, action: 'person.personal_data_exported',
      entityType: 'person', entityId: person.id, before: null,
      after: { by: principal.personId === person.id ? 'self' : 'manager' }, requestId,
    });
    return { ...data, organisation: { id: organisation.id, name: organisation.name } };
  });
}
