-- An alarm's recipients check their references once per statement instead of once per row (ADR 031).
--
-- A raise writes its recipients with one INSERT ... SELECT. Their three foreign keys (incident, person,
-- organisation) each ran a lookup of its own for every row: for an alarm to 5,000 people, 15,000 lookups,
-- two thirds of that statement, all before the presser has an answer. The trigger below makes the same
-- checks with one lookup per referenced table for the whole statement, and takes the locks a foreign key
-- takes (FOR KEY SHARE on each row referred to), so that a person or an incident deleted at the same time
-- can never leave a recipient behind: whichever of the two comes second waits for the first, then fails.
--
-- What it checks (foreign_key_violation, constraint incident_recipients_references, when anything fails):
-- a recipient's incident exists and its organisation is the incident's own (the key only checked that
-- it existed); its person exists. The other side: a person or an incident that recipients refer to is not
-- deleted or truncated, and what identifies a row never changes.
ALTER TABLE incident_recipients
  DROP CONSTRAINT incident_recipients_incident_id_fkey,
  DROP CONSTRAINT incident_recipients_person_id_fkey,
  DROP CONSTRAINT incident_recipients_organisation_id_fkey;

CREATE FUNCTION refuse_dangling_recipient(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', what USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'incident_recipients_references';
END;
$$;

-- Rows that are locked are rows that exist: one deleted while the statement waited for its lock is not counted.
CREATE FUNCTION incident_recipients_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM (
        SELECT 1 FROM incidents i WHERE (i.id, i.organisation_id) IN (SELECT incident_id, organisation_id FROM added) FOR KEY SHARE
      ) x) <> (SELECT count(DISTINCT (incident_id, organisation_id)) FROM added)
  OR (SELECT count(*) FROM (SELECT 1 FROM people p WHERE p.id IN (SELECT person_id FROM added) FOR KEY SHARE) x)
      <> (SELECT count(DISTINCT person_id) FROM added)
  THEN
    PERFORM refuse_dangling_recipient('a recipient refers to no incident or person, or to an incident of another organisation');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER incident_recipients_references AFTER INSERT ON incident_recipients
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION incident_recipients_check_references();

-- The deleting statement checks once its rows are gone, so it also sees recipients committed while it
-- waited for their lock.
CREATE FUNCTION refuse_deleting_what_recipients_refer_to() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'incidents' THEN
    PERFORM 1 FROM gone g JOIN incident_recipients r ON r.incident_id = g.id LIMIT 1;
  ELSE
    PERFORM 1 FROM gone g JOIN incident_recipients r ON r.person_id = g.id LIMIT 1;
  END IF;
  IF FOUND THEN
    PERFORM refuse_dangling_recipient(format('an alarm''s recipients still refer to this row of %s', TG_TABLE_NAME));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER incidents_still_referenced AFTER DELETE ON incidents
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_what_recipients_refer_to();
CREATE TRIGGER people_still_referenced AFTER DELETE ON people
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_what_recipients_refer_to();

CREATE FUNCTION refuse_changing_what_recipients_refer_to() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM refuse_dangling_recipient(CASE TG_OP
    WHEN 'TRUNCATE' THEN format('%s is not truncated: an alarm''s recipients refer to it', TG_TABLE_NAME)
    ELSE format('what identifies a row of %s never changes', TG_TABLE_NAME) END);
  RETURN NULL;
END;
$$;
CREATE TRIGGER incidents_id_never_changes BEFORE UPDATE OF id ON incidents
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_changing_what_recipients_refer_to();
CREATE TRIGGER people_id_never_changes BEFORE UPDATE OF id ON people
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_changing_what_recipients_refer_to();
CREATE TRIGGER incident_recipients_references_never_change BEFORE UPDATE OF incident_id, person_id, organisation_id ON incident_recipients
  FOR EACH ROW WHEN ((OLD.incident_id, OLD.person_id, OLD.organisation_id) IS DISTINCT FROM (NEW.incident_id, NEW.person_id, NEW.organisation_id))
  EXECUTE FUNCTION refuse_changing_what_recipients_refer_to();
CREATE TRIGGER incidents_no_truncate BEFORE TRUNCATE ON incidents
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_changing_what_recipients_refer_to();
CREATE TRIGGER people_no_truncate BEFORE TRUNCATE ON people
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_changing_what_recipients_refer_to();
