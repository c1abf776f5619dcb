-- Up Migration

-- People who sign in to the web console. Passwords are argon2id hashes, never plaintext.
CREATE TABLE console_user (
  id                   bigserial PRIMARY KEY,
  username             text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{0,63}$'),
  password_hash        text NOT NULL,
  role                 text NOT NULL CHECK (role IN ('viewer', 'billing', 'admin')),
  created_at           timestamptz NOT NULL DEFAULT now(),
  password_changed_at  timestamptz NOT NULL DEFAULT now()
);

-- A signed-in browser. Only the SHA-256 of the cookie's token is stored: a database dump
-- cannot be replayed as a session. Removing a user ends their sessions.
CREATE TABLE console_session (
  token_hash    text PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES console_user (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  remote_addr   text,
  flash         jsonb
);
CREATE INDEX console_session_user ON console_session (user_id);

-- Who did what that is not already in a domain audit table (quarantine_action, licence_event):
-- sign-ins (and failed ones), user management, rate card changes with the old and new rule.
CREATE TABLE audit_event (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text NOT NULL,
  source       text NOT NULL CHECK (source IN ('console', 'cli', 'system')),
  kind         text NOT NULL,
  provider_id  text,
  subject      text,
  old_value    jsonb,
  new_value    jsonb,
  detail       text,
  remote_addr  text
);
CREATE INDEX audit_event_kind ON audit_event (kind, id);
CREATE INDEX audit_event_provider ON audit_event (provider_id, id) WHERE provider_id IS NOT NULL;

-- Down Migration
DROP TABLE audit_event, console_session, console_user;
