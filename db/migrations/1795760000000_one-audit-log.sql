-- Up Migration
-- One audit log: every admin action, applied or refused, from the CLI, the console, Temporal
-- signals and the system itself. The earlier columns stay (kind, subject, old/new value, detail,
-- remote_addr); existing rows get the new ones from them. A row written without an action (an
-- older writer) reads as its kind.
ALTER TABLE audit_event
  ADD COLUMN action     text,
  ADD COLUMN target     text,
  ADD COLUMN outcome    text NOT NULL DEFAULT 'APPLIED' CHECK (outcome IN ('APPLIED', 'REFUSED')),
  ADD COLUMN reason     text,
  ADD COLUMN details    jsonb,
  ADD COLUMN os_user    text,
  ADD COLUMN principal  text;

ALTER TABLE audit_event DROP CONSTRAINT audit_event_source_check;
ALTER TABLE audit_event ADD CONSTRAINT audit_event_source_check
  CHECK (source IN ('console', 'cli', 'temporal', 'system'));

UPDATE audit_event SET
  action    = kind,
  target    = subject,
  outcome   = CASE WHEN kind IN ('login.failed', 'login.rate-limited') THEN 'REFUSED' ELSE 'APPLIED' END,
  reason    = CASE WHEN kind IN ('login.failed', 'login.rate-limited') THEN detail END,
  principal = CASE WHEN source = 'console' AND kind NOT IN ('login.failed', 'login.rate-limited') THEN actor END,
  os_user   = CASE WHEN source = 'cli' THEN actor END;

-- The audit listing: newest first (by when, as people read it: a row's time is its transaction's
-- start, so ids can commit out of that order), and its filters.
CREATE INDEX audit_event_at ON audit_event (at DESC, id DESC);
CREATE INDEX audit_event_action ON audit_event (action, id);
CREATE INDEX audit_event_actor ON audit_event (actor, id);

-- Down Migration
DROP INDEX audit_event_actor;
DROP INDEX audit_event_action;
DROP INDEX audit_event_at;
DELETE FROM audit_event WHERE source = 'temporal';
ALTER TABLE audit_event DROP CONSTRAINT audit_event_source_check;
ALTER TABLE audit_event ADD CONSTRAINT audit_event_source_check CHECK (source IN ('console', 'cli', 'system'));
ALTER TABLE audit_event
  DROP COLUMN principal,
  DROP COLUMN os_user,
  DROP COLUMN details,
  DROP COLUMN reason,
  DROP COLUMN outcome,
  DROP COLUMN target,
  DROP COLUMN action;
