-- Foundation: organisations, sites, people, roles, alarm types, alarm groups, sessions, audit log.
-- Leaves room for links between organisations and for incidents: every row that belongs to a
-- tenant carries organisation_id, and alarm types and groups are addressed by id, never by name.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TYPE organisation_kind AS ENUM ('forvaltning', 'bolag', 'other');
CREATE TYPE site_kind AS ENUM ('school', 'preschool', 'library', 'sports_hall', 'office', 'other');
CREATE TYPE language AS ENUM ('sv', 'en');
CREATE TYPE role_name AS ENUM ('staff', 'site_admin', 'crisis_lead', 'org_admin', 'system_admin');
CREATE TYPE sound_profile AS ENUM ('loud', 'silent');
CREATE TYPE session_kind AS ENUM ('browser', 'device');

CREATE TABLE organisations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind organisation_kind NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sites (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind site_kind NOT NULL,
  address text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_organisation_idx ON sites (organisation_id);

CREATE TABLE people (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email text NOT NULL CHECK (email = lower(email)),
  phone text,
  language language NOT NULL DEFAULT 'sv',
  password_hash text,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX people_email_idx ON people (email);
CREATE INDEX people_organisation_idx ON people (organisation_id);

-- Where a person works. A person may work at sites of their own organisation only (enforced in
-- the use cases); work at another organisation's site goes through links.
CREATE TABLE person_sites (
  person_id uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  site_id uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  PRIMARY KEY (person_id, site_id)
);
CREATE INDEX person_sites_site_idx ON person_sites (site_id);

-- A role is scoped: site_admin and crisis_lead may be scoped to one site (site_id) or to the whole
-- organisation (site_id NULL); staff and org_admin are organisation-wide; system_admin is global.
CREATE TABLE role_assignments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  role role_name NOT NULL,
  site_id uuid REFERENCES sites (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (site_id IS NULL OR role IN ('site_admin', 'crisis_lead'))
);
CREATE UNIQUE INDEX role_assignments_unique_idx
  ON role_assignments (person_id, role, coalesce(site_id, '00000000-0000-0000-0000-000000000000'));

-- Built-in types have organisation_id NULL and a fixed key; custom types belong to one organisation.
CREATE TABLE alarm_types (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id uuid REFERENCES organisations (id),
  key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{1,39}$'),
  label_sv text NOT NULL CHECK (length(label_sv) BETWEEN 1 AND 60),
  label_en text NOT NULL CHECK (length(label_en) BETWEEN 1 AND 60),
  colour text NOT NULL CHECK (colour ~ '^#[0-9a-f]{6}$'),
  icon text NOT NULL CHECK (length(icon) BETWEEN 1 AND 40),
  instruction_sv text NOT NULL CHECK (length(instruction_sv) BETWEEN 1 AND 1000),
  instruction_en text NOT NULL CHECK (length(instruction_en) BETWEEN 1 AND 1000),
  sound sound_profile NOT NULL,
  -- Higher wins when several alarms are active at one site (invariant 5).
  precedence integer NOT NULL CHECK (precedence BETWEEN 0 AND 1000),
  cap_category text NOT NULL,
  cap_event text NOT NULL,
  cap_response_type text NOT NULL,
  cap_severity text NOT NULL,
  cap_urgency text NOT NULL,
  archived boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alarm_types_builtin_key_idx ON alarm_types (key) WHERE organisation_id IS NULL;
CREATE UNIQUE INDEX alarm_types_org_key_idx ON alarm_types (organisation_id, key) WHERE organisation_id IS NOT NULL;

CREATE TABLE alarm_groups (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  site_id uuid NOT NULL REFERENCES sites (id),
  -- Denormalised from the site so tenant checks need no join.
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (site_id, name)
);
CREATE INDEX alarm_groups_organisation_idx ON alarm_groups (organisation_id);

CREATE TABLE alarm_group_members (
  group_id uuid NOT NULL REFERENCES alarm_groups (id) ON DELETE CASCADE,
  person_id uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, person_id)
);
CREATE INDEX alarm_group_members_person_idx ON alarm_group_members (person_id);

-- Per group and alarm type: do members receive it, and may members raise it at the group's site?
CREATE TABLE alarm_group_types (
  group_id uuid NOT NULL REFERENCES alarm_groups (id) ON DELETE CASCADE,
  alarm_type_id uuid NOT NULL REFERENCES alarm_types (id),
  receives boolean NOT NULL DEFAULT true,
  may_raise boolean NOT NULL DEFAULT false,
  PRIMARY KEY (group_id, alarm_type_id),
  CHECK (receives OR may_raise)
);

-- Who is alerted when members cannot be reached: a person of the organisation, or someone outside
-- it (a security company, the caretaker's phone) given by name and number.
CREATE TABLE alarm_group_escalation_contacts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  group_id uuid NOT NULL REFERENCES alarm_groups (id) ON DELETE CASCADE,
  position integer NOT NULL,
  person_id uuid REFERENCES people (id) ON DELETE CASCADE,
  name text,
  phone text,
  email text,
  CHECK (person_id IS NOT NULL OR (name IS NOT NULL AND (phone IS NOT NULL OR email IS NOT NULL))),
  UNIQUE (group_id, position)
);

CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  person_id uuid NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  token_hash bytea NOT NULL UNIQUE,
  kind session_kind NOT NULL,
  label text,
  user_agent text,
  ip text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX sessions_person_idx ON sessions (person_id) WHERE revoked_at IS NULL;

-- Failed sign-ins per e-mail address, whether or not the address exists (no enumeration).
CREATE TABLE login_failures (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  ip text,
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);

-- Append-only record of configuration changes: who, what, when, before and after.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  organisation_id uuid REFERENCES organisations (id),
  actor_person_id uuid REFERENCES people (id),
  action text NOT NULL,
  entity_type text NOT NULL,
  entity_id text NOT NULL,
  before jsonb,
  after jsonb,
  request_id text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_organisation_idx ON audit_log (organisation_id, id DESC);

CREATE FUNCTION refuse_change_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_append_only();
