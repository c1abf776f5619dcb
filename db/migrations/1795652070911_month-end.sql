-- Up Migration

-- Month end (issue #15): period close, accepted revisions, invoice reconciliation, exports.

-- A month of a provider's charges, once an admin closed it (or reopened it, with a reason).
CREATE TABLE billing_period (
  provider_id  text NOT NULL REFERENCES provider (id),
  period       text NOT NULL CHECK (period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  status       text NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
  changed_by   text NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  reason       text,
  PRIMARY KEY (provider_id, period)
);

-- The audit trail of closes and reopens.
CREATE TABLE billing_period_event (
  id           bigserial PRIMARY KEY,
  provider_id  text NOT NULL REFERENCES provider (id),
  period       text NOT NULL,
  action       text NOT NULL CHECK (action IN ('close', 'reopen')),
  actor        text NOT NULL,
  reason       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (action = 'close' OR (reason IS NOT NULL AND btrim(reason) <> ''))
);

CREATE FUNCTION billing_period_is_closed(p_provider text, p_period text) RETURNS boolean
  LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM billing_period WHERE provider_id = p_provider AND period = p_period AND status = 'CLOSED')
  $$;

-- The first month from p_period on that is not closed: where a charge for p_period can land.
CREATE FUNCTION open_billing_period_from(p_provider text, p_period text) RETURNS text
  LANGUAGE plpgsql STABLE AS $$
    DECLARE m date := to_date(p_period || '-01', 'YYYY-MM-DD');
    BEGIN
      WHILE billing_period_is_closed(p_provider, to_char(m, 'YYYY-MM')) LOOP
        m := (m + interval '1 month')::date;
      END LOOP;
      RETURN to_char(m, 'YYYY-MM');
    END
  $$;

-- Charges become entries: a CHARGE, or a CREDIT that reverses one (an accepted revision).
-- usage_period is the month the usage belongs to; billing_period the month it is invoiced in
-- (they differ for an adjustment landing in an open month because its own month is closed).
-- A RecordId has at most one live CHARGE: the database refuses a second one.
ALTER TABLE usage_charge
  ADD COLUMN entry text NOT NULL DEFAULT 'CHARGE' CHECK (entry IN ('CHARGE', 'CREDIT')),
  ADD COLUMN live boolean NOT NULL DEFAULT true,
  ADD COLUMN usage_period text,
  ADD COLUMN reverses_charge_id bigint UNIQUE REFERENCES usage_charge (id),
  ADD COLUMN replaces_charge_id bigint UNIQUE REFERENCES usage_charge (id),
  ADD CONSTRAINT usage_charge_credit_reverses CHECK ((entry = 'CREDIT') = (reverses_charge_id IS NOT NULL)),
  ADD CONSTRAINT usage_charge_credit_not_live CHECK (entry = 'CHARGE' OR NOT live);
UPDATE usage_charge SET usage_period = billing_period;
ALTER TABLE usage_charge ALTER COLUMN usage_period SET NOT NULL;
ALTER TABLE usage_charge DROP CONSTRAINT usage_charge_provider_id_record_key_key;
CREATE UNIQUE INDEX usage_charge_one_live ON usage_charge (provider_id, record_key) WHERE live;
ALTER TABLE usage_charge DROP CONSTRAINT usage_charge_usage_line_id_key;
ALTER TABLE usage_charge ADD CONSTRAINT usage_charge_line_entry UNIQUE (usage_line_id, entry);
CREATE INDEX usage_charge_period ON usage_charge (provider_id, billing_period);

-- Nothing changes a closed month's charges, whoever writes: a new entry for a closed month lands
-- in the next open one (an adjustment); updating or deleting a closed month's entry is refused.
-- The one permitted change is a live charge being superseded (live true → false) when an
-- accepted revision credits it: its amounts, period and everything else stay as invoiced.
CREATE FUNCTION usage_charge_period_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        NEW.usage_period := coalesce(NEW.usage_period, NEW.billing_period);
        NEW.billing_period := open_billing_period_from(NEW.provider_id, NEW.billing_period);
        RETURN NEW;
      ELSIF TG_OP = 'DELETE' THEN
        IF billing_period_is_closed(OLD.provider_id, OLD.billing_period) THEN
          RAISE EXCEPTION 'billing period % of provider % is closed: its charges cannot be deleted', OLD.billing_period, OLD.provider_id
            USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
      END IF;
      IF (billing_period_is_closed(OLD.provider_id, OLD.billing_period) OR billing_period_is_closed(NEW.provider_id, NEW.billing_period))
         AND ((to_jsonb(OLD) - 'live') IS DISTINCT FROM (to_jsonb(NEW) - 'live') OR (NEW.live AND NOT OLD.live)) THEN
        RAISE EXCEPTION 'billing period % of provider % is closed: its charges cannot change', OLD.billing_period, OLD.provider_id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END
  $$;
CREATE TRIGGER usage_charge_period_guard BEFORE INSERT OR UPDATE OR DELETE ON usage_charge
  FOR EACH ROW EXECUTE FUNCTION usage_charge_period_guard();

CREATE FUNCTION usage_charge_truncate_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM billing_period WHERE status = 'CLOSED') THEN
        RAISE EXCEPTION 'usage_charge holds closed billing periods: it cannot be truncated' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END
  $$;
CREATE TRIGGER usage_charge_truncate_guard BEFORE TRUNCATE ON usage_charge
  FOR EACH STATEMENT EXECUTE FUNCTION usage_charge_truncate_guard();

-- Accepting a revision is a quarantine action like the others.
ALTER TABLE quarantine_action DROP CONSTRAINT quarantine_action_action_check;
ALTER TABLE quarantine_action ADD CONSTRAINT quarantine_action_action_check CHECK (action IN ('allocate', 'cleanse', 'writeOff', 'acceptRevision'));

-- One stored reconciliation per invoice version (a hash of its lines as received).
CREATE TABLE invoice_reconciliation (
  id                bigserial PRIMARY KEY,
  provider_id       text NOT NULL REFERENCES provider (id),
  invoice_id        text NOT NULL,
  period            text NOT NULL CHECK (period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  version           text NOT NULL,
  invoice_lines     integer NOT NULL,
  report            jsonb NOT NULL,
  difference_cents  bigint NOT NULL,
  workflow_id       text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider_id, invoice_id, version)
);
CREATE INDEX invoice_reconciliation_period ON invoice_reconciliation (provider_id, period, id);

-- Set while the latest reconciliation of an invoice shows a difference: the figure, for the admin.
ALTER TABLE provider ADD COLUMN invoice_attention text;

-- How a provider's charges go into its invoicing system (Xero): ex-GST amounts with this tax type
-- and account code; invoice numbers with this prefix.
CREATE TABLE provider_invoicing (
  provider_id     text PRIMARY KEY REFERENCES provider (id),
  account_code    text NOT NULL CHECK (btrim(account_code) <> ''),
  tax_type        text NOT NULL CHECK (btrim(tax_type) <> ''),
  invoice_prefix  text NOT NULL CHECK (invoice_prefix ~ '^[A-Za-z0-9-]{1,12}$'),
  due_days        integer NOT NULL CHECK (due_days BETWEEN 0 AND 365),
  updated_by      text NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Invoice numbers, assigned once per provider, month and customer: re-exports reuse them.
CREATE TABLE export_invoice_number (
  provider_id     text NOT NULL REFERENCES provider (id),
  period          text NOT NULL,
  customer_key    text NOT NULL,
  invoice_number  text NOT NULL,
  PRIMARY KEY (provider_id, period, customer_key),
  UNIQUE (provider_id, invoice_number)
);

-- Down Migration
DROP TABLE export_invoice_number, provider_invoicing, invoice_reconciliation;
ALTER TABLE provider DROP COLUMN invoice_attention;
ALTER TABLE quarantine_action DROP CONSTRAINT quarantine_action_action_check;
ALTER TABLE quarantine_action ADD CONSTRAINT quarantine_action_action_check CHECK (action IN ('allocate', 'cleanse', 'writeOff'));
DROP TRIGGER usage_charge_truncate_guard ON usage_charge;
DROP TRIGGER usage_charge_period_guard ON usage_charge;
DROP FUNCTION usage_charge_truncate_guard(), usage_charge_period_guard();
DELETE FROM usage_charge WHERE entry = 'CREDIT';
DROP INDEX usage_charge_period;
ALTER TABLE usage_charge DROP CONSTRAINT usage_charge_line_entry;
ALTER TABLE usage_charge ADD CONSTRAINT usage_charge_usage_line_id_key UNIQUE (usage_line_id);
DROP INDEX usage_charge_one_live;
ALTER TABLE usage_charge ADD CONSTRAINT usage_charge_provider_id_record_key_key UNIQUE (provider_id, record_key);
ALTER TABLE usage_charge DROP COLUMN replaces_charge_id, DROP COLUMN reverses_charge_id, DROP COLUMN usage_period, DROP COLUMN live, DROP COLUMN entry;
DROP FUNCTION open_billing_period_from(text, text), billing_period_is_closed(text, text);
DROP TABLE billing_period_event, billing_period;
