import type { Queryable } from '../../db/pool.js';
import { AppError } from '../../lib/errors.js';
import { canReviewIncident, canSeeOrganisation, type Principal } from '../auth/policies.js';
import { incidentScope, type IncidentScope } from '../alarms/review-data.js';

/**
 * Loads an incident whose review the caller may read. Another organisation's, or one the caller
 * neither leads, reviews nor was alarmed by, is not found (nothing learned); one they were alarmed
 * by but may not review is forbidden.
 */
export async function reviewableIncident(db: Queryable, principal: Principal, incidentId: string): Promise<IncidentScope> {
  const scope = await incidentScope(db, incidentId, principal.personId);
  if (!scope || !canSeeOrganisation(principal, scope.organisationId)) throw new AppError('not_found');
  if (canReviewIncident(principal, { id: scope.siteId, organisationId: scope.organisationId })) return scope;
  throw new AppError(scope.recipient ? 'forbidden' : 'not_found');
}
