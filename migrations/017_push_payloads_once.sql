-- An alarm's push payload is stored once per language instead of once per phone, and the outbox checks what its
-- rows refer to once per statement instead of once per row (ADR 032).
--
-- A raise queues a push for every device of its recipients with one INSERT ... SELECT, in its own transaction,
-- and every row carried one of the same two payloads (Swedish or English, ~600 bytes): for 5,000 phones, 3 MB
-- written and logged before the presser has an answer, about 65 ms of a statement of ~150. The same statement
-- ran 10,000 foreign-key lookups (incident, person), about 55 ms. Now the payloads are written once, into
-- push_payloads, and each row refers to its own; the references are checked by the statement-level triggers
-- below, as the recipients' are since migration 016 (ADR 031). Narrow rows are what makes them pay: a trigger
-- reads the statement's transition table, whole rows included.
--
-- Single pushes (a test push, a device reminder) and SMS (each addressed and worded for one person) keep their
-- payload in the row: exactly one of payload and payload_id is set.
CREATE TABLE push_payloads (
  id bigserial PRIMARY KEY,
  incident_id uuid REFERENCES incidents (id),
  -- Whose payload it is: each row picks the one in its person's language.
  language text NOT NULL CHECK (language IN ('sv', 'en')),
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Forgetting an incident's pushes (retention, blanking its texts) finds its payloads by it.
CREATE INDEX push_payloads_incident_idx ON push_payloads (incident_id);

ALTER TABLE deliveries
  ADD COLUMN payload_id bigint,
  ALTER COLUMN payload DROP NOT NULL,
  ADD CONSTRAINT deliveries_payload_once CHECK ((payload IS NULL) <> (payload_id IS NULL)),
  DROP CONSTRAINT deliveries_incident_id_fkey,
  DROP CONSTRAINT deliveries_person_id_fkey;

-- What the keys did, kept: a row's incident and payload, when it has them, exist, and so does its person; an
-- incident or a payload that rows refer to is not deleted; a person who is deleted takes their rows along (the
-- key was ON DELETE CASCADE); what a row is about never changes. Ids of incidents and people never change and
-- neither table is truncated (migration 016 refuses both); the same here for payloads.
CREATE FUNCTION refuse_dangling_delivery(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', what USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'deliveries_references';
END;
$$;

-- Rows that are locked are rows that exist: one deleted while the statement waited for its lock is not counted.
-- Nulls are no reference (a test push has no incident; count(DISTINCT) and IN both pass them over). A statement
-- that queued nothing (nobody to reach has push) has nothing to check.
CREATE FUNCTION deliveries_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM added) THEN
    RETURN NULL;
  END IF;
  IF (SELECT count(*) FROM (SELECT 1 FROM incidents i WHERE i.id IN (SELECT incident_id FROM added) FOR KEY SHARE) x)
      <> (SELECT count(DISTINCT incident_id) FROM added)
  OR (SELECT count(*) FROM (SELECT 1 FROM people p WHERE p.id IN (SELECT person_id FROM added) FOR KEY SHARE) x)
      <> (SELECT count(DISTINCT person_id) FROM added)
  OR (SELECT count(*) FROM (SELECT 1 FROM push_payloads pl WHERE pl.id IN (SELECT payload_id FROM added) FOR KEY SHARE) x)
      <> (SELECT count(DISTINCT payload_id) FROM added)
  THEN
    PERFORM refuse_dangling_delivery('a delivery refers to no incident, person or payload');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER deliveries_references AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION deliveries_check_references();

-- The deleting statement checks once its rows are gone, with a new snapshot, so it also sees deliveries committed
-- while it waited for their lock.
CREATE FUNCTION refuse_deleting_what_deliveries_refer_to() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'incidents' THEN
    PERFORM 1 FROM gone g JOIN deliveries d ON d.incident_id = g.id LIMIT 1;
  ELSE
    PERFORM 1 FROM gone g JOIN deliveries d ON d.payload_id = g.id LIMIT 1;
  END IF;
  IF FOUND THEN
    PERFORM refuse_dangling_delivery(format('deliveries still refer to this row of %s', TG_TABLE_NAME));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER incidents_still_have_deliveries AFTER DELETE ON incidents
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_what_deliveries_refer_to();
CREATE TRIGGER push_payloads_still_referenced AFTER DELETE ON push_payloads
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_what_deliveries_refer_to();

-- The same new snapshot finds deliveries committed while the delete waited, and takes them too.
CREATE FUNCTION delete_deliveries_of_deleted_people() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM deliveries d USING gone g WHERE d.person_id = g.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER people_deleted_take_their_deliveries AFTER DELETE ON people
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION delete_deliveries_of_deleted_people();

CREATE FUNCTION refuse_changing_what_deliveries_refer_to() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM refuse_dangling_delivery(CASE
    WHEN TG_OP = 'TRUNCATE' THEN 'push_payloads is not truncated: deliveries refer to it'
    WHEN TG_TABLE_NAME = 'push_payloads' THEN 'what identifies a push payload never changes'
    ELSE 'what a delivery is about never changes' END);
  RETURN NULL;
END;
$$;
CREATE TRIGGER deliveries_references_never_change BEFORE UPDATE OF incident_id, person_id, payload_id ON deliveries
  FOR EACH ROW WHEN ((OLD.incident_id, OLD.person_id, OLD.payload_id) IS DISTINCT FROM (NEW.incident_id, NEW.person_id, NEW.payload_id))
  EXECUTE FUNCTION refuse_changing_what_deliveries_refer_to();
CREATE TRIGGER push_payloads_id_never_changes BEFORE UPDATE OF id ON push_payloads
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_changing_what_deliveries_refer_to();
CREATE TRIGGER push_payloads_no_truncate BEFORE TRUNCATE ON push_payloads
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_changing_what_deliveries_refer_to();
