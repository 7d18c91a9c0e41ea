-- The alarm core's front door (docs/ARCHITECTURE.md, "The alarm path").

-- Every timeline event says whether its incident is a drill, so that every screen, notification and
-- export can mark it (invariant 8): receipts, answers and escalation events included, not only the
-- events that carry the incident. Events written before this column existed take their incident's flag;
-- the append-only trigger is set aside for that one backfill and nothing else.
ALTER TABLE incident_events ADD COLUMN drill boolean NOT NULL DEFAULT false;
ALTER TABLE incident_events DISABLE TRIGGER incident_events_append_only;
UPDATE incident_events e SET drill = true FROM incidents i WHERE i.id = e.incident_id AND i.drill;
ALTER TABLE incident_events ENABLE TRIGGER incident_events_append_only;
ALTER TABLE incident_events ALTER COLUMN drill DROP DEFAULT;

-- A session that still counts: not revoked, not expired. The one definition every module uses (the
-- sign-in module owns sessions); PostgreSQL inlines the view, so joins on it plan as on the table.
CREATE VIEW live_sessions AS
  SELECT * FROM sessions WHERE revoked_at IS NULL AND expires_at > now();

-- What the alarm module publishes of its tables for other modules' set-based joins (the delivery
-- outbox queues one push per recipient device in one statement, and checks at claim time whether a
-- person has confirmed or the incident has ended). Other modules read these, never the tables.
CREATE VIEW alarm_incidents AS
  SELECT id, organisation_id, site_id, alarm_type_id, drill, state, raised_at, ended_at FROM incidents;
CREATE VIEW alarm_recipients AS
  SELECT incident_id, person_id, lead, delivered_at, acknowledged_at FROM incident_recipients;
