-- The outbox no longer references push_subscriptions by foreign key.
--
-- An alarm's pushes are queued by one INSERT ... SELECT over the recipients' subscriptions, in the
-- alarm's own transaction. With the key, a subscription deleted while that statement ran (a phone
-- registering again as its app starts, a push service answering 410) made the check fail and rolled
-- the alarm back. A row whose subscription is gone is cancelled when it is claimed instead
-- ("subscription removed"), and a delete no longer scans the outbox to set the column to null.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscription_id_fkey;
