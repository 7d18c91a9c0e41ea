-- Delivery beyond open sockets: Web Push subscriptions per device, a durable outbox per
-- recipient x device x channel, and escalation steps with due times, all claimed by workers on
-- every node with FOR UPDATE SKIP LOCKED.

-- The server's VAPID key pair, made on first start unless configuration gives one. One row.
CREATE TABLE vapid_keys (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  public_key text NOT NULL,
  private_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- What a device last reported about itself (a session is a device: one per installation).
CREATE TYPE push_permission AS ENUM ('granted', 'denied', 'default', 'unsupported');
ALTER TABLE sessions
  ADD COLUMN push_permission push_permission,
  ADD COLUMN standalone boolean,
  ADD COLUMN platform text,
  ADD COLUMN status_reported_at timestamptz;

-- One push subscription per device (session); a person has as many as they have devices, capped.
CREATE TABLE push_subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  session_id uuid NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
  endpoint text NOT NULL UNIQUE,
  -- scheme://host:port of the endpoint: the unit of concurrency limits and of VAPID audience.
  origin text NOT NULL,
  p256dh text NOT NULL,
  auth text NOT NULL,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_success_at timestamptz
);
CREATE INDEX push_subscriptions_person_idx ON push_subscriptions (person_id);

-- The escalation policy of an alarm type; frozen into each incident's type snapshot when raised.
ALTER TABLE alarm_types
  ADD COLUMN push_ttl_seconds integer NOT NULL DEFAULT 600 CHECK (push_ttl_seconds BETWEEN 30 AND 86400),
  ADD COLUMN repush_after_seconds integer CHECK (repush_after_seconds BETWEEN 5 AND 3600),
  ADD COLUMN max_repushes integer NOT NULL DEFAULT 3 CHECK (max_repushes BETWEEN 0 AND 20),
  ADD COLUMN contacts_after_seconds integer CHECK (contacts_after_seconds BETWEEN 5 AND 86400),
  ADD COLUMN sms_to_contacts boolean NOT NULL DEFAULT false;
UPDATE alarm_types SET push_ttl_seconds = 900, repush_after_seconds = 60, contacts_after_seconds = 120
 WHERE organisation_id IS NULL AND key = 'inrymning';
UPDATE alarm_types SET push_ttl_seconds = 600, repush_after_seconds = 30, contacts_after_seconds = 90
 WHERE organisation_id IS NULL AND key IN ('brand', 'utrymning');
UPDATE alarm_types SET push_ttl_seconds = 900, repush_after_seconds = 120, contacts_after_seconds = 300
 WHERE organisation_id IS NULL AND key = 'hot';

-- The outbox. queued -> sending -> sent | failed | gone | cancelled; a failed attempt that may be
-- retried goes back to queued with a later due time. While sending, due_at is the end of the
-- claim's lease: a node that dies mid-send leaves a row that another node claims when it ends.
CREATE TYPE delivery_state AS ENUM ('queued', 'sending', 'sent', 'failed', 'gone', 'cancelled');
CREATE TABLE deliveries (
  id bigserial PRIMARY KEY,
  incident_id uuid REFERENCES incidents (id),
  person_id uuid REFERENCES people (id) ON DELETE CASCADE,
  subscription_id uuid REFERENCES push_subscriptions (id) ON DELETE SET NULL,
  channel text NOT NULL CHECK (channel IN ('push', 'sms')),
  kind text NOT NULL CHECK (kind IN ('alarm', 'reminder', 'instruction', 'message', 'all_clear', 'escalation', 'test')),
  origin text NOT NULL,
  -- The phone number of an SMS; null for pushes (the subscription holds the address).
  address text,
  payload jsonb NOT NULL,
  topic text,
  ttl_seconds integer NOT NULL,
  state delivery_state NOT NULL DEFAULT 'queued',
  attempts integer NOT NULL DEFAULT 0,
  due_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  claim uuid,
  claimed_by text,
  last_status integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
-- The workers' claim query: due rows that are queued or whose lease ran out.
CREATE INDEX deliveries_due_idx ON deliveries (due_at, id) WHERE state IN ('queued', 'sending');
CREATE INDEX deliveries_incident_idx ON deliveries (incident_id, person_id);

-- Escalation steps of an incident, due at times computed from its frozen policy.
CREATE TABLE escalation_steps (
  id bigserial PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  step text NOT NULL CHECK (step IN ('repush', 'contacts')),
  round integer NOT NULL DEFAULT 1,
  due_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'cancelled')),
  claim uuid,
  finished_at timestamptz,
  UNIQUE (incident_id, step, round)
);
CREATE INDEX escalation_steps_due_idx ON escalation_steps (due_at) WHERE state IN ('pending', 'running');

-- Delivery attempts are part of the timeline for review, but never sent to devices.
ALTER TYPE event_audience ADD VALUE 'review';
-- Catch-up reads only what devices may see: without this, a device catching up after a large alarm
-- would walk past every delivery attempt of it. (Spelled without 'review', which cannot be used in
-- the transaction that adds it.)
CREATE INDEX incident_events_device_idx ON incident_events (incident_id, id) WHERE audience IN ('all', 'leads');
