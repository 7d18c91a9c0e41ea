import type { Queryable } from '../../db/pool.js';
import { recordAudit } from '../audit/audit.js';

/** The parties of a link, as audits and events name them. */
export interface LinkParties {
  id: string;
  proposerOrganisationId: string;
  proposerName: string;
  partnerOrganisationId: string;
  partnerName: string;
}

/**
 * Audits a link step on both sides with the link's id: the acting side with its person (and `ownOnly`,
 * what stays on its side, e.g. its reason), the other side with the acting organisation's name only (a
 * person of another organisation is not theirs to know).
 */
export async function auditBoth(
  tx: Queryable, link: LinkParties,
  actor: { personId: string; organisationId: string } | null, action: string, after: Record<string, unknown>, requestId: string | null,
  ownOnly: Record<string, unknown> = {},
): Promise<void> {
  for (const [organisationId, other] of [[link.proposerOrganisationId, link.partnerName], [link.partnerOrganisationId, link.proposerName]] as const) {
    const ours = actor?.organisationId === organisationId;
    const by = actor === null ? null : actor.organisationId === link.proposerOrganisationId ? link.proposerName : link.partnerName;
    await recordAudit(tx, {
      organisationId, actorPersonId: ours ? (actor?.personId ?? null) : null, action, entityType: 'link', entityId: link.id,
      before: null, after: { ...after, ...(ours ? ownOnly : {}), otherOrganisation: other, ...(ours || by === null ? {} : { byOrganisation: by }) }, requestId,
    });
  }
}

