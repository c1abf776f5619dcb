-- Up Migration

-- One discovery of a provider's customers and tenants. Progress is kept per tenant so a retried
-- or resumed discovery continues where it stopped; `provider show` and the CLI read it.
CREATE TABLE discovery_run (
  id                text PRIMARY KEY,
  provider_id       text NOT NULL REFERENCES provider (id),
  status            text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED')),
  customers_listed  boolean NOT NULL DEFAULT false,
  services_created  integer NOT NULL DEFAULT 0,
  flagged_gone      integer NOT NULL DEFAULT 0,
  error             text,
  started_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz
);
-- At most one open discovery per provider: a resumed one continues it.
CREATE UNIQUE INDEX discovery_run_open ON discovery_run (provider_id) WHERE status <> 'COMPLETED';

CREATE TABLE discovery_tenant (
  discovery_id           text NOT NULL REFERENCES discovery_run (id) ON DELETE CASCADE,
  tenant_id              text NOT NULL CHECK (tenant_id = lower(tenant_id)),
  customer_id            text,
  customer_name          text,
  contract_agreement_id  text,
  done                   boolean NOT NULL DEFAULT false,
  PRIMARY KEY (discovery_id, tenant_id)
);
CREATE INDEX discovery_tenant_pending ON discovery_tenant (discovery_id, contract_agreement_id) WHERE NOT done;

-- Set when a provider's onboarding (discovery, tenant workflows, schedule) has finished once.
ALTER TABLE provider ADD COLUMN onboarded_at timestamptz;
UPDATE provider SET onboarded_at = created_at;

-- Down Migration
ALTER TABLE provider DROP COLUMN onboarded_at;
DROP TABLE discovery_tenant;
DROP TABLE discovery_run;
