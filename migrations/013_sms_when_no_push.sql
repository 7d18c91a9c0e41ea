-- No push device, no silence (issue 13, ADR 025): per alarm type, a recipient with no device that can
-- receive push and with a phone number gets the alarm by SMS at raise time. On for loud types, off for
-- silent ones (an SMS makes a sound: a lockdown's text must not give a hiding person away).
ALTER TABLE alarm_types ADD COLUMN sms_when_no_push boolean NOT NULL DEFAULT false;
UPDATE alarm_types SET sms_when_no_push = (sound = 'loud');

-- What the SMS gateway reported of an SMS it sent (its delivery report): delivered to the phone, or not.
-- Kept apart from `state` (what the gateway answered when we sent it); a delivered report is never undone.
ALTER TABLE deliveries
  ADD COLUMN report text CHECK (report IN ('delivered', 'failed')),
  ADD COLUMN reported_at timestamptz;

-- "Did this device's last test push fail?" is asked per subscription for every recipient at raise time.
CREATE INDEX deliveries_test_idx ON deliveries (subscription_id, id) WHERE kind = 'test';
