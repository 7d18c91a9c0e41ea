-- Running a school and an organisation: one-time invite and reset links, sign-in with the
-- organisation's own accounts (OpenID Connect), a site's details and its own instruction per alarm
-- type, and reminders from device health. Idempotent: every statement may run twice.

-- An e-mail address is unique within an organisation, no longer across all of them. A global
-- uniqueness let any admin learn which addresses another organisation uses (409 email_taken), and
-- nothing needs it: sign-in finds the person whose password matches among those with the address,
-- and OpenID Connect and the CSV import match within one organisation.
DROP INDEX IF EXISTS people_email_idx;
CREATE UNIQUE INDEX IF NOT EXISTS people_organisation_email_idx ON people (organisation_id, email);
CREATE INDEX IF NOT EXISTS people_email_lookup_idx ON people (email);

-- The subject (sub) the organisation's OpenID provider gives the person, stored at their first
-- sign-in through it: later sign-ins match by it even after the address changes.
ALTER TABLE people ADD COLUMN IF NOT EXISTS oidc_subject text CHECK (length(oidc_subject) BETWEEN 1 AND 255);
CREATE UNIQUE INDEX IF NOT EXISTS people_oidc_subject_idx ON people (organisation_id, oidc_subject) WHERE oidc_subject IS NOT NULL;

-- One-time links an admin hands out (shown, and e-mailed where SMTP is configured): an invitation
-- to set a first password, or a reset. Only the token's hash is kept; a link works once, until it expires.
CREATE TABLE IF NOT EXISTS access_links (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  purpose text NOT NULL CHECK (purpose IN ('invite', 'reset')),
  token_hash bytea NOT NULL UNIQUE,
  created_by uuid REFERENCES people (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS access_links_open_idx ON access_links (person_id) WHERE used_at IS NULL AND revoked_at IS NULL;

-- How an organisation's people sign in: with passwords (default), and/or through its own OpenID
-- provider (authorization code with PKCE). The client secret is never sent back by the API.
CREATE TABLE IF NOT EXISTS organisation_sign_in (
  organisation_id uuid PRIMARY KEY REFERENCES organisations (id),
  password_sign_in boolean NOT NULL DEFAULT true,
  oidc_enabled boolean NOT NULL DEFAULT false,
  oidc_issuer text CHECK (oidc_issuer ~ '^https?://' AND length(oidc_issuer) <= 500),
  oidc_client_id text CHECK (length(oidc_client_id) BETWEEN 1 AND 255),
  oidc_client_secret text CHECK (length(oidc_client_secret) BETWEEN 1 AND 1000),
  -- Create a person (staff, no site) for someone the provider vouches for but Samlarm does not know.
  oidc_create_accounts boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (NOT oidc_enabled OR (oidc_issuer IS NOT NULL AND oidc_client_id IS NOT NULL))
);

-- Sign-ins through an OpenID provider under way: the state (hashed), nonce and PKCE verifier of
-- each, kept in Postgres so that the callback may land on any node. Accepted ones wait for the web
-- app to exchange a one-time handoff (hashed) for a session.
CREATE TABLE IF NOT EXISTS oidc_logins (
  state_hash bytea PRIMARY KEY,
  organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  session_kind session_kind NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  person_id uuid REFERENCES people (id) ON DELETE CASCADE,
  handoff_hash bytea UNIQUE,
  handoff_expires_at timestamptz,
  callback_at timestamptz,
  used_at timestamptz
);
CREATE INDEX IF NOT EXISTS oidc_logins_expires_idx ON oidc_logins (expires_at);

-- What staff need to know about a site's building when an alarm comes.
ALTER TABLE sites ADD COLUMN IF NOT EXISTS building_notes text CHECK (length(building_notes) <= 2000);
ALTER TABLE sites ADD COLUMN IF NOT EXISTS floor_notes text CHECK (length(floor_notes) <= 2000);
ALTER TABLE sites ADD COLUMN IF NOT EXISTS assembly_point text CHECK (length(assembly_point) <= 500);

-- A site's own instruction for an alarm type (e.g. "Återsamling på fotbollsplanen"), shown with the
-- alarm next to the type's own instruction.
CREATE TABLE IF NOT EXISTS site_alarm_instructions (
  site_id uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  alarm_type_id uuid NOT NULL REFERENCES alarm_types (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  instruction_sv text NOT NULL CHECK (length(instruction_sv) BETWEEN 1 AND 1000),
  instruction_en text NOT NULL CHECK (length(instruction_en) BETWEEN 1 AND 1000),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, alarm_type_id)
);

-- Who was reminded from device health to make a device ready for alarms, how, when and by whom.
CREATE TABLE IF NOT EXISTS device_reminders (
  id bigserial PRIMARY KEY,
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  site_id uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  person_id uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  reminded_by uuid REFERENCES people (id) ON DELETE SET NULL,
  channel text NOT NULL CHECK (channel IN ('push', 'email', 'sms', 'none')),
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS device_reminders_site_idx ON device_reminders (site_id, person_id, at DESC);

-- Sign-in failures are counted per address and client address together: one client's failures
-- slow that client down without locking the address's owner out elsewhere.
CREATE INDEX IF NOT EXISTS login_failures_email_ip_idx ON login_failures (email, ip, failed_at);
