-- The alarm path: incidents, who pressed, who was targeted, receipts per device, responses,
-- messages, and the append-only timeline whose ids are the devices' catch-up cursors.

CREATE TYPE incident_state AS ENUM ('active', 'resolved', 'cancelled');
CREATE TYPE response_status AS ENUM ('safe', 'need_help', 'not_on_site');
CREATE TYPE receipt_kind AS ENUM ('delivered', 'acknowledged');
CREATE TYPE event_audience AS ENUM ('all', 'leads');

CREATE TABLE incidents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  site_id uuid NOT NULL REFERENCES sites (id),
  alarm_type_id uuid NOT NULL REFERENCES alarm_types (id),
  drill boolean NOT NULL,
  state incident_state NOT NULL DEFAULT 'active',
  -- The alarm type as it was when raised (labels, instruction, colour, sound, precedence, CAP):
  -- later edits to the type never rewrite what people were told.
  type_snapshot jsonb NOT NULL,
  location text,
  message text,
  raised_by uuid NOT NULL REFERENCES people (id),
  raised_at timestamptz NOT NULL DEFAULT now(),
  last_pressed_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  ended_by uuid REFERENCES people (id),
  end_reason text,
  CHECK ((state = 'active') = (ended_at IS NULL))
);
-- One active incident per site, type and drill flag: concurrent presses join it (invariant 4).
CREATE UNIQUE INDEX incidents_one_active_idx ON incidents (site_id, alarm_type_id, drill) WHERE state = 'active';
CREATE INDEX incidents_site_active_idx ON incidents (site_id) WHERE state = 'active';
CREATE INDEX incidents_organisation_idx ON incidents (organisation_id, raised_at DESC);

-- State never moves backwards (invariant 6): an ended incident cannot become active again.
CREATE FUNCTION incidents_state_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.state <> 'active' AND NEW.state IS DISTINCT FROM OLD.state THEN
    RAISE EXCEPTION 'incident % is % and cannot become %', OLD.id, OLD.state, NEW.state;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER incidents_state_forward_only BEFORE UPDATE ON incidents
  FOR EACH ROW EXECUTE FUNCTION incidents_state_forward_only();

-- Every press, keyed by the id the device chose for it: a retried press finds its row (invariant 4).
CREATE TABLE incident_presses (
  press_id uuid PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  person_id uuid NOT NULL REFERENCES people (id),
  location text,
  message text,
  pressed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_presses_incident_idx ON incident_presses (incident_id, pressed_at);

-- Who the incident reaches, computed when it was raised and kept as it was (review shows exactly
-- who was targeted). Leads (crisis leads, rektorer, organisation admins) see the roll call.
CREATE TABLE incident_recipients (
  incident_id uuid NOT NULL REFERENCES incidents (id),
  person_id uuid NOT NULL REFERENCES people (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  lead boolean NOT NULL,
  via_groups uuid[] NOT NULL DEFAULT '{}',
  delivered_at timestamptz,
  acknowledged_at timestamptz,
  PRIMARY KEY (incident_id, person_id)
);
CREATE INDEX incident_recipients_person_idx ON incident_recipients (person_id, incident_id);

-- Receipts per recipient x device; insert-only, so delivered can never become undelivered.
CREATE TABLE incident_receipts (
  incident_id uuid NOT NULL REFERENCES incidents (id),
  person_id uuid NOT NULL REFERENCES people (id),
  device_id text NOT NULL,
  kind receipt_kind NOT NULL,
  channel text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, person_id, device_id, kind)
);

CREATE TABLE incident_responses (
  id bigserial PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  person_id uuid NOT NULL REFERENCES people (id),
  status response_status NOT NULL,
  text text,
  location text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_responses_incident_idx ON incident_responses (incident_id, person_id, id DESC);

CREATE TABLE incident_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  incident_id uuid NOT NULL REFERENCES incidents (id),
  author_id uuid NOT NULL REFERENCES people (id),
  -- instruction: from a lead to everyone; reply: from anyone, seen by the leads.
  kind text NOT NULL CHECK (kind IN ('instruction', 'reply')),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_messages_incident_idx ON incident_messages (incident_id, at);

-- The timeline: typed, append-only. Its id is the global catch-up cursor. Events are inserted
-- while holding one advisory lock until commit, so ids become visible in order and a device
-- that has seen id N has seen every event below N that it may see.
CREATE TABLE incident_events (
  id bigserial PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  site_id uuid NOT NULL REFERENCES sites (id),
  type text NOT NULL,
  audience event_audience NOT NULL,
  actor_person_id uuid REFERENCES people (id),
  data jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, id);

CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
CREATE TRIGGER incident_events_no_truncate BEFORE TRUNCATE ON incident_events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only();
CREATE TRIGGER incident_responses_append_only BEFORE UPDATE OR DELETE ON incident_responses
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
