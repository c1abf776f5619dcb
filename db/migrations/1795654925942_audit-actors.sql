-- Up Migration
-- Who acted, beyond the free-text name: the operating-system user of the CLI that sent the
-- request, and the authenticated principal of a logged-in client (the web console) when there is one.
ALTER TABLE quarantine_action ADD COLUMN os_user text, ADD COLUMN principal text;
ALTER TABLE licence_change ADD COLUMN os_user text, ADD COLUMN principal text, ADD COLUMN failure text;

-- A request id is unique within its group only: a signal to group B carrying group A's id is
-- B's own action, not a replay of A's.
ALTER TABLE quarantine_action DROP CONSTRAINT quarantine_action_request_id_key;
ALTER TABLE quarantine_action ADD CONSTRAINT quarantine_action_group_request UNIQUE (group_key, request_id);

-- Down Migration
ALTER TABLE quarantine_action DROP CONSTRAINT quarantine_action_group_request;
ALTER TABLE quarantine_action ADD CONSTRAINT quarantine_action_request_id_key UNIQUE (request_id);
ALTER TABLE licence_change DROP COLUMN failure, DROP COLUMN principal, DROP COLUMN os_user;
ALTER TABLE quarantine_action DROP COLUMN principal, DROP COLUMN os_user;
