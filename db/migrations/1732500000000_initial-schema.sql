-- Up Migration

-- A reseller onboarded with its Rhipe credentials. The secret is only ever stored encrypted.
CREATE TABLE provider (
  id                 text PRIMARY KEY,
  name               text NOT NULL,
  client_id          text NOT NULL UNIQUE,
  secret_ciphertext  text NOT NULL,
  currency           text NOT NULL DEFAULT 'AUD',
  time_zone          text NOT NULL,
  cycle_times        text[] NOT NULL,
  status             text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'NEEDS_ATTENTION', 'REMOVED')),
  attention_reason   text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  removed_at         timestamptz
);

-- One Microsoft tenant of an end customer = one service of the provider (service type 5315).
CREATE SEQUENCE service_number START 1001;
CREATE TABLE service (
  id                     text PRIMARY KEY DEFAULT ('S-' || nextval('service_number')),
  provider_id            text NOT NULL REFERENCES provider (id),
  tenant_id              text NOT NULL CHECK (tenant_id = lower(tenant_id)),
  tenant_domain          text,
  customer_id            text,
  customer_name          text,
  client_ref             text,
  contract_agreement_id  text,
  service_type_id        integer NOT NULL DEFAULT 5315,
  service_type_name      text NOT NULL DEFAULT 'Microsoft CSP - Rhipe',
  carrier                text NOT NULL DEFAULT 'Rhipe',
  cancelled_on           date,
  carrier_status         text,
  gone_at_carrier_since  timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider_id, tenant_id)
);

-- Tenants an admin allocated to a service from quarantine: later cycles bill them directly.
CREATE TABLE tenant_allocation (
  provider_id   text NOT NULL REFERENCES provider (id),
  tenant_id     text NOT NULL,
  service_id    text NOT NULL REFERENCES service (id),
  allocated_by  text NOT NULL,
  allocated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_id, tenant_id)
);

CREATE TABLE rate_card (
  provider_id             text PRIMARY KEY REFERENCES provider (id),
  currency                text NOT NULL,
  default_markup_percent  numeric,
  updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rate_rule (
  id           bigserial PRIMARY KEY,
  provider_id  text NOT NULL REFERENCES provider (id),
  product_id   text NOT NULL CHECK (product_id = lower(product_id)),
  service_id   text REFERENCES service (id),
  kind         text NOT NULL CHECK (kind IN ('price', 'rrp', 'markup')),
  value        numeric CHECK ((kind = 'rrp') = (value IS NULL)),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (provider_id, product_id, service_id)
);

-- One row per usage cycle (the workflow id); its summary is the workflow's result.
CREATE TABLE cycle_run (
  id            text PRIMARY KEY,
  provider_id   text NOT NULL REFERENCES provider (id),
  status        text NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED')),
  window_start  date NOT NULL,
  window_end    date NOT NULL,
  next_page     integer NOT NULL DEFAULT 1,
  last_fingerprint text,
  fetch_done    boolean NOT NULL DEFAULT false,
  fetched       bigint NOT NULL DEFAULT 0,
  repeats       bigint NOT NULL DEFAULT 0,
  summary       jsonb,
  error         text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);

-- Every usage line exactly as received, once per (RecordId, content). An exact repeat never gets
-- a second row; a revision of a known RecordId does, and is quarantined as DUPLICATE_USAGE.
CREATE TABLE usage_line (
  id             bigserial PRIMARY KEY,
  provider_id    text NOT NULL REFERENCES provider (id),
  record_key     text NOT NULL,
  content_hash   text NOT NULL,
  raw            text NOT NULL,
  tenant_ref     text,
  product_ref    text,
  charge_start   text,
  sub_total      numeric,
  first_cycle_id text NOT NULL,
  status         text NOT NULL DEFAULT 'NEW' CHECK (status IN ('NEW', 'COMPLETED', 'QUARANTINED', 'CLEANSED', 'WRITTEN_OFF', 'DUPLICATE')),
  reason         text CHECK (reason IN ('INVALID_RECORD', 'DUPLICATE_USAGE', 'CURRENCY_MISMATCH', 'NON_EXISTENT_SERVICE', 'SERVICE_INACTIVE', 'NO_RATE_CARD')),
  reason_detail  text,
  service_id     text,
  group_key      text,
  mediated_cycle_id text,
  received_at    timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider_id, record_key, content_hash)
);
CREATE INDEX usage_line_pending ON usage_line (provider_id, id) WHERE status IN ('NEW', 'CLEANSED');
CREATE INDEX usage_line_quarantine ON usage_line (group_key) WHERE status = 'QUARANTINED';
CREATE INDEX usage_line_mediated_cycle ON usage_line (mediated_cycle_id);


-- The misc usage bucket: one charge per billed line, keyed by product GUID.
-- UNIQUE (provider_id, record_key) is the database's own guarantee that a RecordId is billed once.
CREATE TABLE usage_charge (
  id              bigserial PRIMARY KEY,
  usage_line_id   bigint NOT NULL UNIQUE REFERENCES usage_line (id),
  provider_id     text NOT NULL REFERENCES provider (id),
  record_key      text NOT NULL,
  service_id      text NOT NULL REFERENCES service (id),
  billing_period  text NOT NULL CHECK (billing_period ~ '^\d{4}-\d{2}$'),
  product_key     text NOT NULL,
  units           numeric NOT NULL,
  unit_rate       numeric NOT NULL,
  billable_ratio  numeric NOT NULL,
  carrier_cost    numeric(38, 4) NOT NULL,
  charge          numeric(38, 4) NOT NULL,
  margin          numeric(38, 4) NOT NULL,
  rule_kind       text NOT NULL,
  cycle_id        text,
  charge_start    text NOT NULL,
  charge_end      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider_id, record_key)
);
CREATE INDEX usage_charge_bucket ON usage_charge (provider_id, service_id, billing_period, product_key);
CREATE INDEX usage_charge_cycle ON usage_charge (cycle_id);

CREATE VIEW misc_usage_bucket AS
  SELECT provider_id, service_id, billing_period, product_key,
         count(*) AS lines, sum(units) AS units, sum(carrier_cost) AS carrier_cost,
         sum(charge) AS charge, sum(margin) AS margin
    FROM usage_charge
   GROUP BY provider_id, service_id, billing_period, product_key;

-- Audit trail of every quarantine action, applied or rejected. request_id makes a re-delivered
-- signal or a retried activity write (and act) once.
CREATE TABLE quarantine_action (
  id             bigserial PRIMARY KEY,
  request_id     text NOT NULL UNIQUE,
  provider_id    text NOT NULL,
  group_key      text NOT NULL,
  action         text NOT NULL CHECK (action IN ('allocate', 'cleanse', 'writeOff')),
  actor          text NOT NULL,
  note           text,
  params         jsonb NOT NULL DEFAULT '{}',
  outcome        text NOT NULL CHECK (outcome IN ('APPLIED', 'REJECTED')),
  rejection      text,
  line_ids       bigint[] NOT NULL DEFAULT '{}',
  billed         integer NOT NULL DEFAULT 0,
  requarantined  integer NOT NULL DEFAULT 0,
  written_off    integer NOT NULL DEFAULT 0,
  amount         numeric(38, 4) NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_action_group ON quarantine_action (group_key, id);

-- Licences (subscriptions and add-ons) as last seen at the carrier, and every change to them.
CREATE TABLE licence (
  provider_id             text NOT NULL REFERENCES provider (id),
  tenant_id               text NOT NULL,
  subscription_id         text NOT NULL,
  parent_subscription_id  text,
  product_id              text NOT NULL,
  product_name            text,
  quantity                integer NOT NULL,
  status                  text NOT NULL,
  billing_cycle           text,
  updated_at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_id, subscription_id)
);

CREATE TABLE licence_change (
  change_id     text PRIMARY KEY,
  provider_id   text NOT NULL REFERENCES provider (id),
  tenant_id     text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('order', 'setQuantity', 'cancelService', 'reactivateService')),
  request       jsonb NOT NULL,
  requested_by  text NOT NULL,
  status        text NOT NULL CHECK (status IN ('SENT', 'DONE', 'FAILED')),
  result        jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz
);

CREATE TABLE licence_event (
  id               bigserial PRIMARY KEY,
  provider_id      text NOT NULL,
  tenant_id        text NOT NULL,
  subscription_id  text,
  source           text NOT NULL CHECK (source IN ('THIS_SYSTEM', 'OFFICE365_OR_CARRIER_PORTAL', 'DISCOVERY')),
  kind             text NOT NULL,
  old_value        text,
  new_value        text,
  change_id        text,
  observed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX licence_event_tenant ON licence_event (provider_id, tenant_id, id);
-- A retried reconcile or change records each difference once.
CREATE UNIQUE INDEX licence_event_once ON licence_event (change_id, coalesce(subscription_id, ''), kind) WHERE change_id IS NOT NULL;

-- Down Migration
DROP TABLE licence_event, licence_change, licence, quarantine_action;
DROP VIEW misc_usage_bucket;
DROP TABLE usage_charge, usage_line, cycle_run, rate_rule, rate_card, tenant_allocation, service, provider;
DROP SEQUENCE service_number;
