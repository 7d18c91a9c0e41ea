-- Post-incident review (efterarbete): the review record of an incident as revisions that are never
-- overwritten, the read-only reviewer role (safety officer, skyddsombud), and what a report to
-- Arbetsmiljöverket needs of the employer and the workplace.

-- Reviewers read the reviews, figures and exports of their organisation, or of one site.
ALTER TYPE role_name ADD VALUE IF NOT EXISTS 'reviewer';
-- Like site_admin and crisis_lead, reviewer may be scoped to one site. Compared as text: a value added
-- to an enum cannot be used in the transaction that adds it.
ALTER TABLE role_assignments DROP CONSTRAINT IF EXISTS role_assignments_check;
ALTER TABLE role_assignments DROP CONSTRAINT IF EXISTS role_assignments_site_scope_check;
ALTER TABLE role_assignments ADD CONSTRAINT role_assignments_site_scope_check
  CHECK (site_id IS NULL OR role::text IN ('site_admin', 'crisis_lead', 'reviewer'));

-- The employer's organisation number (organisationsnummer, NNNNNN-NNNN) and the workplace's
-- municipality (kommun): both go into the report to Arbetsmiljöverket.
ALTER TABLE organisations ADD COLUMN IF NOT EXISTS organisation_number text
  CHECK (organisation_number ~ '^[0-9]{6}-[0-9]{4}$');
ALTER TABLE sites ADD COLUMN IF NOT EXISTS municipality text
  CHECK (length(municipality) BETWEEN 1 AND 100);

-- Every edit of an incident's review record is a new revision (who, when, what); the record is the
-- newest one. The primary key is the optimistic lock: two editors who started from the same revision
-- cannot both write the next one. Closing (sign-off) and reopening are revisions too.
CREATE TABLE IF NOT EXISTS incident_review_revisions (
  incident_id uuid NOT NULL REFERENCES incidents (id),
  revision integer NOT NULL CHECK (revision >= 1),
  -- Denormalised from the incident so tenant checks need no join.
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  status text NOT NULL CHECK (status IN ('open', 'closed')),
  record jsonb NOT NULL,
  author_id uuid NOT NULL REFERENCES people (id),
  -- Who signed it off: the author of a closing revision.
  signed_off_by uuid REFERENCES people (id),
  at timestamptz NOT NULL,
  PRIMARY KEY (incident_id, revision),
  CHECK ((status = 'closed') = (signed_off_by IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS incident_review_revisions_organisation_idx ON incident_review_revisions (organisation_id, at DESC);

DROP TRIGGER IF EXISTS incident_review_revisions_append_only ON incident_review_revisions;
CREATE TRIGGER incident_review_revisions_append_only BEFORE UPDATE OR DELETE ON incident_review_revisions
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
DROP TRIGGER IF EXISTS incident_review_revisions_no_truncate ON incident_review_revisions;
CREATE TRIGGER incident_review_revisions_no_truncate BEFORE TRUNCATE ON incident_review_revisions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only();
