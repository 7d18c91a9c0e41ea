-- The alarm's busiest tables check their references once per statement instead of once per row (ADR 031).
--
-- A raise writes its recipients with one INSERT ... SELECT; their receipts and the timeline events those
-- cause arrive in batches of hundreds. Each foreign key ran a lookup of its own for every row: for an
-- alarm to 5,000 people, 15,000 for the recipients before the presser had an answer (two thirds of that
-- statement), then 10,000 for the receipts and 20,000 for the events, the latter while holding the
-- timeline's ordering lock that every other alarm's commit waits for. The triggers below make the same
-- checks with one lookup per referenced table for the whole statement, and take the locks a foreign key
-- takes (FOR KEY SHARE on each row referred to), so that a referenced row deleted at the same time can
-- never leave a reference behind: whichever of the two comes second waits for the first, then fails.
--
-- What they check (foreign_key_violation, the constraint named below, when anything fails):
-- - a recipient's incident exists and its organisation is the incident's; its person exists;
-- - a receipt is a recipient's (the incident and the person together);
-- - an event's incident exists, with the organisation and site the event names; its actor exists.
-- The keys only checked each column apart; the organisation and site now have to be the incident's own.
-- Their other side: a person, an incident or a recipient that something refers to is not deleted or
-- truncated, and what identifies a row never changes.
ALTER TABLE incident_recipients
  DROP CONSTRAINT incident_recipients_incident_id_fkey,
  DROP CONSTRAINT incident_recipients_person_id_fkey,
  DROP CONSTRAINT incident_recipients_organisation_id_fkey;
ALTER TABLE incident_receipts
  DROP CONSTRAINT incident_receipts_incident_id_fkey,
  DROP CONSTRAINT incident_receipts_person_id_fkey;
ALTER TABLE incident_events
  DROP CONSTRAINT incident_events_incident_id_fkey,
  DROP CONSTRAINT incident_events_organisation_id_fkey,
  DROP CONSTRAINT incident_events_site_id_fkey,
  DROP CONSTRAINT incident_events_actor_person_id_fkey;

CREATE FUNCTION refuse_dangling_reference(tbl text, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', what USING ERRCODE = 'foreign_key_violation', TABLE = tbl, CONSTRAINT = tbl || '_references';
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
    PERFORM refuse_dangling_reference('incident_recipients', 'a recipient refers to no incident or person, or to an incident of another organisation');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER incident_recipients_references AFTER INSERT ON incident_recipients
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION incident_recipients_check_references();

CREATE FUNCTION incident_receipts_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM (
        SELECT 1 FROM incident_recipients r WHERE (r.incident_id, r.person_id) IN (SELECT incident_id, person_id FROM added) FOR KEY SHARE
      ) x) <> (SELECT count(DISTINCT (incident_id, person_id)) FROM added)
  THEN
    PERFORM refuse_dangling_reference('incident_receipts', 'a receipt is not of one of the incident''s recipients');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER incident_receipts_references AFTER INSERT ON incident_receipts
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION incident_receipts_check_references();

CREATE FUNCTION incident_events_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM (
        SELECT 1 FROM incidents i WHERE (i.id, i.organisation_id, i.site_id) IN (SELECT incident_id, organisation_id, site_id FROM added) FOR KEY SHARE
      ) x) <> (SELECT count(DISTINCT (incident_id, organisation_id, site_id)) FROM added)
  OR (SELECT count(*) FROM (SELECT 1 FROM people p WHERE p.id IN (SELECT actor_person_id FROM added) FOR KEY SHARE) x)
      <> (SELECT count(DISTINCT actor_person_id) FROM added)
  THEN
    PERFORM refuse_dangling_reference('incident_events', 'an event refers to no incident or actor, or to another organisation or site than its incident''s');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER incident_events_references AFTER INSERT ON incident_events
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION incident_events_check_references();

-- The deleting statement checks once its rows are gone, so it also sees references committed while it
-- waited for their lock.
CREATE FUNCTION refuse_deleting_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'incidents' THEN
    PERFORM 1 FROM gone g
     WHERE EXISTS (SELECT 1 FROM incident_recipients r WHERE r.incident_id = g.id)
        OR EXISTS (SELECT 1 FROM incident_events e WHERE e.incident_id = g.id)
     LIMIT 1;
  ELSIF TG_TABLE_NAME = 'people' THEN
    PERFORM 1 FROM gone g
     WHERE EXISTS (SELECT 1 FROM incident_recipients r WHERE r.person_id = g.id)
        OR EXISTS (SELECT 1 FROM incident_events e WHERE e.actor_person_id = g.id)
     LIMIT 1;
  ELSE
    PERFORM 1 FROM gone g
     WHERE EXISTS (SELECT 1 FROM incident_receipts x WHERE x.incident_id = g.incident_id AND x.person_id = g.person_id)
     LIMIT 1;
  END IF;
  IF FOUND THEN
    PERFORM refuse_dangling_reference(TG_TABLE_NAME::text, format('an alarm''s records still refer to this row of %s', TG_TABLE_NAME));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER incidents_still_referenced AFTER DELETE ON incidents
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_referenced();
CREATE TRIGGER people_still_referenced AFTER DELETE ON people
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_referenced();
CREATE TRIGGER incident_recipients_still_referenced AFTER DELETE ON incident_recipients
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION refuse_deleting_referenced();

CREATE FUNCTION refuse_changing_reference() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM refuse_dangling_reference(TG_TABLE_NAME::text, format('%s is not truncated: an alarm''s records refer to it', TG_TABLE_NAME));
  END IF;
  PERFORM refuse_dangling_reference(TG_TABLE_NAME::text, format('what identifies a row of %s never changes', TG_TABLE_NAME));
  RETURN NULL;
END;
$$;
CREATE TRIGGER incidents_id_never_changes BEFORE UPDATE OF id ON incidents
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_changing_reference();
CREATE TRIGGER people_id_never_changes BEFORE UPDATE OF id ON people
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_changing_reference();
CREATE TRIGGER incident_recipients_references_never_change BEFORE UPDATE OF incident_id, person_id, organisation_id ON incident_recipients
  FOR EACH ROW WHEN ((OLD.incident_id, OLD.person_id, OLD.organisation_id) IS DISTINCT FROM (NEW.incident_id, NEW.person_id, NEW.organisation_id))
  EXECUTE FUNCTION refuse_changing_reference();
CREATE TRIGGER incident_receipts_references_never_change BEFORE UPDATE OF incident_id, person_id ON incident_receipts
  FOR EACH ROW WHEN ((OLD.incident_id, OLD.person_id) IS DISTINCT FROM (NEW.incident_id, NEW.person_id))
  EXECUTE FUNCTION refuse_changing_reference();
CREATE TRIGGER incidents_no_truncate BEFORE TRUNCATE ON incidents
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_changing_reference();
CREATE TRIGGER people_no_truncate BEFORE TRUNCATE ON people
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_changing_reference();
CREATE TRIGGER incident_recipients_no_truncate BEFORE TRUNCATE ON incident_recipients
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_changing_reference();
