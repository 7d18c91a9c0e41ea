-- The timeline's epoch (ADR 029): a random id that devices keep with their cursor. Event ids are only
-- comparable within one epoch: a database restored from a backup reuses ids that devices already hold,
-- so the restore procedure draws a new epoch (npm run db:new-epoch) and every device resyncs instead of
-- skipping the events that reuse its ids. One row, which the alarms module owns.
CREATE TABLE IF NOT EXISTS timeline_epoch (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  epoch uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO timeline_epoch DEFAULT VALUES ON CONFLICT DO NOTHING;
