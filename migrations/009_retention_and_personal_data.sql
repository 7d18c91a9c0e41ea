-- Personal data that does not outlive its purpose: retention of every class of data, a person's
-- own export, erasure by pseudonymisation (docs/PRIVACY.md, ADR 020 and 021).
--
-- The append-only tables (audit_log, incident_events, incident_responses) keep refusing UPDATE,
-- DELETE and TRUNCATE from everyone. The one way past is the retention functions below: each marks
-- its own statements with a transaction-local setting naming the table, which the guard lets
-- through, and only for a delete, or an update that blanks nothing but the free-text fields.

-- Every organisation decides whether its incidents are kept: some must keep alarm logs as public
-- records. 'default': what RETENTION_INCIDENTS_YEARS says (unset: kept); 'forever'; 'years'.
ALTER TABLE organisations
  ADD COLUMN IF NOT EXISTS incident_retention text NOT NULL DEFAULT 'default',
  ADD COLUMN IF NOT EXISTS incident_retention_years integer;
ALTER TABLE organisations DROP CONSTRAINT IF EXISTS organisations_incident_retention_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_incident_retention_check CHECK (
  incident_retention IN ('default', 'forever', 'years')
  AND (incident_retention = 'years') = (incident_retention_years IS NOT NULL)
  AND (incident_retention_years IS NULL OR incident_retention_years BETWEEN 1 AND 100));

-- When a person was deactivated (the pseudonymisation period counts from it) and pseudonymised.
ALTER TABLE people
  ADD COLUMN IF NOT EXISTS deactivated_at timestamptz,
  ADD COLUMN IF NOT EXISTS pseudonymised_at timestamptz;
-- People deactivated before this migration: their last change is the best date there is.
UPDATE people SET deactivated_at = updated_at WHERE NOT active AND deactivated_at IS NULL;

-- Set here rather than in each use case that deactivates someone, so no path can forget it.
CREATE OR REPLACE FUNCTION people_track_deactivation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.active AND NOT NEW.active THEN
    NEW.deactivated_at := now();
  ELSIF NEW.active AND NOT OLD.active THEN
    NEW.deactivated_at := NULL;
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS people_track_deactivation ON people;
CREATE TRIGGER people_track_deactivation BEFORE UPDATE OF active ON people
  FOR EACH ROW EXECUTE FUNCTION people_track_deactivation();
CREATE INDEX IF NOT EXISTS people_deactivated_idx ON people (deactivated_at) WHERE NOT active;

-- An incident whose location texts and free-text answers have been blanked (months after it ended).
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS texts_blanked_at timestamptz;
CREATE INDEX IF NOT EXISTS incidents_texts_due_idx ON incidents (ended_at)
  WHERE texts_blanked_at IS NULL AND ended_at IS NOT NULL;

-- Every retention run: when, on which node, what it removed. Also how the nodes agree that one is due.
CREATE TABLE IF NOT EXISTS retention_runs (
  id bigserial PRIMARY KEY,
  node text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  counts jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS retention_runs_finished_idx ON retention_runs (started_at DESC) WHERE finished_at IS NOT NULL;

-- The guard of the append-only tables (migration 001), now with the retention functions' way past.
CREATE OR REPLACE FUNCTION refuse_change_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  before jsonb;
  after jsonb;
BEGIN
  IF TG_LEVEL = 'ROW' AND current_setting('samlarm.retention', true) = TG_TABLE_NAME THEN
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    before := to_jsonb(OLD);
    after := to_jsonb(NEW);
    -- A timeline event may lose free text from its data, nothing else.
    IF TG_TABLE_NAME = 'incident_events' AND before - 'data' = after - 'data' THEN
      RETURN NEW;
    END IF;
    -- An answer may lose its text and location, nothing else.
    IF TG_TABLE_NAME = 'incident_responses' AND coalesce(after->>'text', after->>'location') IS NULL
       AND before - 'text' - 'location' = after - 'text' - 'location' THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

-- Audit entries older than the bound. (Nothing refers to audit_log.)
CREATE OR REPLACE FUNCTION retention_delete_audit_log(bound timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM set_config('samlarm.retention', 'audit_log', true);
  DELETE FROM audit_log WHERE at < bound;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('samlarm.retention', '', true);
  RETURN n;
END $$;

-- The record of every push and SMS attempt (review events) older than the bound.
-- Expensive: scans incident_events (no index on its time); it runs once per retention interval.
CREATE OR REPLACE FUNCTION retention_delete_delivery_attempts(bound timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM set_config('samlarm.retention', 'incident_events', true);
  DELETE FROM incident_events WHERE type = 'delivery_attempt' AND at < bound;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('samlarm.retention', '', true);
  RETURN n;
END $$;

-- The timelines and answers of these incidents, but only of those that ended before the bound.
CREATE OR REPLACE FUNCTION retention_delete_timelines(incident_ids uuid[], ended_before timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  due uuid[];
  n bigint;
BEGIN
  SELECT coalesce(array_agg(id), '{}') INTO due
    FROM incidents WHERE id = ANY(incident_ids) AND state <> 'active' AND ended_at < ended_before;
  PERFORM set_config('samlarm.retention', 'incident_responses', true);
  DELETE FROM incident_responses WHERE incident_id = ANY(due);
  PERFORM set_config('samlarm.retention', 'incident_events', true);
  DELETE FROM incident_events WHERE incident_id = ANY(due);
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('samlarm.retention', '', true);
  RETURN n;
END $$;

-- What an event says once its free text is blanked: the incident's location and message, a press's
-- location, an answer's text and location, a reply's body become null. Everything else stays.
CREATE OR REPLACE FUNCTION retention_blanked_event_data(type text, data jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN type IN ('raised', 'reraised', 'joined', 'resolved', 'cancelled') THEN
      CASE WHEN jsonb_typeof(x.d->'incident') = 'object'
           THEN jsonb_set(jsonb_set(x.d, '{incident,location}', 'null'), '{incident,message}', 'null')
           ELSE x.d END
    WHEN type = 'responded' THEN data || '{"text": null, "location": null}'
    WHEN type = 'reply' THEN data || '{"body": null}'
    ELSE data
  END
  FROM (SELECT CASE WHEN data ? 'location' THEN data || '{"location": null}' ELSE data END AS d) x
$$;

-- Blanks the answers' texts and the timeline's free text of these incidents, but only of those that
-- ended before the bound. Rows already blank are left alone.
CREATE OR REPLACE FUNCTION retention_blank_timeline_texts(incident_ids uuid[], ended_before timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  due uuid[];
  n bigint;
  m bigint;
BEGIN
  SELECT coalesce(array_agg(id), '{}') INTO due
    FROM incidents WHERE id = ANY(incident_ids) AND state <> 'active' AND ended_at < ended_before;
  PERFORM set_config('samlarm.retention', 'incident_responses', true);
  UPDATE incident_responses SET text = NULL, location = NULL
   WHERE incident_id = ANY(due) AND (text IS NOT NULL OR location IS NOT NULL);
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('samlarm.retention', 'incident_events', true);
  UPDATE incident_events SET data = retention_blanked_event_data(type, data)
   WHERE incident_id = ANY(due) AND data IS DISTINCT FROM retention_blanked_event_data(type, data);
  GET DIAGNOSTICS m = ROW_COUNT;
  PERFORM set_config('samlarm.retention', '', true);
  RETURN n + m;
END $$;

-- Erasure of one person: the free text they wrote themselves (answers, replies, the location of their
-- own presses) becomes null in ended incidents. What others wrote and the incident's own location stay.
CREATE OR REPLACE FUNCTION retention_blank_person_texts(person uuid) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  ended uuid[];
  n bigint;
  m bigint;
BEGIN
  SELECT coalesce(array_agg(DISTINCT r.incident_id), '{}') INTO ended
    FROM incident_recipients r JOIN incidents i ON i.id = r.incident_id
   WHERE r.person_id = person AND i.state <> 'active';
  PERFORM set_config('samlarm.retention', 'incident_responses', true);
  UPDATE incident_responses SET text = NULL, location = NULL
   WHERE person_id = person AND incident_id = ANY(ended) AND (text IS NOT NULL OR location IS NOT NULL);
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('samlarm.retention', 'incident_events', true);
  UPDATE incident_events e SET data = x.blanked
    FROM (SELECT id, CASE type
                       WHEN 'responded' THEN data || '{"text": null, "location": null}'
                       WHEN 'reply' THEN data || '{"body": null}'
                       ELSE data || '{"location": null}'
                     END AS blanked
            FROM incident_events
           WHERE incident_id = ANY(ended) AND actor_person_id = person
             AND (type IN ('responded', 'reply') OR (type IN ('joined', 'reraised') AND data ? 'location'))) x
   WHERE e.id = x.id AND e.data IS DISTINCT FROM x.blanked;
  GET DIAGNOSTICS m = ROW_COUNT;
  PERFORM set_config('samlarm.retention', '', true);
  RETURN n + m;
END $$;
