import type { Db } from '../../db/pool.js';
import { inTransaction } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { inActiveIncident } from '../alarms/retention.js';
import { recordAudit } from '../audit/audit.js';
import { canErasePerson, type Principal } from '../auth/policies.js';
import { lockPersonRow, profileOf } from '../people/personal-data.js';
import { visiblePerson } from '../people/people.js';
import { pseudonymisePerson, type Pseudonymisation } from './pseudonymise.js';

/**
 * Erasure on request (GDPR article 17), as far as the law allows: the person is pseudonymised at
 * once; what a kept incident needs (their name, that they were alarmed and answered) stays, what
 * they wrote in it is blanked. Not while an incident they are part of is active: it still needs them.
 */
export async function erasePerson(
  db: Db, clock: Clock, principal: Principal, personId: string, input: { reason: string }, requestId: string,
): Promise<Pseudonymisation & { personId: string }> {
  return inTransaction(db, async (tx) => {
    await lockPersonRow(tx, personId);
    const person = await visiblePerson(tx, principal, personId);
    if (!canErasePerson(principal, person.id, person)) throw new AppError('forbidden');
    if (await inActiveIncident(tx, person.id)) {
      // Erase them after all clear; details say why (the catalogue's message is the generic conflict).
      throw new AppError('conflict', undefined, { activeIncident: true });
    }
    const profile = await profileOf(tx, person.id);
    if (!profile) throw new AppError('not_found');
    const result = await pseudonymisePerson(tx, profile, clock.now());
    await recordAudit(tx, {
      organisationId: person.organisationId, actorPersonId: principal.personId, action: 'person.erased',
      entityType: 'person', entityId: person.id, before: null, after: { reason: input.reason, ...result }, requestId,
    });
    return { personId: person.id, ...result };
  });
}
