/**
 * The legs of the site $1 in every link that pairs it with a site of the other side: one row per link
 * and direction in which an alarm at $1 would cross (link_id, direction, receiving_site_id), as `x`.
 * A fragment of the crossing's and the raise screen's queries; served by the pairs' site indexes.
 */
export const SITE_LEGS = `(
        SELECT link_id, 'to_partner'::link_direction AS direction, partner_site_id AS receiving_site_id
          FROM link_site_pairs WHERE proposer_site_id = $1
        UNION
        SELECT link_id, 'to_proposer'::link_direction, proposer_site_id FROM link_site_pairs WHERE partner_site_id = $1
      ) x`;
