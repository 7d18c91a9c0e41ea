-- A device's catch-up reads the events it may see, not every colleague's receipt.
--
-- Catch-up (src/modules/alarms/events.ts, `since`) walked, for each incident of the person, every event for all or
-- for leads after the device's cursor, and kept a leads' event only for a lead or the event's own actor. Receipts
-- are leads' events, one per recipient and kind, so a colleague who is not a lead, catching up after an alarm to
-- 5,000, walked past up to 10,000 of them to find their own one or two: in a reconnection storm (2,550 devices moving
-- to the surviving node) PostgreSQL spent about 13 ms of processor time per handshake, 33 s in all, and every
-- device's 20 s sync paid the same in an alarm's first seconds. Now the events for all, the leads' events for a
-- lead and a person's own leads' events are read apart, each by an index that holds only them.
CREATE INDEX incident_events_all_idx ON incident_events (incident_id, id) WHERE audience = 'all';
CREATE INDEX incident_events_own_idx ON incident_events (incident_id, actor_person_id, id) WHERE audience = 'leads';
