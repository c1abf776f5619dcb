-- Up Migration

-- Alert rule settings an admin changed (csp alerts set): per provider, or '*' for every provider.
-- A rule or field not set here uses the default in core/alerts.ts.
CREATE TABLE alert_rule_setting (
  provider_id  text NOT NULL,
  rule         text NOT NULL,
  enabled      boolean,
  threshold    numeric CHECK (threshold >= 0),
  updated_by   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_id, rule)
);

-- One row per alert occurrence. At most one is FIRING per (provider, rule, subject): a retried or
-- concurrent evaluation cannot start the same occurrence twice.
CREATE TABLE alert (
  id           bigserial PRIMARY KEY,
  provider_id  text NOT NULL,
  rule         text NOT NULL,
  subject      text NOT NULL,
  status       text NOT NULL CHECK (status IN ('FIRING', 'RESOLVED')),
  summary      text NOT NULL,
  details      jsonb NOT NULL DEFAULT '{}',
  fired_at     timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz
);
CREATE UNIQUE INDEX alert_open_once ON alert (provider_id, rule, subject) WHERE status = 'FIRING';

-- One message per (alert, firing or resolved, channel), created with the alert in one transaction.
-- SENT is final: a retried activity or a restarted worker finds it and sends nothing.
CREATE TABLE alert_delivery (
  id             bigserial PRIMARY KEY,
  alert_id       bigint NOT NULL REFERENCES alert (id),
  kind           text NOT NULL CHECK (kind IN ('FIRING', 'RESOLVED')),
  channel        text NOT NULL,
  status         text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'ABANDONED')),
  attempts       integer NOT NULL DEFAULT 0,
  last_error     text,
  claimed_until  timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  sent_at        timestamptz,
  UNIQUE (alert_id, kind, channel)
);
CREATE INDEX alert_delivery_pending ON alert_delivery (id) WHERE status = 'PENDING';

-- The quarantine waiting right after each completed cycle, for "grew since the last cycle".
CREATE TABLE quarantine_snapshot (
  cycle_id     text PRIMARY KEY,
  provider_id  text NOT NULL,
  lines        bigint NOT NULL,
  amount       numeric NOT NULL,
  taken_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_snapshot_provider ON quarantine_snapshot (provider_id, taken_at DESC);

-- Down Migration
DROP TABLE quarantine_snapshot, alert_delivery, alert, alert_rule_setting;
