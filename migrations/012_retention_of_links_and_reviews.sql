-- Incidents past their organisation's retention (migration 009) are deleted with everything that refers
-- to them. Two tables came later and refer to incidents too: the review record's revisions (migration 008,
-- append-only) and the links' crossings (migration 011). The review record goes with its incident through
-- this function, the only way around its append-only guard, and only for incidents that ended before the bound.
CREATE OR REPLACE FUNCTION retention_delete_review_revisions(incident_ids uuid[], ended_before timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM set_config('samlarm.retention', 'incident_review_revisions', true);
  DELETE FROM incident_review_revisions r
   USING incidents i
   WHERE i.id = r.incident_id AND i.id = ANY(incident_ids) AND i.state <> 'active' AND i.ended_at < ended_before;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('samlarm.retention', '', true);
  RETURN n;
END $$;
