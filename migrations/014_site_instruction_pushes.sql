-- Issue 13 item 1: everyone who works at a site learns its instruction, also those the alarm itself
-- does not target. Their pushes are outbox rows of a kind of their own (ADR 027), never an alarm.
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_kind_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_kind_check
  CHECK (kind IN ('alarm', 'reminder', 'instruction', 'message', 'all_clear', 'escalation', 'test', 'site_instruction'));
