-- The outbox no longer references push_subscriptions by foreign key.
--
-- An alarm's pushes are queued by one INSERT ... SELECT over the recipients' subscriptions, in the
-- alarm's own transaction. With the key, a subscription deleted while that statement ran (a phone
-- registering again as its app starts, a push service answering 410) made the check fail and rolled
-- the alarm back. A row whose subscription is gone is cancelled when it is claimed instead
-- ("subscription removed"), and a delete no longer scans the outbox to set the column to null.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscription_id_fkey;

-- A session that ends (sign-out, revoked by an admin, its person deactivated) takes its push
-- subscription with it: pushes already queued for the device then find no address and are cancelled
-- when claimed, and no check of the session is needed on the sending path.
CREATE FUNCTION remove_push_subscription_of_ended_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM push_subscriptions WHERE session_id = NEW.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER sessions_revoked_remove_push_subscription
  AFTER UPDATE OF revoked_at ON sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION remove_push_subscription_of_ended_session();
