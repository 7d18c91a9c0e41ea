-- Links between organisations (samverkan): docs/linking.md, ADR 023 and 024.
-- The links module owns links, link_site_pairs, link_alarm_types, link_receiving_groups and
-- link_crossings. The alarm module owns what this adds to incidents: where a linked incident came from.

DO $$ BEGIN
  CREATE TYPE link_status AS ENUM ('proposed', 'active', 'suspended', 'revoked', 'declined', 'replaced');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
-- to_partner: alarms raised at the proposer's sites reach the partner's; to_proposer: the other way.
DO $$ BEGIN
  CREATE TYPE link_direction AS ENUM ('to_partner', 'to_proposer');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
-- alerted: a linked incident was raised; held: it contradicted the receiving site's instruction and waits
-- for a receiving lead; dismissed: a lead declined a held one; lapsed: the source ended while it was held;
-- not_crossed: the receiving site could not take it (a drill during a real alarm, the same alarm already active).
DO $$ BEGIN
  CREATE TYPE link_crossing_state AS ENUM ('alerted', 'held', 'dismissed', 'lapsed', 'not_crossed');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

-- A link is never changed in place: a change is a new proposal that replaces it when accepted.
CREATE TABLE IF NOT EXISTS links (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  proposer_organisation_id uuid NOT NULL REFERENCES organisations (id),
  partner_organisation_id uuid NOT NULL REFERENCES organisations (id),
  status link_status NOT NULL DEFAULT 'proposed',
  -- Whether the presser's name crosses with an alarm (default: it does not).
  share_presser_name boolean NOT NULL DEFAULT false,
  -- After this date both sides' admins are warned; the link keeps working.
  review_at date NOT NULL,
  replaces_link_id uuid REFERENCES links (id),
  note text CHECK (length(note) <= 1000),
  proposed_by uuid NOT NULL REFERENCES people (id),
  proposed_at timestamptz NOT NULL,
  decided_by uuid REFERENCES people (id),
  decided_at timestamptz,
  -- Only the side that suspended a link may resume it.
  suspended_by_organisation_id uuid REFERENCES organisations (id),
  status_changed_by uuid REFERENCES people (id),
  status_changed_at timestamptz,
  status_reason text CHECK (length(status_reason) <= 1000),
  CHECK (proposer_organisation_id <> partner_organisation_id),
  CHECK ((status = 'suspended') = (suspended_by_organisation_id IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS links_proposer_idx ON links (proposer_organisation_id);
CREATE INDEX IF NOT EXISTS links_partner_idx ON links (partner_organisation_id);

-- The sites the link joins, a site of each side (e.g. the two tenants of one building).
CREATE TABLE IF NOT EXISTS link_site_pairs (
  link_id uuid NOT NULL REFERENCES links (id),
  proposer_site_id uuid NOT NULL REFERENCES sites (id),
  partner_site_id uuid NOT NULL REFERENCES sites (id),
  PRIMARY KEY (link_id, proposer_site_id, partner_site_id)
);
-- A raise looks up the active links of its site on either side.
CREATE INDEX IF NOT EXISTS link_site_pairs_proposer_idx ON link_site_pairs (proposer_site_id);
CREATE INDEX IF NOT EXISTS link_site_pairs_partner_idx ON link_site_pairs (partner_site_id);

-- Per direction, which alarm types cross.
CREATE TABLE IF NOT EXISTS link_alarm_types (
  link_id uuid NOT NULL REFERENCES links (id),
  direction link_direction NOT NULL,
  alarm_type_id uuid NOT NULL REFERENCES alarm_types (id),
  PRIMARY KEY (link_id, direction, alarm_type_id)
);

-- Per direction, which of the receiving side's alarm groups get them: chosen by the receiving side
-- (the proposer for to_proposer when proposing, the partner for to_partner when accepting). A group
-- deleted later leaves the link; a receiving site with no group left warns both sides.
CREATE TABLE IF NOT EXISTS link_receiving_groups (
  link_id uuid NOT NULL REFERENCES links (id),
  direction link_direction NOT NULL,
  group_id uuid NOT NULL REFERENCES alarm_groups (id) ON DELETE CASCADE,
  -- The group's site (a group never moves): a raise finds the receiving site's groups without reading alarm_groups.
  site_id uuid NOT NULL REFERENCES sites (id),
  PRIMARY KEY (link_id, direction, group_id)
);

-- Every alarm that reached (or was held at, or could not reach) a linked site, and every link test.
CREATE TABLE IF NOT EXISTS link_crossings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  link_id uuid NOT NULL REFERENCES links (id),
  direction link_direction NOT NULL,
  -- NULL: a link test, which has no source incident.
  source_incident_id uuid REFERENCES incidents (id),
  source_organisation_id uuid NOT NULL REFERENCES organisations (id),
  source_site_id uuid NOT NULL REFERENCES sites (id),
  receiving_organisation_id uuid NOT NULL REFERENCES organisations (id),
  receiving_site_id uuid NOT NULL REFERENCES sites (id),
  alarm_type_id uuid NOT NULL REFERENCES alarm_types (id),
  drill boolean NOT NULL,
  test boolean NOT NULL DEFAULT false,
  state link_crossing_state NOT NULL,
  not_crossed_reason text CHECK (not_crossed_reason IN ('real_alarm_active', 'already_active', 'site_busy')),
  linked_incident_id uuid REFERENCES incidents (id),
  -- held: the receiving site's incident whose instruction it contradicted (its leads were asked).
  held_on_incident_id uuid REFERENCES incidents (id),
  decided_by uuid REFERENCES people (id),
  decided_at timestamptz,
  decision_reason text CHECK (length(decision_reason) <= 1000),
  -- The receiving side ended its linked incident before the source's all clear.
  ended_early_at timestamptz,
  ended_early_by uuid REFERENCES people (id),
  at timestamptz NOT NULL,
  CHECK ((state = 'alerted') = (linked_incident_id IS NOT NULL)),
  CHECK ((state = 'not_crossed') = (not_crossed_reason IS NOT NULL)),
  CHECK (test OR source_incident_id IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS link_crossings_source_idx ON link_crossings (source_incident_id) WHERE source_incident_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS link_crossings_linked_idx ON link_crossings (linked_incident_id) WHERE linked_incident_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS link_crossings_held_idx ON link_crossings (receiving_site_id) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS link_crossings_link_idx ON link_crossings (link_id, at DESC);

-- A linked incident was raised by a link, not by a person of its organisation: it carries where it
-- came from (the link, the source incident, organisation and site by name, the presser's name only if
-- the link shares it), frozen like the type snapshot, and no raiser.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS linked_from jsonb;
ALTER TABLE incidents ALTER COLUMN raised_by DROP NOT NULL;
DO $$ BEGIN
  ALTER TABLE incidents ADD CONSTRAINT incidents_raised_by_person_or_link CHECK (raised_by IS NOT NULL OR linked_from IS NOT NULL);
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
